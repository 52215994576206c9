package tally

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// label is a test kind: a document that counts its label, newest version winning, in its bucket.
type label struct {
	Version int64  `bson:"version"`
	Bucket  string `bson:"bucket"`
	Label   string `bson:"label"`
}

var labels = Kind[label, label]{
	Docs: "labels", DocJournal: "labels_journal", Buckets: "label_days", BucketJournal: "label_days_journal",
	Moves:      func(s, e label) bool { return e.Version > s.Version },
	With:       func(_, e label) label { return e },
	Tally:      func(s label) *Tally { return &Tally{Bucket: s.Bucket, Figures: Figures{"by_label": {s.Label: 1}}} },
	OccurredAt: func(label) time.Time { return time.Time{} },
}

// figures sums every bucket.
func figures(t *testing.T, p *Projection[label, label]) map[string]Figures {
	t.Helper()
	bs, err := p.Buckets(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Figures{}
	for _, b := range bs {
		out[b.ID] = b.Figures
	}
	return out
}

// A writer that stopped after committing an event to the document, before the buckets, leaves a
// move that the next event of the document completes first, so that nothing is lost or counted
// twice; a move to another bucket leaves the first one empty.
func TestApplyCompletesAMoveLeftHalfway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := New(testenv.Database(t), labels)
	if _, err := p.Apply(ctx, "d1", label{Version: 1, Bucket: "2025-03-09", Label: "A"}); err != nil {
		t.Fatal(err)
	}
	// The stopped writer: version 2 committed, its move not applied.
	if _, err := p.docs.Append(ctx, "d1", func(journal.Doc[doc[label]]) (label, bool) {
		return label{Version: 2, Bucket: "2025-03-09", Label: "B"}, true
	}); err != nil {
		t.Fatal(err)
	}
	if got := figures(t, p); !reflect.DeepEqual(got, map[string]Figures{"2025-03-09": {"by_label": {"A": 1}}}) {
		t.Fatalf("before the next event: %v", got)
	}
	if changed, err := p.Apply(ctx, "d1", label{Version: 2, Bucket: "2025-03-09", Label: "B"}); err != nil || changed {
		t.Fatalf("the redelivered event: %v, %v; want it found applied", changed, err)
	}
	if got := figures(t, p); !reflect.DeepEqual(got, map[string]Figures{"2025-03-09": {"by_label": {"B": 1}}}) {
		t.Errorf("after the redelivery: %v", got)
	}
	if _, err := p.Apply(ctx, "d1", label{Version: 3, Bucket: "2025-03-10", Label: "B"}); err != nil {
		t.Fatal(err)
	}
	if got := figures(t, p); !reflect.DeepEqual(got, map[string]Figures{"2025-03-10": {"by_label": {"B": 1}}}) {
		t.Errorf("after a move to another day: %v", got)
	}
}

// With month buckets, the figures of any period, read by day and month, are those of the
// documents whose latest bucket falls in it, however the documents moved between days and months.
func TestPeriodsReadByDayAndMonth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	monthly := labels
	monthly.Months, monthly.MonthJournal = "label_months", "label_months_journal"
	p := New(testenv.Database(t), monthly)
	rnd := rand.New(rand.NewPCG(3, 5))
	start := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	day := func() string { return start.AddDate(0, 0, rnd.IntN(100)).Format(time.DateOnly) }
	latest := map[string]string{}
	for i := range 30 {
		id := fmt.Sprintf("d%02d", i)
		for v := int64(1); v <= 1+int64(i%3); v++ { // some documents move once or twice
			b := day()
			if _, err := p.Apply(ctx, id, label{Version: v, Bucket: b, Label: "A"}); err != nil {
				t.Fatal(err)
			}
			latest[id] = b
		}
	}
	sum := func(from, to string) int64 {
		bs, err := p.Buckets(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, b := range bs {
			n += b.Figures["by_label"]["A"]
		}
		return n
	}
	for range 50 {
		a, b := day(), day()
		if a > b {
			a, b = b, a
		}
		var want int64
		for _, d := range latest {
			if d >= a && d <= b {
				want++
			}
		}
		if got := sum(a, b); got != want {
			t.Errorf("%s..%s: %d, want %d", a, b, got, want)
		}
	}
	if got := sum("", ""); got != int64(len(latest)) {
		t.Errorf("all time: %d, want %d", got, len(latest))
	}
}

// Load stores what applying each first event would: the same figures in every period, by day and
// by month, and documents whose next events move them as any other.
func TestLoadStoresWhatApplyWould(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	monthly := labels
	monthly.Months, monthly.MonthJournal = "label_months", "label_months_journal"
	loaded, applied := New(testenv.Database(t), monthly), New(testenv.Database(t), monthly)
	first := map[string]label{}
	for i := range 40 {
		first[fmt.Sprintf("d%02d", i)] = label{Version: 1, Bucket: time.Date(2025, 1, 1+i*2, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
			Label: []string{"A", "B", "C"}[i%3]}
	}
	if err := loaded.Load(ctx, first); err != nil {
		t.Fatal(err)
	}
	for id, e := range first {
		if _, err := applied.Apply(ctx, id, e); err != nil {
			t.Fatal(err)
		}
	}
	next := label{Version: 2, Bucket: "2025-03-15", Label: "Z"}
	for _, p := range []*Projection[label, label]{loaded, applied} {
		if changed, err := p.Apply(ctx, "d00", first["d00"]); err != nil || changed {
			t.Fatalf("a loaded event again: %v, %v", changed, err)
		}
		if _, err := p.Apply(ctx, "d00", next); err != nil {
			t.Fatal(err)
		}
	}
	for _, period := range [][2]string{{"", ""}, {"2025-01-01", "2025-01-31"}, {"2025-01-10", "2025-02-20"}, {"2025-03-15", "2025-03-15"}} {
		got, err := loaded.Buckets(ctx, period[0], period[1])
		if err != nil {
			t.Fatal(err)
		}
		want, err := applied.Buckets(ctx, period[0], period[1])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sumOf(got), sumOf(want)) || len(sumOf(got)) == 0 {
			t.Errorf("%v: loaded %v, applied %v", period, sumOf(got), sumOf(want))
		}
	}
}

func sumOf(bs []Bucket) Figures {
	out := Figures{}
	for _, b := range bs {
		out.Add(b.Figures, 1)
	}
	return out
}

// States reads the documents' states by a filter on their fields.
func TestStates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := New(testenv.Database(t), labels)
	for i, l := range []string{"A", "B", "A"} {
		if _, err := p.Apply(ctx, fmt.Sprintf("d%d", i), label{Version: 1, Bucket: "2025-03-09", Label: l}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]label{}
	if err := p.States(ctx, bson.D{{Key: "label", Value: "A"}}, func(id string, s label) error {
		got[id] = s
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]label{"d0": {Version: 1, Bucket: "2025-03-09", Label: "A"}, "d2": {Version: 1, Bucket: "2025-03-09", Label: "A"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	stop := errors.New("enough")
	if err := p.States(ctx, bson.D{}, func(string, label) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("visit's error: %v", err)
	}
}
