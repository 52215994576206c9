package members

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"
)

// Seeder brings a new installation's composition into being and remembers that it did. It is a
// background worker rather than a start-up step that must succeed, so that the service starts,
// reports its state and answers Unavailable while its database is down, and becomes usable by
// itself when the database comes back. Seeding in the request path instead would make a read
// write, and put the first caller behind a few dozen inserts.
type Seeder struct {
	seed    func(context.Context) error
	log     *slog.Logger
	seeded  atomic.Bool
	minWait time.Duration
	maxWait time.Duration
}

// NewSeeder returns a seeder that runs seed (Store.Seed, which is idempotent).
func NewSeeder(seed func(context.Context) error, log *slog.Logger) *Seeder {
	return &Seeder{seed: seed, log: log, minWait: 250 * time.Millisecond, maxWait: 30 * time.Second}
}

// Seeded reports whether the composition is known to be in the database.
func (s *Seeder) Seeded() bool { return s.seeded.Load() }

// Seed makes one attempt.
func (s *Seeder) Seed(ctx context.Context) error {
	if err := s.seed(ctx); err != nil {
		// An attempt cut short by shutdown says nothing about the database.
		if !errors.Is(ctx.Err(), context.Canceled) {
			s.log.WarnContext(ctx, "seeding the Authority's composition failed", "error", err)
		}
		return err
	}
	s.seeded.Store(true)
	s.log.InfoContext(ctx, "the Authority's composition is in place")
	return nil
}

// Run retries Seed with exponential backoff until it succeeds or ctx ends. Giving up at
// shutdown is not a failure of the service, so it returns nil then.
func (s *Seeder) Run(ctx context.Context) error {
	wait := s.minWait
	for s.Seed(ctx) != nil {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(wait*2, s.maxWait)
	}
	return nil
}
