package server

import (
	"context"
	"errors"
	"time"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/referral/internal/referrals"
)

// sweeper is the principal of the deadline sweep in histories, events and the audit trail.
var sweeper = &auth.Principal{Institution: "NRM", Subject: "referral/deadlines", Roles: []auth.Role{auth.RoleService}}

// orphanAge is how old a pending entry without its referral must be before the sweep drops it:
// younger, its creation may still be under way.
const orphanAge = time.Hour

// Sweep looks at every pending referral once: one past its deadline is marked overdue, with a
// referral.overdue event, once; one past its deadline and the grace after it expires. Both are
// changes of the referral's version, so replicas sweeping at once, and a sweep repeated after a
// restart, do each exactly once. Entries of referrals no longer pending are dropped.
func (s *Server) Sweep(ctx context.Context) error {
	ctx = auth.NewContext(ctx, sweeper)
	entries, err := s.Referrals.Pending(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var errs []error
	for _, e := range entries {
		if err := s.sweep(ctx, e, now); err != nil {
			s.Log.WarnContext(ctx, "a pending referral was not swept; tried again next round", "referral_id", e.ID, "error", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Server) sweep(ctx context.Context, e referrals.OpenEntry, now time.Time) error {
	r, err := s.Referrals.Current(ctx, e.ID)
	switch {
	case errors.Is(err, aggregate.ErrNotFound):
		if now.Sub(e.CreatedAt) > orphanAge {
			return s.Referrals.MarkAnswered(ctx, e.ID)
		}
		return nil
	case err != nil:
		return err
	case r.State != referrals.Pending:
		return s.Referrals.MarkAnswered(ctx, r.ID)
	case !now.Before(r.DueAt.Add(s.Grace)):
		return s.systemChange(ctx, r.ID, func(r referrals.Referral) (referrals.Referral, string, bool, error) {
			next, err := referrals.Expire.Apply(r, sweeper.Institution, true)
			return next, referrals.Expire.Kind, err == nil, nil
		})
	case !now.Before(r.DueAt) && !r.Overdue:
		return s.systemChange(ctx, r.ID, func(r referrals.Referral) (referrals.Referral, string, bool, error) {
			r.Overdue = true
			return r, "overdue", r.State == referrals.Pending, nil
		})
	}
	return nil
}

// systemChange commits what change decides of the current referral, unless it finds nothing to
// do (another replica did it first: the change no longer applies).
func (s *Server) systemChange(ctx context.Context, id string, change func(referrals.Referral) (next referrals.Referral, kind string, apply bool, err error)) error {
	var kind string
	r, committed, err := s.Referrals.Execute(ctx, aggregate.Command[referrals.Referral, referrals.Change]{
		ID: id, At: s.now(),
		Decide: func(r referrals.Referral) (aggregate.Outcome[referrals.Referral, referrals.Change], error) {
			previous, overdue := r.State, r.Overdue
			next, k, apply, err := change(r)
			if err != nil || !apply || (next.State == previous && next.Overdue == overdue) {
				return aggregate.Outcome[referrals.Referral, referrals.Change]{Noop: true}, err
			}
			kind = k
			next.Version++
			return aggregate.Outcome[referrals.Referral, referrals.Change]{Next: next, Change: referrals.Change{Kind: k},
				Events: []aggregate.Event{changed(next, k, previous)}}, nil
		},
	})
	if err != nil || !committed {
		return err
	}
	s.committed(ctx, r, kind)
	return nil
}
