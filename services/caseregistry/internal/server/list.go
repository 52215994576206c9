package server

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/pagination"
)

// maxBlocksPerPage bounds the blocks of the list index one page reads (100 codes each), which
// bounds a page's cost however many cases are stored and however few match its filters.
const maxBlocksPerPage = 20

// fetchers is how many cases of a page are loaded at once.
const fetchers = 8

// ListCases lists cases, pseudonymously, in code order. It finds them through the list index,
// then loads each: the page shows the cases as they are, and leaves out any that has changed
// out of the filters since the index saw it. A page may hold fewer cases than asked for, none
// even, and still have a next page (AIP-158): it reads at most maxBlocksPerPage blocks.
func (s *Server) ListCases(ctx context.Context, req *caseregistryv1.ListCasesRequest) (*caseregistryv1.ListCasesResponse, error) {
	size, after, err := pagination.Parse(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	if after != "" && !domain.IsCode(after) {
		return nil, apierr.InvalidField("page_token", "is not a token returned by this API")
	}
	f, err := listFilter(req, domain.Today(s.now()))
	if err != nil {
		return nil, err
	}
	page, err := s.store.List(ctx, f, after, size, maxBlocksPerPage)
	if err != nil {
		return nil, err
	}
	cases, err := s.load(ctx, page.Cases)
	if err != nil {
		return nil, err
	}
	resp := &caseregistryv1.ListCasesResponse{}
	if page.After != "" {
		resp.NextPageToken = pagination.Token(page.After)
	}
	for _, c := range cases {
		if f.Matches(store.ListEntry(c)) {
			resp.Cases = append(resp.Cases, toProto(c))
		}
	}
	return resp, nil
}

// load returns the cases the entries name, in their order, a few at a time.
func (s *Server) load(ctx context.Context, entries []store.Listed) ([]domain.Case, error) {
	cases := make([]domain.Case, len(entries))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchers)
	for i, e := range entries {
		g.Go(func() error {
			c, err := s.store.Get(ctx, e.ID)
			if err != nil {
				return fmt.Errorf("list case %s: %w", e.Code, err)
			}
			cases[i] = c
			return nil
		})
	}
	return cases, g.Wait()
}

// listFilter validates the request's filters, reporting every problem at once.
func listFilter(req *caseregistryv1.ListCasesRequest, today string) (store.Filter, error) {
	var v apierr.Violations
	var f store.Filter
	enum := func(field string, n int32, names map[int32]string) string {
		if n == 0 {
			return ""
		}
		name, ok := names[n]
		if !ok {
			v.Add(field, "unknown value %d", n)
		}
		return name
	}
	f.Status = enum("trafficking_status", int32(req.GetTraffickingStatus()), caseregistryv1.TraffickingStatus_name)
	f.State = enum("state", int32(req.GetState()), caseregistryv1.CaseState_name)
	f.ExploitationType = enum("exploitation_type", int32(req.GetExploitationType()), caseregistryv1.ExploitationType_name)
	institution := func(field, code string) string {
		if code != "" && (len(code) > domain.MaxInstitutionCode || !domain.InstitutionCode(code)) {
			v.Add(field, "is not an institution code")
		}
		return code
	}
	f.IdentifyingInstitution = institution("identifying_institution", req.GetIdentifyingInstitution())
	f.Owner = institution("owner_institution", req.GetOwnerInstitution())
	if req.Minor != nil {
		m := req.GetMinor()
		f.Minor = &m
	}
	period := func(fromField, toField, from, to string) {
		for field, d := range map[string]string{fromField: from, toField: to} {
			if d != "" {
				if err := domain.CheckDate(d, today); err != nil {
					v.Add(field, "%s", err)
				}
			}
		}
		if from != "" && to != "" && from > to {
			v.Add(fromField, "is after %s", toField)
		}
	}
	period("registered_from", "registered_to", req.GetRegisteredFrom(), req.GetRegisteredTo())
	period("identified_from", "identified_to", req.GetIdentifiedFrom(), req.GetIdentifiedTo())
	f.IdentifiedFrom, f.IdentifiedTo = req.GetIdentifiedFrom(), req.GetIdentifiedTo()
	if err := v.Err(); err != nil {
		return store.Filter{}, err
	}
	// Registration dates are calendar days in Tirana; the store keeps instants.
	if d := req.GetRegisteredFrom(); d != "" {
		f.RegisteredFrom = midnight(d).UTC()
	}
	if d := req.GetRegisteredTo(); d != "" {
		f.RegisteredBefore = midnight(d).AddDate(0, 0, 1).UTC() // in Tirana: DST days are not 24 h
	}
	return f, nil
}

// midnight is the start of date in Tirana.
func midnight(date string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02", date, domain.Tirana)
	return t
}
