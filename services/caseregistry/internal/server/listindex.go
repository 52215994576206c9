package server

import (
	"context"
	"errors"
	"fmt"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/journal"
)

// The list index follows every committed change twice: at once, by the writer (listNow), and
// from the change's event, by the registry's consumer of its own case events (ListIndexer). The
// first lets a caller list what it has just changed; the second does what the first left (to
// another writer of the block, or to a crash between the commit and the index update), since an
// event is published for every commit. Each finds the other's work done by the entry's version
// and writes nothing.

// listNow brings the list index up to a change the caller has just committed, so that the
// caller's next list shows it. It does not wait for other writers of the case's block (concurrent
// registrations share one): if one commits first, or anything fails, the change stands and the
// list consumer brings the index up to date from the change's event (ListIndexer), a moment later.
func (s *Server) listNow(ctx context.Context, c domain.Case) {
	err := s.store.TryUpdateList(ctx, c)
	switch {
	case errors.Is(err, journal.ErrBusy):
		s.log.DebugContext(ctx, "list index busy; left to the list consumer", "case_id", c.ID, "case_code", c.Code, "version", c.Version)
	case err != nil:
		s.log.WarnContext(ctx, "list index not updated; the list consumer will", "case_id", c.ID, "case_code", c.Code,
			"version", c.Version, "error", err)
	}
}

// ListIndexer returns the handler of the registry's consumer of its own case events: for each
// event it brings the case's list entry up to the case's latest version. Nearly always the
// writer did so already, which two reads establish: the case, and its block.
func (s *Server) ListIndexer() consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		c, err := s.store.Get(ctx, env.GetAggregateId())
		if err == nil && c.Version < env.GetAggregateVersion() {
			c, err = s.store.Current(ctx, c.ID) // the case document is behind its revisions
		}
		if errors.Is(err, store.ErrNotFound) {
			return consumer.Permanent(fmt.Errorf("event %s: case %q does not exist", env.GetId(), env.GetAggregateId()))
		}
		if err != nil {
			return fmt.Errorf("event %s: %w", env.GetId(), err)
		}
		listed, err := s.store.IsListed(ctx, c)
		if err == nil && !listed {
			err = s.store.UpdateList(ctx, c)
		}
		if err != nil {
			return fmt.Errorf("event %s: %w", env.GetId(), err)
		}
		return nil
	}
}
