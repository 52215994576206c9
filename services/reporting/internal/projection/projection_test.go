package projection

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// apply applies c and fails the test on error.
func apply(t *testing.T, p *Projection, c Case) bool {
	t.Helper()
	counted, err := p.Apply(context.Background(), c)
	if err != nil {
		t.Fatalf("Apply(%s): %v", c.Marker(), err)
	}
	return counted
}

// stored returns the stored bucket of day.
func stored(t *testing.T, p *Projection, day string) journal.Doc[bucket] {
	t.Helper()
	d, err := p.days.Load(context.Background(), day)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestApplySameEventTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	c := sample("case-1", "2025-03-09")

	if !apply(t, p, c) {
		t.Fatal("first delivery not counted")
	}
	if apply(t, p, c) {
		t.Fatal("second delivery counted again")
	}
	b := stored(t, p, "2025-03-09")
	if b.State.Total != 1 || b.Version != 1 || b.State.BySex["SEX_FEMALE"] != 1 || len(b.State.Applied) != 1 {
		t.Errorf("bucket after a duplicate: %+v", b)
	}
	if !b.State.LastEventAt.Equal(c.OccurredAt) {
		t.Errorf("last_event_at %v, want %v", b.State.LastEventAt, c.OccurredAt)
	}
}

func TestApplyTwoCasesSameDay(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	a, b := sample("case-1", "2025-03-09"), sample("case-2", "2025-03-09")
	b.Citizenships = []string{"AL", "XK"}
	apply(t, p, a)
	apply(t, p, b)

	got := stored(t, p, "2025-03-09")
	if got.State.Total != 2 || got.Version != 2 || got.State.ByCitizenship["AL"] != 2 || got.State.ByCitizenship["XK"] != 1 {
		t.Errorf("bucket: %+v", got)
	}
}

// The stored layout is what existing databases hold and what Statistics projects out "applied"
// from: the bucket's fields beside _id and version, the event under "change" in its entry.
func TestApplyStoredLayout(t *testing.T) {
	t.Parallel()
	db := testenv.Database(t)
	p := New(db)
	apply(t, p, sample("case-1", "2025-03-09"))
	ctx := context.Background()

	var b bson.M
	if err := db.Collection(BucketCollection).FindOne(ctx, bson.D{{Key: "_id", Value: "2025-03-09"}}).Decode(&b); err != nil {
		t.Fatal(err)
	}
	want := []string{"_id", "applied", "by_age_band", "by_citizenship", "by_exploitation_type", "by_identifying_institution",
		"by_sex", "last_event_at", "total", "version"}
	if fields := slices.Sorted(maps.Keys(b)); !slices.Equal(fields, want) {
		t.Errorf("bucket fields %q, want %q", fields, want)
	}

	var e struct {
		Change Case `bson:"change"`
	}
	if err := db.Collection(JournalCollection).FindOne(ctx, bson.D{{Key: "_id", Value: journal.EntryID("2025-03-09", 1)}}).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if e.Change.Marker() != "case-1@1" {
		t.Errorf("journal entry holds %+v, want the event case-1@1", e.Change)
	}
}

func TestApplyRejectsInvalidCase(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	c := sample("case-1", "not-a-date")
	if _, err := p.Apply(context.Background(), c); err == nil {
		t.Fatal("Apply accepted a case without a valid identification date")
	}
}

// Writers of the same day race for each version; every event must be counted exactly once.
func TestConcurrentApplyCountsEachEventOnce(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	const writers, perWriter = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				c := sample(fmt.Sprintf("case-%d-%d", w, i), "2025-03-09")
				// Busy is the journal's "retry": the consumer redelivers; here the writer retries.
				_, err := p.Apply(context.Background(), c)
				for errors.Is(err, journal.ErrBusy) {
					_, err = p.Apply(context.Background(), c)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b := stored(t, p, "2025-03-09")
	if n := int64(writers * perWriter); b.State.Total != n || b.Version != n || len(b.State.Applied) != int(n) || b.State.BySex["SEX_FEMALE"] != n {
		t.Errorf("after %d concurrent events: total %d, version %d, %d markers", n, b.State.Total, b.Version, len(b.State.Applied))
	}
}

// Deliveries of the same events racing each other (several consumer instances) still count
// each event once.
func TestConcurrentDuplicateDeliveriesCountOnce(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	const events = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	counted := map[string]int{}
	for range 2 {
		wg.Go(func() {
			for i := range events {
				c := sample(fmt.Sprintf("case-%d", i), "2025-03-09")
				ok, err := p.Apply(context.Background(), c)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					counted[c.Marker()]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if b := stored(t, p, "2025-03-09"); b.State.Total != events {
		t.Errorf("total %d, want %d", b.State.Total, events)
	}
	for m, n := range counted {
		if n != 1 {
			t.Errorf("%s reported counted %d times", m, n)
		}
	}
	if len(counted) != events {
		t.Errorf("%d events reported counted, want %d", len(counted), events)
	}
}

func TestApplyStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Apply(ctx, sample("case-1", "2025-03-09")); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with an ended context = %v, want context.Canceled", err)
	}
}
