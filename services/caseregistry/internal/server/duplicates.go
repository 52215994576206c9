package server

import (
	"context"
	"errors"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

var (
	matchNameDOB  = caseregistryv1.DuplicateMatch_DUPLICATE_MATCH_NAME_AND_BIRTH_DATE
	matchDocument = caseregistryv1.DuplicateMatch_DUPLICATE_MATCH_DOCUMENT
)

// documentType is the one document type the indexes know: national ids and passports are
// matched alike, since a person's number is what identifies them whatever the paper.
const documentType = "identity-document"

// indexesToStore are the blind indexes a case is stored under: names in the given order with the
// date of birth, and the document number.
func (s *Server) indexesToStore(caseID string, id domain.Identity) []store.IndexEntry {
	var out []store.IndexEntry
	if idx := piicrypto.NameDOBIndex(s.index, id.GivenName, id.FamilyName, id.DateOfBirth); idx != "" {
		out = append(out, store.IndexEntry{Index: idx, CaseID: caseID, Match: matchNameDOB.String()})
	}
	if idx := piicrypto.DocumentIndex(s.index, documentType, id.DocumentNumber); idx != "" {
		out = append(out, store.IndexEntry{Index: idx, CaseID: caseID, Match: matchDocument.String()})
	}
	return out
}

// indexesToSearch are the indexes a search looks under: the names in either order.
func (s *Server) indexesToSearch(id domain.Identity) []string {
	out := piicrypto.NameDOBIndexes(s.index, id.GivenName, id.FamilyName, id.DateOfBirth)
	if idx := piicrypto.DocumentIndex(s.index, documentType, id.DocumentNumber); idx != "" {
		out = append(out, idx)
	}
	return out
}

// duplicates finds the cases, other than except, whose identity matches id. Index entries of a
// case that does not exist (its write failed after the indexes), whose identity was erased or
// changed, or that was merged into another are skipped.
func (s *Server) duplicates(ctx context.Context, id domain.Identity, except string) ([]*caseregistryv1.PossibleDuplicate, error) {
	entries, err := s.store.FindIndexed(ctx, s.indexesToSearch(id))
	if err != nil {
		return nil, err
	}
	byCase := map[string]*caseregistryv1.PossibleDuplicate{}
	var order []string
	for _, e := range entries {
		if e.CaseID == except {
			continue
		}
		d, seen := byCase[e.CaseID]
		if !seen {
			c, err := s.store.Get(ctx, e.CaseID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			// Skip an erased or merged identity, and an entry the case's identity no longer has
			// (it was changed since).
			if c.SealedIdentity == nil || c.MergedInto != "" || !slices.Contains(c.BlindIndexes, e.Index) {
				continue
			}
			d = &caseregistryv1.PossibleDuplicate{CaseId: c.ID, CaseCode: c.Code}
			byCase[e.CaseID] = d
			order = append(order, e.CaseID)
		}
		m := caseregistryv1.DuplicateMatch(caseregistryv1.DuplicateMatch_value[e.Match])
		if !slices.Contains(d.MatchedOn, m) {
			d.MatchedOn = append(d.MatchedOn, m)
		}
	}
	slices.Sort(order)
	out := make([]*caseregistryv1.PossibleDuplicate, len(order))
	for i, id := range order {
		out[i] = byCase[id]
	}
	return out, nil
}

// refuseDuplicates is ALREADY_EXISTS naming the cases a registration likely duplicates; with
// none given (the caller stated no purpose), it says there are some and how to learn which.
func refuseDuplicates(ds []*caseregistryv1.PossibleDuplicate) error {
	msg := "the person is likely registered already; state a purpose (x-nrm-purpose, e.g. duplicate-check) to learn which cases match"
	var meta map[string]string
	if len(ds) > 0 {
		caseCodes := make([]string, len(ds))
		ids := make([]string, len(ds))
		for i, d := range ds {
			caseCodes[i], ids[i] = d.GetCaseCode(), d.GetCaseId()
		}
		msg = "the person is likely registered already as " + strings.Join(caseCodes, ", ")
		meta = map[string]string{"case_codes": strings.Join(caseCodes, ","), "case_ids": strings.Join(ids, ",")}
	}
	msg += "; if not, register again with confirmed_different_person and a reason"
	st, err := status.New(codes.AlreadyExists, msg).WithDetails(&errdetails.ErrorInfo{
		Reason: "POSSIBLE_DUPLICATE", Domain: apierr.Domain, Metadata: meta,
	})
	if err != nil {
		return status.Error(codes.AlreadyExists, msg)
	}
	return st.Err()
}

// noteDuplicates puts the cases an answer names into the call's audit record.
func noteDuplicates(ctx context.Context, ds []*caseregistryv1.PossibleDuplicate) {
	for _, d := range ds {
		authz.NoteObjects(ctx, d.GetCaseId())
	}
}

// FindPossibleDuplicates looks for registered cases that are likely the given person.
func (s *Server) FindPossibleDuplicates(ctx context.Context, req *caseregistryv1.FindPossibleDuplicatesRequest) (*caseregistryv1.FindPossibleDuplicatesResponse, error) {
	in := req.GetIdentity()
	id := domain.Identity{GivenName: in.GetGivenName(), FamilyName: in.GetFamilyName(), DateOfBirth: in.GetDateOfBirth(), DocumentNumber: in.GetDocumentNumber()}
	if len(s.indexesToSearch(id)) == 0 {
		return nil, apierr.InvalidField("identity",
			"give a name with the date of birth (YYYY-MM-DD), or a document number, to search by")
	}
	ds, err := s.duplicates(ctx, id, "")
	if err != nil {
		return nil, err
	}
	noteDuplicates(ctx, ds)
	return &caseregistryv1.FindPossibleDuplicatesResponse{Duplicates: ds}, nil
}
