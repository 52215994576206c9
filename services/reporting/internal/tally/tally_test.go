package tally

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/platform/testenv"
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
