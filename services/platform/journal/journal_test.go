package journal

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// tally is the test state: how many markers were appended, and which.
type tally struct {
	Total int64    `bson:"total"`
	Seen  []string `bson:"seen"`
}

// with is the journal's apply: s with marker m appended, s left unchanged.
func (s tally) with(m string) tally {
	return tally{Total: s.Total + 1, Seen: append(slices.Clip(s.Seen), m)}
}

const docID = "doc-1"

func newJournal(t *testing.T) *Journal[tally, string] {
	t.Helper()
	return New(testenv.Database(t), "tallies", "tallies_journal", tally.with)
}

// once decides to append m unless it is in already, as an idempotent consumer does.
func once(m string) func(Doc[tally]) (string, bool) {
	return func(d Doc[tally]) (string, bool) { return m, !slices.Contains(d.State.Seen, m) }
}

// add appends m once to document docID and fails the test on error.
func add(t *testing.T, j *Journal[tally, string], m string) bool {
	t.Helper()
	committed, err := j.Append(context.Background(), docID, once(m))
	if err != nil {
		t.Fatalf("Append(%s): %v", m, err)
	}
	return committed
}

// wantDoc fails the test unless Load, then Settled, return document docID at version v holding
// the markers seen, in that order. Load first: whoever wrote last must have left the document
// current, not only settleable.
func wantDoc(t *testing.T, j *Journal[tally, string], v int64, seen ...string) {
	t.Helper()
	expected := Doc[tally]{ID: docID, Version: v, State: tally{Total: int64(len(seen)), Seen: seen}}
	for _, read := range []struct {
		name string
		f    func(context.Context, string) (Doc[tally], error)
	}{{"Load", j.Load}, {"Settled", j.Settled}} {
		d, err := read.f(context.Background(), docID)
		if err != nil {
			t.Fatalf("%s: %v", read.name, err)
		}
		if !reflect.DeepEqual(d, expected) {
			t.Errorf("%s = %+v, want %+v", read.name, d, expected)
		}
	}
}

func TestNeverWritten(t *testing.T) {
	t.Parallel()
	wantDoc(t, newJournal(t), 0)
}

func TestAppend(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	for _, m := range []string{"a", "b"} {
		if !add(t, j, m) {
			t.Fatalf("Append(%s) committed nothing", m)
		}
	}
	wantDoc(t, j, 2, "a", "b")
}

func TestAppendDecidedAgainst(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	add(t, j, "a")
	calls := 0
	committed, err := j.Append(context.Background(), docID, func(Doc[tally]) (string, bool) {
		calls++
		return "b", false
	})
	if committed || err != nil || calls != 1 {
		t.Errorf("Append declined = %v, %v after %d decides; want false, nil after 1", committed, err, calls)
	}
	wantDoc(t, j, 1, "a") // Settled too: no entry was inserted
}

// Another writer commits between a writer's settle and its insert: TryAppend gives up at once
// with ErrBusy and commits nothing; Append tries again and commits after the other.
func TestTryAppendGivesUpWhereAppendRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		try           bool
		wantCommitted bool
		want          []string
	}{
		{"TryAppend", true, false, []string{"a", "other"}},
		{"Append", false, true, []string{"a", "other", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := newJournal(t)
			add(t, j, "a")
			raced := false
			decide := func(d Doc[tally]) (string, bool) {
				if !raced { // the other writer commits the version this one is about to take
					raced = true
					if _, err := j.entries.InsertOne(ctx, entry[string]{ID: EntryID(docID, d.Version+1), Change: "other"}); err != nil {
						t.Fatal(err)
					}
				}
				return "b", true
			}
			appendOnce := j.Append
			if tc.try {
				appendOnce = j.TryAppend
			}
			committed, err := appendOnce(ctx, docID, decide)
			if committed != tc.wantCommitted || (err != nil) != tc.try || (tc.try && !errors.Is(err, ErrBusy)) {
				t.Fatalf("= %v, %v; want committed %v, ErrBusy %v", committed, err, tc.wantCommitted, tc.try)
			}
			d, err := j.Settled(ctx, docID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.State.Seen, tc.want) || d.Version != int64(len(tc.want)) {
				t.Errorf("settled: version %d, %v; want %d, %v", d.Version, d.State.Seen, len(tc.want), tc.want)
			}
		})
	}
}

