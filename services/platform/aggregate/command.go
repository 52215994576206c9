package aggregate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// maxAttempts bounds how often a command without an expected version is decided again after
// losing a race to a concurrent change.
const maxAttempts = 5

// Event is one event of a change, before it is enveloped: its type ("case.updated", published
// on "nrm.case.updated") and payload.
type Event struct {
	Type    string
	Payload proto.Message
}

// Outcome is what a command decided on the current state.
type Outcome[T, C any] struct {
	// Next is the aggregate after the change; Execute stamps its version and time.
	Next T
	// Change is the history entry; Execute stamps who and when.
	Change C
	Events []Event
	// Noop: nothing changes, and the caller gets the aggregate as it is.
	Noop bool
}

// Command is a change of one aggregate.
type Command[T, C any] struct {
	ID string
	// Expected is the version the caller based the change on (If-Match); 0: whatever is current.
	Expected int64
	// At is the time of the change, when the caller's clock must be the one that dates it (the
	// store's clock when zero).
	At time.Time
	// Admit, if set, refuses callers who may not change the aggregate as it is. It runs before the
	// version check, so that a caller refused learns nothing of the aggregate's version.
	Admit func(current T) error
	// Decide computes the change from the current state; it may run more than once (a race lost
	// without an expected version), so it must not have effects of its own.
	Decide func(current T) (Outcome[T, C], error)
}

// Execute carries out a command: it loads the latest version, admits the caller, checks the
// expected version, lets the command decide, and commits the outcome as the next version with
// its events, enveloped for the caller (outbox.NewEvent). It reports whether a change committed.
//
// A command that loses a race is refused with VERSION_CONFLICT when it named its version, and is
// otherwise decided again on the new state, a bounded number of times. The errors are the API's:
// NOT_FOUND naming the aggregate, ABORTED VERSION_CONFLICT naming the current version.
func (s *Store[T, C]) Execute(ctx context.Context, cmd Command[T, C]) (T, bool, error) {
	var zero T
	p, ok := auth.FromContext(ctx)
	if !ok {
		return zero, false, status.Error(codes.Unauthenticated, "no principal") // the guard admits none without one
	}
	who := p.Effective()
	for attempt := 1; ; attempt++ {
		current, err := s.Current(ctx, cmd.ID)
		if errors.Is(err, ErrNotFound) {
			return zero, false, apierr.NotFound(s.name, cmd.ID)
		}
		if err != nil {
			return zero, false, err
		}
		if cmd.Admit != nil {
			if err := cmd.Admit(current); err != nil {
				return zero, false, err
			}
		}
		version := current.AggregateVersion()
		if cmd.Expected != 0 && version != cmd.Expected {
			return zero, false, s.Stale(cmd.ID, cmd.Expected, version)
		}
		out, err := cmd.Decide(current)
		if err != nil {
			return zero, false, err
		}
		if out.Noop {
			return current, false, nil
		}
		now := cmd.At
		if now.IsZero() {
			now = s.now()
		}
		now = now.UTC().Truncate(time.Millisecond) // the store keeps milliseconds
		if id := out.Next.AggregateID(); id != cmd.ID {
			// A decision that forgot to start from the current state, or swapped aggregates: never
			// commit it as this aggregate's next version.
			return zero, false, fmt.Errorf("command on %s %s decided a change of %q", s.name, cmd.ID, id)
		}
		next := out.Next.AtVersion(version+1, now)
		events, err := Envelop(ctx, cmd.ID, version+1, out.Events, now)
		if err != nil {
			return zero, false, err
		}
		committed, err := s.Commit(ctx, next, out.Change.By(who.Institution, who.Subject, now), events)
		if errors.Is(err, ErrConflict) {
			// Another change committed the next version first. A command based on a named version
			// is then refused naming the version that won; one based on none is decided again.
			if cmd.Expected == 0 && attempt < maxAttempts {
				continue
			}
			latest, err := s.Current(ctx, cmd.ID)
			if err != nil {
				return zero, false, err
			}
			return zero, false, s.Stale(cmd.ID, version, latest.AggregateVersion())
		}
		if err != nil {
			return zero, false, err
		}
		return committed, true, nil
	}
}

// Envelop turns the events of the change that brings aggregate id to version into outbox events,
// in order.
func Envelop(ctx context.Context, id string, version int64, events []Event, at time.Time) ([]outbox.Pending, error) {
	out := make([]outbox.Pending, len(events))
	for i, e := range events {
		var err error
		if out[i], err = outbox.NewEvent(ctx, e.Type, id, version, i, e.Payload, at); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Stale is ABORTED (HTTP 409) for a change based on a version the aggregate has left, naming the
// version it is at now so that the caller knows what to read and reapply its change to.
func (s *Store[T, C]) Stale(id string, based, current int64) error {
	return apierr.Aborted("VERSION_CONFLICT",
		fmt.Sprintf("%s %s changed since version %d: the current version is %d; read it again and reapply the change to it", s.name, id, based, current),
		map[string]string{
			s.name + "_id":     id,
			"expected_version": strconv.FormatInt(based, 10),
			"current_version":  strconv.FormatInt(current, 10),
		})
}
