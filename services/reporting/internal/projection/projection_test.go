package projection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

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
func stored(t *testing.T, p *Projection, day string) bucket {
	t.Helper()
	var b bucket
	if err := p.buckets.FindOne(context.Background(), bson.D{{Key: "_id", Value: day}}).Decode(&b); err != nil {
		t.Fatalf("load bucket %s: %v", day, err)
	}
	return b
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
	if b.Total != 1 || b.Version != 1 || b.BySex["SEX_FEMALE"] != 1 || len(b.Applied) != 1 {
		t.Errorf("bucket after a duplicate: %+v", b)
	}
	if !b.LastEventAt.Equal(c.OccurredAt) {
		t.Errorf("last_event_at %v, want %v", b.LastEventAt, c.OccurredAt)
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
	if got.Total != 2 || got.Version != 2 || got.ByCitizenship["AL"] != 2 || got.ByCitizenship["XK"] != 1 {
		t.Errorf("bucket: %+v", got)
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
				if _, err := p.Apply(context.Background(), c); err != nil {
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
	if n := int64(writers * perWriter); b.Total != n || b.Version != n || len(b.Applied) != int(n) || b.BySex["SEX_FEMALE"] != n {
		t.Errorf("after %d concurrent events: total %d, version %d, %d markers", n, b.Total, b.Version, len(b.Applied))
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
	if b := stored(t, p, "2025-03-09"); b.Total != events {
		t.Errorf("total %d, want %d", b.Total, events)
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

// A writer that stopped after its journal insert (the commit) and before saving the bucket
// leaves the bucket behind; the redelivered event completes it and is not counted twice.
func TestApplyCompletesCommittedEvent(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	ctx := context.Background()
	first, second := sample("case-1", "2025-03-09"), sample("case-2", "2025-03-09")
	apply(t, p, first)
	if _, err := p.journal.InsertOne(ctx, entry{ID: entryID("2025-03-09", 2), Case: second}); err != nil {
		t.Fatal(err)
	}
	if stored(t, p, "2025-03-09").Total != 1 {
		t.Fatal("setup: bucket should still be behind the journal")
	}

	if apply(t, p, second) {
		t.Error("the committed event was counted again on redelivery")
	}
	if b := stored(t, p, "2025-03-09"); b.Total != 2 || b.Version != 2 {
		t.Errorf("bucket not completed: %+v", b)
	}
}

// A slow writer may save an older version over a newer one; the next settle restores it.
func TestApplyRepairsOverwrittenBucket(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	apply(t, p, sample("case-1", "2025-03-09"))
	old := stored(t, p, "2025-03-09")
	apply(t, p, sample("case-2", "2025-03-09"))
	if err := p.save(context.Background(), old); err != nil {
		t.Fatal(err)
	}

	apply(t, p, sample("case-3", "2025-03-09"))
	if b := stored(t, p, "2025-03-09"); b.Total != 3 || b.Version != 3 {
		t.Errorf("bucket after repair: total %d version %d, want 3 and 3", b.Total, b.Version)
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
