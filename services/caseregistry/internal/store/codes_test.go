package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func TestCodesFollowEachOtherWithinAYear(t *testing.T) {
	c := NewCodes(testenv.Database(t))
	for i, want := range []string{"VT-2026-00001", "VT-2026-00002", "VT-2026-00003"} {
		got, err := c.Claim(context.Background(), 2026, fmt.Sprint("case-", i), time.Now())
		if err != nil || got != want {
			t.Fatalf("claim %d: %q, %v; want %q", i, got, err, want)
		}
	}
	if got, _ := c.Claim(context.Background(), 2027, "case-x", time.Now()); got != "VT-2027-00001" {
		t.Errorf("first code of 2027: %q", got)
	}
}

// A second process (another replica, or this one restarted) continues the sequence and never
// hands out a code twice, even when both claim at once.
func TestCodesAreNeverHandedOutTwice(t *testing.T) {
	db := testenv.Database(t)
	first := NewCodes(db)
	if _, err := first.Claim(context.Background(), 2026, "a", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := NewCodes(db).Claim(context.Background(), 2026, "b", time.Now()); got != "VT-2026-00002" {
		t.Errorf("a restarted issuer handed out %q, want VT-2026-00002", got)
	}
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	for w := range 4 {
		issuer := NewCodes(db) // one per replica
		wg.Go(func() {
			for i := range 10 {
				code, err := issuer.Claim(context.Background(), 2026, fmt.Sprintf("w%d-%d", w, i), time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[code] {
					t.Errorf("%s handed out twice", code)
				}
				seen[code] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Errorf("%d distinct codes, want 40", len(seen))
	}
}
