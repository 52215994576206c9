package server

import (
	"context"
	"slices"
	"strings"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// EventMerged is the type of the event a merge publishes.
const EventMerged = "case.merged"

// MergeCases joins a duplicate record into a survivor. The two records are two aggregates, so
// the merge is two commits, each with its event: first the duplicate (closed, pointing to the
// survivor: case.merged), then the survivor (listing the duplicate: case.updated). Should the second fail, the duplicate already points to the
// survivor and repeating the call completes the merge.
func (s *Server) MergeCases(ctx context.Context, req *caseregistryv1.MergeCasesRequest) (*caseregistryv1.MergeCasesResponse, error) {
	var v apierr.Violations
	if checkID(req.GetId()) != nil {
		v.Add("id", "must be the surviving case's id (a UUID)")
	}
	if checkID(req.GetDuplicateId()) != nil {
		v.Add("duplicate_id", "must be the duplicate case's id (a UUID)")
	}
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" || len(reason) > 200 {
		v.Add("reason", "state why they are the same person, 1 to 200 characters (no personal data)")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	survivor, err := s.existingCase(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	today := s.today()
	_, err = s.apply(ctx, req.GetDuplicateId(), 0, func(dup domain.Case) (outcome, error) {
		if err := domain.CheckMerge(survivor, dup); err != nil {
			return outcome{}, err
		}
		if dup.MergedInto == survivor.ID {
			return outcome{noop: true}, nil // merged before: complete the survivor's side
		}
		merged := domain.MarkMerged(dup, survivor.ID, today)
		return outcome{
			next: merged,
			change: store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_MERGED_INTO.String(),
				Fields: []string{"merged_into", "state", "closure"}, Note: reason, RelatedCaseID: survivor.ID},
			events: []event{{Type: EventMerged, Payload: &caseregistryv1.CaseMerged{
				CaseId: dup.ID, CaseCode: dup.Code, SurvivorId: survivor.ID, SurvivorCode: survivor.Code,
				Version: dup.Version + 1, Facts: facts(merged),
			}}},
			// The duplicate's identity stays sealed in it, but is no longer found: its person is
			// the survivor's.
			after: func(ctx context.Context) error { return s.store.RemoveIndexes(ctx, dup.ID, dup.BlindIndexes) },
		}, nil
	})
	if err != nil {
		return nil, err
	}
	c, err := s.apply(ctx, survivor.ID, 0, func(c domain.Case) (outcome, error) {
		if err := domain.CheckChangeable(c); err != nil {
			return outcome{}, err
		}
		if slices.Contains(c.MergedCaseIDs, req.GetDuplicateId()) {
			return outcome{noop: true}, nil
		}
		next := domain.Absorb(c, req.GetDuplicateId())
		return outcome{
			next: next,
			change: store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_ABSORBED.String(),
				Fields: []string{"merged_case_ids"}, Note: reason, RelatedCaseID: req.GetDuplicateId()},
			// Every commit publishes an event of its own case, which the list index and reporting
			// follow. case.merged is the duplicate's (one merge, one case.merged, whose facts
			// are the duplicate's); the survivor's change is a field of its own: case.updated.
			events: []event{{Type: EventUpdated, Payload: &caseregistryv1.CaseUpdated{
				CaseId: c.ID, CaseCode: c.Code, Version: c.Version + 1, Fields: []string{"merged_case_ids"}, Facts: facts(next),
			}}},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return &caseregistryv1.MergeCasesResponse{Case: s.respond(ctx, c)}, nil
}
