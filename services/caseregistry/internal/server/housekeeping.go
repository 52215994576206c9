package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
)

// Housekeeping configures the registry's own periodic work.
type Housekeeping struct {
	// RetentionYears is how long after a case's closure its identity is kept; 0 keeps it until
	// erased by hand.
	RetentionYears int
	// Every is the pause between two rounds.
	Every time.Duration
}

// retentionBatch bounds the erasures of one round, so that a first run over a large backlog
// does not hold the store for long; the next round goes on.
const retentionBatch = 200

// systemKey marks a context in which the registry acts by itself (the retention sweep), not for
// a caller: only this package can make one.
type systemKey struct{}

// system is the principal recorded in the history of what the registry does by itself.
var system = &auth.Principal{Institution: "NRM", Subject: "caseregistry/retention", Roles: []auth.Role{auth.RoleService}}

func isSystem(ctx context.Context) bool { return ctx.Value(systemKey{}) != nil }

// Housekeep returns the worker that, at start and then every h.Every, re-wraps data keys still
// under an old master key (after a rotation: the old key can be retired once none is left),
// destroys the keys of cases left without an identity, and erases the identities of cases
// closed more than h.RetentionYears ago. Each step is idempotent, so replicas may run it side by
// side. What fails is logged and retried the next round.
func (s *Server) Housekeep(h Housekeeping) app.Worker {
	return app.Every(h.Every, "housekeeping", s.log, func(ctx context.Context) error {
		s.housekeepOnce(ctx, h) // logs each step's failure itself
		return nil
	})
}

func (s *Server) housekeepOnce(ctx context.Context, h Housekeeping) {
	if n, err := s.store.RewrapKeys(ctx, s.keys); err != nil {
		s.log.ErrorContext(ctx, "re-wrapping data keys under the primary master key failed", "rewrapped", n, "error", err)
	} else if n > 0 {
		s.log.InfoContext(ctx, "data keys re-wrapped under the primary master key", "rewrapped", n, "primary", s.keys.Primary())
	}
	if n, err := s.destroyOrphanKeys(ctx); err != nil {
		s.log.ErrorContext(ctx, "destroying the data keys of cases without identity failed", "destroyed", n, "error", err)
	} else if n > 0 {
		s.log.InfoContext(ctx, "data keys of cases without identity destroyed", "destroyed", n)
	}
	if h.RetentionYears > 0 {
		if n, err := s.EraseExpired(ctx, h.RetentionYears); err != nil {
			s.log.ErrorContext(ctx, "retention sweep failed", "erased", n, "error", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "identities erased at the end of retention", "erased", n, "retention_years", h.RetentionYears)
		}
	}
}

// EraseExpired erases the identities of up to a batch of cases closed more than years ago (in
// Tirana's calendar) and returns how many it erased. A case it cannot erase is logged with its
// id and counted (nrm_housekeeping_failures_total{task="retention"}); the sweep goes on with the
// others, and the next round tries it again. The error is only for the query itself.
func (s *Server) EraseExpired(ctx context.Context, years int) (int, error) {
	cutoff := s.now().In(domain.Tirana).AddDate(-years, 0, 0).Format(time.DateOnly)
	ids, err := s.store.ClosedWithIdentityBefore(ctx, cutoff, retentionBatch)
	if err != nil {
		return 0, err
	}
	ctx = auth.NewContext(context.WithValue(ctx, systemKey{}, true), system)
	basis := fmt.Sprintf("end of retention: closed more than %d years ago", years)
	// The trail keeps a purpose code, as for a caller, with the rule as its reference.
	purpose := authz.Purpose{Code: "erasure", Ref: fmt.Sprintf("retention-%dy", years)}.String()
	erased := 0
	for _, id := range ids {
		_, err := s.erase(ctx, id, basis)
		// The trail records what the sweep did, as it records an erasure a caller asks for.
		if _, aerr := s.trail.Record(ctx, audit.Entry{
			Institution: system.Institution, Subject: system.Subject, Roles: []string{string(auth.RoleService)},
			Method: caseregistryv1.CaseRegistryService_EraseIdentity_FullMethodName, ObjectIDs: []string{id},
			Purpose: purpose, Outcome: audit.Outcome(err),
		}); aerr != nil {
			s.log.ErrorContext(ctx, "the retention erasure could not be recorded in the audit trail", "case_id", id, "error", aerr)
		}
		if err != nil {
			s.failures.WithLabelValues("retention").Inc()
			s.log.ErrorContext(ctx, "retention: the identity of a case could not be erased; retried next round", "case_id", id, "error", err)
			continue
		}
		erased++
	}
	return erased, nil
}

// keyGrace is how long a data key may sit in the vault without an identity sealed under it: the
// time between storing a key and committing the identity it seals, which a call does within its
// deadline (30 s at most), with a wide margin.
const keyGrace = 10 * time.Minute

// destroyOrphanKeys destroys the data key of every case that has none of its identity left
// sealed: the clean-up of a removal through UpdateCase that failed after its commit, or done
// before removals destroyed keys. Keys younger than keyGrace are left alone, as a writer may be
// about to commit the identity they seal, and so are keys of cases that do not exist (a
// registration that failed before its commit sealed nothing that was kept). It returns how many
// keys it destroyed; a case it cannot clean up is logged, counted, and tried again next round.
func (s *Server) destroyOrphanKeys(ctx context.Context) (int, error) {
	keys, err := s.store.OldKeys(ctx, s.now().Add(-keyGrace))
	if err != nil {
		return 0, err
	}
	destroyed := 0
	for _, k := range keys {
		c, err := s.store.Get(ctx, k.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && c.SealedIdentity != nil) {
			continue
		}
		if err == nil {
			err = s.store.DestroyKeyIf(ctx, k.ID, k.Key)
		}
		if err != nil {
			s.failures.WithLabelValues("key-cleanup").Inc()
			s.log.ErrorContext(ctx, "the data key of a case without identity could not be destroyed; retried next round", "case_id", k.ID, "error", err)
			continue
		}
		destroyed++
	}
	return destroyed, nil
}
