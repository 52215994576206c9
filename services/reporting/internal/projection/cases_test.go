package projection

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func TestCases(t *testing.T) {
	p := New(testenv.Database(t))
	apply(t, p, event("a", 1, sample("2025-01-01")))
	apply(t, p, event("b", 1, sample("2025-12-31")))
	apply(t, p, event("b", 2, victim))               // corrected: 2025-03-09, a victim
	apply(t, p, event("c", 1, sample("2024-12-31"))) // the year before
	apply(t, p, event("d", 1, sample("2025-06-01"))) // merged away
	apply(t, p, Event{CaseID: "d", Version: 2, Merged: true, OccurredAt: occurred})
	var got []string
	err := p.Cases(context.Background(), "2025-01-01", "2025-12-31", func(f Facts) error {
		got = append(got, f.Day+" "+f.Status)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{"2025-01-01 TRAFFICKING_STATUS_POTENTIAL_VICTIM", "2025-03-09 TRAFFICKING_STATUS_VICTIM"}
	if !slices.Equal(got, want) {
		t.Errorf("Cases = %v; want %v", got, want)
	}
	stop := errors.New("stop")
	if err := p.Cases(context.Background(), "2025-01-01", "2025-12-31", func(Facts) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Cases with a failing visit = %v; want %v", err, stop)
	}
}
