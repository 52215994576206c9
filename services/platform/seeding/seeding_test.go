package seeding

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

func quickSeeder(seed func(context.Context) error) *Seeder {
	s := New("test data", seed, slog.New(slog.DiscardHandler))
	s.minWait, s.maxWait = time.Millisecond, 4*time.Millisecond
	return s
}

func TestRunRetriesUntilSeeded(t *testing.T) {
	var attempts atomic.Int32
	s := quickSeeder(func(context.Context) error {
		if attempts.Add(1) < 4 {
			return errors.New("connection refused")
		}
		return nil
	})
	if err := s.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := attempts.Load(); got != 4 {
		t.Errorf("%d attempts, want 4", got)
	}
	if !s.Seeded() {
		t.Error("not Seeded after a successful attempt")
	}
}

func TestRunGivesUpQuietlyAtShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var attempts atomic.Int32
	s := quickSeeder(func(context.Context) error {
		if attempts.Add(1) == 3 {
			cancel()
		}
		return errors.New("connection refused")
	})
	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run at shutdown = %v, want nil so that the service does not report a failure", err)
	}
	if s.Seeded() {
		t.Error("Seeded although no attempt succeeded")
	}
}

func TestStartReturnsNoWorkerOnceSeeded(t *testing.T) {
	if w := quickSeeder(func(context.Context) error { return nil }).Start(t.Context(), time.Second); w != nil {
		t.Error("a worker although the first attempt succeeded")
	}
	down := quickSeeder(func(context.Context) error { return errors.New("connection refused") })
	if w := down.Start(t.Context(), 10*time.Millisecond); w == nil || down.Seeded() {
		t.Error("no worker to retry after a failed first attempt")
	}
}
