package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every runs a round at once and then every interval, logs a failed round and goes on, and
// stops when its context ends.
func TestEvery(t *testing.T) {
	var mu sync.Mutex
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logged}, nil))
	rounds := make(chan int, 10)
	n := 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Every(time.Millisecond, "the test's round", log, func(context.Context) error {
			n++
			rounds <- n
			if n == 1 {
				return errors.New("store down")
			}
			return nil
		})(ctx)
	}()
	for want := 1; want <= 3; want++ {
		select {
		case got := <-rounds:
			if got != want {
				t.Fatalf("round %d, want %d", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d never came", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Every returned %v when its context ended", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if s := logged.String(); !strings.Contains(s, "the test's round did not finish") || !strings.Contains(s, "store down") || strings.Count(s, "did not finish") != 1 {
		t.Errorf("logged:\n%s", s)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
