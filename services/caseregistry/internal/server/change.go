package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

// IfMatchHeader is the gRPC metadata key (REST: If-Match) carrying the etag a change is based on.
const IfMatchHeader = aggregate.IfMatchHeader

// ETagHeader is the response metadata key (REST: ETag) carrying the case's etag.
const ETagHeader = aggregate.ETagHeader

// event is one event of a change, before it is enveloped.
type event = aggregate.Event

// outcome is what a command decided: the next state of the case, the history entry, the events.
type outcome struct {
	next   domain.Case
	change store.Change // Kind, Fields, Note, RelatedCaseID; who and when are filled in by apply
	events []event
	// noop: nothing changes; the caller gets the case as it is.
	noop bool
	// after runs once the change has committed: clean-up that must not happen if it fails.
	after func(context.Context) error
}

// apply carries out a command on one case as the platform's aggregate store does
// (aggregate.Store.Execute): it loads the latest version, checks that the caller is involved in
// the case and that the version is the one expected (0: any), lets decide compute the change,
// and commits it as the next version with its events. A change that loses a race is ABORTED
// when the caller named its version; otherwise it is decided again on the new state.
func (s *Server) apply(ctx context.Context, id string, expected int64, decide func(domain.Case) (outcome, error)) (domain.Case, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return domain.Case{}, errors.New("no principal") // the guard admits none without one
	}
	who := p.Effective()
	var decided outcome
	c, committed, err := s.store.Execute(ctx, aggregate.Command[domain.Case, store.Change]{
		ID: id, Expected: expected, At: s.now(),
		Admit: func(c domain.Case) error {
			if isSystem(ctx) {
				return nil
			}
			return s.mayChange(ctx, who, c)
		},
		Decide: func(c domain.Case) (aggregate.Outcome[domain.Case, store.Change], error) {
			var err error
			decided, err = decide(c)
			return aggregate.Outcome[domain.Case, store.Change]{Next: decided.next, Change: decided.change, Events: decided.events, Noop: decided.noop}, err
		},
	})
	if err != nil || !committed {
		return c, err
	}
	s.relay.Notify()
	s.listNow(ctx, c)
	if decided.after != nil {
		if err := decided.after(ctx); err != nil {
			// Committed all the same; what after cleans up is harmless if left.
			s.log.WarnContext(ctx, "clean-up after a change failed", "case_id", c.ID, "version", c.Version, "error", err)
		}
	}
	s.log.InfoContext(ctx, "case changed", "case_id", c.ID, "case_code", c.Code, "version", c.Version,
		"change", decided.change.Kind, "fields", strings.Join(decided.change.Fields, ","))
	return c, nil
}

// mayChange lets the institutions involved in a case change it: its owner, the chair, the
// secretariat and institutions granted access.
func (s *Server) mayChange(ctx context.Context, who *auth.Principal, c domain.Case) error {
	involved, err := s.needsToKnow(ctx, who, c)
	if err != nil {
		return err
	}
	if !involved {
		return apierr.PermissionDenied("NOT_INVOLVED",
			fmt.Sprintf("%s is not involved in case %s: only its owner, the chair, the secretariat and institutions granted access change it", who.Institution, c.ID),
			map[string]string{"case_id": c.ID, "owner_institution": c.OwnerInstitution})
	}
	return nil
}

// expectedVersion is the version a change is based on: the request's field, or the etag in
// If-Match; 0 when neither names one.
func expectedVersion(ctx context.Context, field int64) (int64, error) {
	return aggregate.ExpectedVersion(ctx, "expected_version", field)
}

// respond renders the case for the caller and sends its etag as a response header.
func (s *Server) respond(ctx context.Context, c domain.Case) *caseregistryv1.Case {
	aggregate.SendETag(ctx, c.Version)
	return s.view(ctx, c)
}

// today is the calendar date in Tirana now.
func (s *Server) today() string { return domain.Today(s.now()) }

// institution is the caller's institution, as its credentials say.
func (s *Server) institution(ctx context.Context) string {
	p, _ := auth.FromContext(ctx)
	return p.Effective().Institution
}
