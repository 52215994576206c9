// Package seeding brings the data a new installation starts with (the Authority's composition,
// the members' forms, the default rules) into the database, and remembers that it did. It is a
// background worker rather than a start-up step that must succeed, so that a service starts,
// reports its state and answers Unavailable while its database is down, and becomes usable by
// itself when the database comes back. Seeding in the request path instead would make a read
// write, and put the first caller behind a few dozen inserts.
package seeding

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"
)

// Seeder seeds one kind of data with an idempotent function.
type Seeder struct {
	what    string
	seed    func(context.Context) error
	log     *slog.Logger
	seeded  atomic.Bool
	minWait time.Duration
	maxWait time.Duration
}

// New returns a seeder of what (named in its logs) that runs seed, which must be idempotent.
func New(what string, seed func(context.Context) error, log *slog.Logger) *Seeder {
	return &Seeder{what: what, seed: seed, log: log, minWait: 250 * time.Millisecond, maxWait: 30 * time.Second}
}

// Seeded reports whether the data is known to be in the database.
func (s *Seeder) Seeded() bool { return s.seeded.Load() }

// Seed makes one attempt.
func (s *Seeder) Seed(ctx context.Context) error {
	if err := s.seed(ctx); err != nil {
		// An attempt cut short by shutdown says nothing about the database.
		if !errors.Is(ctx.Err(), context.Canceled) {
			s.log.WarnContext(ctx, "seeding "+s.what+" failed", "error", err)
		}
		return err
	}
	s.seeded.Store(true)
	s.log.InfoContext(ctx, s.what+" in place")
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

// Start makes a first attempt bounded by within — long enough for a healthy database, short
// enough that one that is down only delays the start a little — and returns the worker that
// keeps retrying, or nil when the data is in place.
func (s *Seeder) Start(ctx context.Context, within time.Duration) func(context.Context) error {
	first, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	if s.Seed(first) == nil {
		return nil
	}
	return s.Run
}