// Writers of one document race for each version; each change must commit exactly once, and be
// reported committed to exactly one writer, whether the writers append different changes or
// deliver the same ones (several consumer instances).
func TestConcurrentAppends(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name               string
		writers, perWriter int
		marker             func(w, i int) string
		total              int
	}{
		{"distinct", 4, 5, func(w, i int) string { return fmt.Sprintf("m%d-%d", w, i) }, 20},
		{"duplicates", 2, 10, func(_, i int) string { return fmt.Sprintf("m%d", i) }, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := newJournal(t)
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				committed = map[string]int{}
			)
			for w := range tc.writers {
				wg.Go(func() {
					for i := range tc.perWriter {
						m := tc.marker(w, i)
						ok, err := j.Append(context.Background(), docID, once(m))
						if err != nil {
							t.Error(err)
							return
						}
						if ok {
							mu.Lock()
							committed[m]++
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()

			// Load, not Settled: each Append settles after its save, so the last to return
			// leaves the document current even if a slower writer overwrote it.
			d, err := j.Load(context.Background(), docID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Version != int64(tc.total) || d.State.Total != int64(tc.total) || len(d.State.Seen) != tc.total {
				t.Errorf("version %d, total %d, %d markers; want %d of each", d.Version, d.State.Total, len(d.State.Seen), tc.total)
			}
			inState := map[string]int{}
			for _, m := range d.State.Seen {
				inState[m]++
			}
			for name, counts := range map[string]map[string]int{"in the state": inState, "reported committed": committed} {
				if len(counts) != tc.total {
					t.Errorf("%d markers %s, want %d", len(counts), name, tc.total)
				}
				for m, n := range counts {
					if n != 1 {
						t.Errorf("%s %s %d times", m, name, n)
					}
				}
			}
		})
	}
}

// A writer that stopped after its journal insert (the commit) and before saving the document
// leaves the document behind its journal; the next to settle it completes it, applying the
// change once, and a redelivery of the change finds it in.
func TestCompletesCommittedChange(t *testing.T) {
	t.Parallel()
	for name, complete := range map[string]func(context.Context, *Journal[tally, string]) error{
		"Settled": func(ctx context.Context, j *Journal[tally, string]) error {
			_, err := j.Settled(ctx, docID)
			return err
		},
		"Append": func(ctx context.Context, j *Journal[tally, string]) error {
			if committed, err := j.Append(ctx, docID, once("b")); err != nil || committed {
				return fmt.Errorf("redelivered change: committed %v, %v; want false, nil", committed, err)
			}
			return nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			j := newJournal(t)
			ctx := context.Background()
			add(t, j, "a")
			if _, err := j.entries.InsertOne(ctx, bson.D{{Key: "_id", Value: EntryID(docID, 2)}, {Key: "change", Value: "b"}}); err != nil {
				t.Fatal(err)
			}
			if d, err := j.Load(ctx, docID); err != nil || d.Version != 1 {
				t.Fatalf("setup: Load = version %d, %v; want the document still at version 1", d.Version, err)
			}

			if err := complete(ctx, j); err != nil {
				t.Fatal(err)
			}
			wantDoc(t, j, 2, "a", "b")
		})
	}
}

// A slow writer may save an older version over a newer one; the next Append repairs it.
func TestRepairsOverwrittenDocument(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	ctx := context.Background()
	add(t, j, "a")
	old, err := j.Load(ctx, docID)
	if err != nil {
		t.Fatal(err)
	}
	add(t, j, "b")
	if err := j.save(ctx, old); err != nil {
		t.Fatal(err)
	}

	if !add(t, j, "c") {
		t.Fatal("Append(c) after the overwrite committed nothing")
	}
	wantDoc(t, j, 3, "a", "b", "c")
}

// decide and apply get the same state; the journal must not change it under the caller, who
// may keep it (apply appends to its slice, so spare capacity is checked too).
func TestAppendLeavesStateUnchanged(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	add(t, j, "a")
	add(t, j, "b")
	var seen, before []string
	_, err := j.Append(context.Background(), docID, func(d Doc[tally]) (string, bool) {
		seen = d.State.Seen
		before = slices.Clone(seen[:cap(seen)])
		return "c", true
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen[:cap(seen)], before) {
		t.Errorf("state given to decide changed by Append: %q, was %q", seen[:cap(seen)], before)
	}
}

func TestAppendStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	j := newJournal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if committed, err := j.Append(ctx, docID, once("a")); committed || !errors.Is(err, context.Canceled) {
		t.Errorf("Append with an ended context = %v, %v; want false, context.Canceled", committed, err)
	}
}
