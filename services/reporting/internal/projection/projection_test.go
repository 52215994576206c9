package projection

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// apply applies e, retrying while the journal is busy as the consumer does by redelivery, and
// fails the test on any other error.
func apply(t *testing.T, p *Projection, e Event) bool {
	t.Helper()
	newer, err := p.Apply(context.Background(), e)
	for errors.Is(err, journal.ErrBusy) {
		newer, err = p.Apply(context.Background(), e)
	}
	if err != nil {
		t.Errorf("Apply(%s@%d): %v", e.CaseID, e.Version, err)
	}
	return newer
}

// statistics returns the statistics of from..to, failing the test on error.
func statistics(t *testing.T, p *Projection, from, to string) Statistics {
	t.Helper()
	s, err := p.Statistics(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// figures flattens the figures the sequences are about: the total of all time, of March and of
// April 2025, and the counts by sex, status and state ("sex/SEX_MALE"). Zeros are left out.
func figures(t *testing.T, p *Projection) map[string]int64 {
	t.Helper()
	all := statistics(t, p, "", "")
	out := map[string]int64{
		"total": all.Total,
		"march": statistics(t, p, "2025-03-01", "2025-03-31").Total,
		"april": statistics(t, p, "2025-04-01", "2025-04-30").Total,
	}
	for dim, m := range map[string]map[string]int64{"sex": all.BySex, "status": all.ByStatus, "state": all.ByState} {
		for k, n := range m {
			out[dim+"/"+k] = n
		}
	}
	maps.DeleteFunc(out, func(_ string, n int64) bool { return n == 0 })
	return out
}

// The case facts of the sequences: a girl identified on 9 March 2025, a potential victim, open;
// then with one thing changed.
var (
	girl     = sample("2025-03-09")
	boy      = with(girl, func(f *Facts) { f.Sex = "SEX_MALE" })
	victim   = with(girl, func(f *Facts) { f.Status = "TRAFFICKING_STATUS_VICTIM" })
	closed   = with(girl, func(f *Facts) { f.State = "CASE_STATE_CLOSED" })
	reopened = with(girl, func(f *Facts) { f.State = "CASE_STATE_REOPENED" })
	inApril  = with(girl, func(f *Facts) { f.Day = "2025-04-01" })
)

func with(f Facts, change func(*Facts)) Facts {
	f.Citizenships = slices.Clone(f.Citizenships)
	f.ExploitationTypes = slices.Clone(f.ExploitationTypes)
	change(&f)
	return f
}

func merged(id string, v int64) Event {
	return Event{CaseID: id, Version: v, Merged: true, OccurredAt: occurred}
}

// one registered girl, as figures shows her.
var oneGirl = map[string]int64{
	"total": 1, "march": 1, "sex/SEX_FEMALE": 1,
	"status/TRAFFICKING_STATUS_POTENTIAL_VICTIM": 1, "state/CASE_STATE_OPEN": 1,
}

// figuresWith returns oneGirl changed: a value replaced by another (nil to drop it).
func figuresWith(changes map[string]int64) map[string]int64 {
	out := maps.Clone(oneGirl)
	maps.Copy(out, changes)
	maps.DeleteFunc(out, func(_ string, n int64) bool { return n == 0 })
	return out
}

// Each sequence of events, applied in order, gives exactly the figures wanted; applied again in
// another order into an empty projection (a rebuild from a replayed stream), the same figures,
// in every dimension.
func TestApplySequences(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		events []Event
		want   map[string]int64
	}{
		{"a registration counts 1", []Event{event("a", 1, girl)}, oneGirl},
		{"a correction of sex moves 1 from female to male",
			[]Event{event("a", 1, girl), event("a", 2, boy)},
			figuresWith(map[string]int64{"sex/SEX_FEMALE": 0, "sex/SEX_MALE": 1})},
		{"a correction delivered twice moves it once",
			[]Event{event("a", 1, girl), event("a", 2, boy), event("a", 2, boy), event("a", 1, girl)},
			figuresWith(map[string]int64{"sex/SEX_FEMALE": 0, "sex/SEX_MALE": 1})},
		{"a status decision moves it from potential victim to victim",
			[]Event{event("a", 1, girl), event("a", 2, victim)},
			figuresWith(map[string]int64{"status/TRAFFICKING_STATUS_POTENTIAL_VICTIM": 0, "status/TRAFFICKING_STATUS_VICTIM": 1})},
		{"a closure moves it to closed",
			[]Event{event("a", 1, girl), event("a", 2, closed)},
			figuresWith(map[string]int64{"state/CASE_STATE_OPEN": 0, "state/CASE_STATE_CLOSED": 1})},
		{"a reopening after a closure",
			[]Event{event("a", 1, girl), event("a", 2, closed), event("a", 3, reopened)},
			figuresWith(map[string]int64{"state/CASE_STATE_OPEN": 0, "state/CASE_STATE_REOPENED": 1})},
		{"a merge removes the duplicate; the survivor stays",
			[]Event{event("a", 1, girl), event("dup", 1, girl), merged("dup", 2), event("a", 2, girl)},
			oneGirl},
		{"a merged duplicate counts nowhere whatever follows",
			[]Event{event("a", 1, girl), event("dup", 1, boy), merged("dup", 2), event("dup", 3, boy)},
			oneGirl},
		{"a merge delivered before the registration",
			[]Event{merged("dup", 2), event("dup", 1, girl), event("a", 1, girl)},
			oneGirl},
		{"a correction of the identification date moves the case to its new day",
			[]Event{event("a", 1, girl), event("a", 2, inApril)},
			figuresWith(map[string]int64{"march": 0, "april": 1})},
		{"out of order: an older event after a newer one changes nothing",
			[]Event{event("a", 3, victim), event("a", 2, boy), event("a", 1, girl)},
			figuresWith(map[string]int64{"status/TRAFFICKING_STATUS_POTENTIAL_VICTIM": 0, "status/TRAFFICKING_STATUS_VICTIM": 1})},
		{"everything twice, backwards",
			[]Event{event("a", 3, inApril), event("a", 2, boy), event("a", 1, girl), event("a", 3, inApril), event("b", 1, girl), event("b", 1, girl)},
			map[string]int64{"total": 2, "march": 1, "april": 1, "sex/SEX_FEMALE": 2,
				"status/TRAFFICKING_STATUS_POTENTIAL_VICTIM": 2, "state/CASE_STATE_OPEN": 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := New(testenv.Database(t))
			for _, e := range tc.events {
				apply(t, p, e)
			}
			if got := figures(t, p); !maps.Equal(got, tc.want) {
				t.Errorf("figures:\n got %v\nwant %v", got, tc.want)
			}

			rebuilt := New(testenv.Database(t))
			for _, i := range rand.Perm(len(tc.events)) {
				apply(t, rebuilt, tc.events[i])
			}
			if got, want := statistics(t, rebuilt, "", ""), statistics(t, p, "", ""); !reflect.DeepEqual(got.Counts, want.Counts) {
				t.Errorf("rebuilt in another order:\n got %+v\nwant %+v", got.Counts, want.Counts)
			}
		})
	}
}

// Writers of different cases identified on the same day race for each version of its bucket;
// every case must count once, with its correction.
func TestConcurrentCasesOfOneDayCountEachOnce(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	const writers, perWriter = 4, 4
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := fmt.Sprintf("case-%d-%d", w, i)
				apply(t, p, event(id, 1, girl))
				apply(t, p, event(id, 2, boy))
				apply(t, p, event(id, 1, girl)) // a late redelivery
			}
		})
	}
	wg.Wait()
	n := int64(writers * perWriter)
	want := map[string]int64{"total": n, "march": n, "sex/SEX_MALE": n,
		"status/TRAFFICKING_STATUS_POTENTIAL_VICTIM": n, "state/CASE_STATE_OPEN": n}
	if got := figures(t, p); !maps.Equal(got, want) {
		t.Errorf("after %d cases written concurrently:\n got %v\nwant %v", n, got, want)
	}
}

