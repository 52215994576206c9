package server

import (
	"context"
	"time"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/pagination"
)

// ListCases lists cases, pseudonymously, in code order.
func (s *Server) ListCases(ctx context.Context, req *caseregistryv1.ListCasesRequest) (*caseregistryv1.ListCasesResponse, error) {
	size, err := pagination.Size(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	after, err := pagination.After(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	f, err := listFilter(req, domain.Today(s.now()))
	if err != nil {
		return nil, err
	}
	f.AfterCode = after
	cases, err := s.store.List(ctx, f, size+1)
	if err != nil {
		return nil, err
	}
	resp := &caseregistryv1.ListCasesResponse{}
	if len(cases) > size {
		cases = cases[:size]
		resp.NextPageToken = pagination.Token(cases[size-1].Code)
	}
	for _, c := range cases {
		resp.Cases = append(resp.Cases, toProto(c))
	}
	return resp, nil
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