// Deliveries of the same events racing each other (several consumer instances) still apply each
// once, and report it newer once.
func TestConcurrentDuplicateDeliveriesApplyOnce(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	const cases = 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	newer := map[string]int{}
	for range 2 {
		wg.Go(func() {
			for i := range cases {
				for v, f := range []Facts{girl, boy} {
					e := event(fmt.Sprintf("case-%d", i), int64(v+1), f)
					if apply(t, p, e) {
						mu.Lock()
						newer[fmt.Sprintf("%s@%d", e.CaseID, e.Version)]++
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	if s := statistics(t, p, "", ""); s.Total != cases || s.BySex["SEX_MALE"] != cases {
		t.Errorf("total %d, by sex %v; want %d male", s.Total, s.BySex, cases)
	}
	for m, n := range newer {
		if n != 1 {
			t.Errorf("%s reported newer %d times", m, n)
		}
	}
}

// The stored layout: a case's document holds its newest facts where Cases looks for them, and a
// day's bucket its figures with the marker of each change applied.
func TestApplyStoredLayout(t *testing.T) {
	t.Parallel()
	db := testenv.Database(t)
	p := New(db)
	apply(t, p, event("case-1", 1, girl))

	var c struct {
		State Case `bson:"state"`
	}
	if err := db.Collection(CaseCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: "case-1"}}).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.State, Case{Version: 1, Facts: girl}) {
		t.Errorf("the case's state: %+v", c.State)
	}
	var b bson.M
	if err := db.Collection(BucketCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: "2025-03-09"}}).Decode(&b); err != nil {
		t.Fatal(err)
	}
	want := []string{"_id", "applied", "figures", "last_event_at", "version"}
	if fields := slices.Sorted(maps.Keys(b)); !slices.Equal(fields, want) {
		t.Errorf("bucket fields %q, want %q", fields, want)
	}
	if applied := b["applied"]; !reflect.DeepEqual(applied, bson.A{journal.EntryID("case-1", 1)}) {
		t.Errorf("markers %v", applied)
	}
	var figures struct {
		Figures tally.Figures `bson:"figures"`
	}
	if err := db.Collection(BucketCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: "2025-03-09"}}).Decode(&figures); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(figures.Figures, figuresOf(girl)) {
		t.Errorf("figures %v", figures.Figures)
	}
}

func TestApplyRejectsInvalidEvent(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	if _, err := p.Apply(context.Background(), event("case-1", 1, sample("not-a-date"))); err == nil {
		t.Fatal("Apply accepted facts without a valid identification date")
	}
}

func TestApplyStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Apply(ctx, event("case-1", 1, girl)); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with an ended context = %v, want context.Canceled", err)
	}
}
