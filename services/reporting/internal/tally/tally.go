// Package tally keeps figures that follow documents through their events, as the case
// statistics do (package projection, docs/decisions.md 32), for any kind of document: a
// referral, a meeting. A Kind says how an event changes a document and what the document counts
// in which bucket (a day or a month); this package keeps both in journaled collections
// (package journal, docs/decisions.md 4) so that every event counts once however often it is
// delivered and in whatever order, and queries read only the buckets, which stay few and small
// however many documents there are.
//
//   - The documents: one per referral or meeting, its state as of the events applied, the tally
//     it counts and the one that tally replaced, so that the move from one to the other can be
//     applied again after a crash.
//   - The buckets: one per day or month, the sum of the tallies counted there, the markers
//     "<document id>@<journal version>" of the moves applied.
package tally

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/journal"
)

// Kind is one kind of document, with state S changed by events E. Its functions must depend on
// nothing but their arguments, and not modify them (clone maps and slices they change): the
// journals roll documents forward with them.
type Kind[S, E any] struct {
	// Collections: the documents, their journal, the buckets, theirs.
	Docs, DocJournal, Buckets, BucketJournal string
	// Moves reports whether e changes s; a duplicate or an outdated event does not.
	Moves func(s S, e E) bool
	// With returns s after e.
	With func(s S, e E) S
	// Tally is what s counts; nil when it counts nowhere (yet).
	Tally func(s S) *Tally
	// OccurredAt is when e happened, for the figures' freshness.
	OccurredAt func(e E) time.Time
}

// doc is one document: its kind's state and what it counts.
type doc[S any] struct {
	State S `bson:"state"`
	// Counted is what the buckets count for the document; Previous what Counted replaced: with
	// Counted, the move the buckets must hold.
	Counted    *Tally    `bson:"counted"`
	Previous   *Tally    `bson:"previous"`
	OccurredAt time.Time `bson:"occurred_at"`
}

// maxMoves bounds how often Apply starts again because other events of the same document moved
// it under it, before giving up with journal.ErrBusy (for the consumer to redeliver).
const maxMoves = 10

// Projection is the figures of one kind of document.
type Projection[S, E any] struct {
	kind    Kind[S, E]
	docs    *journal.Journal[doc[S], E]
	days    *journal.Journal[bucket, change]
	buckets *mongo.Collection
}

// New returns the projection of kind k stored in db.
func New[S, E any](db *mongo.Database, k Kind[S, E]) *Projection[S, E] {
	return &Projection[S, E]{
		kind:    k,
		docs:    journal.New(db, k.Docs, k.DocJournal, k.apply),
		days:    journal.New(db, k.Buckets, k.BucketJournal, bucket.with),
		buckets: db.Collection(k.Buckets),
	}
}

// apply is the documents' journal apply: the state after e, and the move of its tally.
func (k Kind[S, E]) apply(d doc[S], e E) doc[S] {
	s := k.With(d.State, e)
	return doc[S]{State: s, Counted: k.Tally(s), Previous: d.Counted, OccurredAt: k.OccurredAt(e)}
}

// Apply brings document id to what e says of it, unless e changes nothing there (a duplicate,
// or an event older than those applied); it reports whether e changed it. After an error the
// event may be partly applied; applying it again completes it. Concurrent calls are safe.
//
// As for the case statistics (projection.Projection.Apply): settle the document and make sure
// the buckets hold its last move; commit e to the document if the document is still as found
// (else start again, for e's move subtracts what the last one added); apply e's move to the
// buckets. A crash between the commit and the buckets leaves the move in the document, for the
// redelivered event or the next one to complete.
func (p *Projection[S, E]) Apply(ctx context.Context, id string, e E) (bool, error) {
	for range maxMoves {
		d, err := p.docs.Settled(ctx, id)
		if err != nil {
			return false, err
		}
		if err := p.count(ctx, d); err != nil {
			return false, err
		}
		if !p.kind.Moves(d.State.State, e) {
			return false, nil
		}
		moved := false
		committed, err := p.docs.Append(ctx, id, func(now journal.Doc[doc[S]]) (E, bool) {
			moved = now.Version != d.Version
			return e, !moved
		})
		if err != nil {
			return committed, err
		}
		if moved {
			continue
		}
		return true, p.count(ctx, journal.Doc[doc[S]]{ID: id, Version: d.Version + 1, State: p.kind.apply(d.State, e)})
	}
	return false, fmt.Errorf("%w: %s kept moving under an event", journal.ErrBusy, id)
}

// count applies to the buckets the changes of d's last move, each once.
func (p *Projection[S, E]) count(ctx context.Context, d journal.Doc[doc[S]]) error {
	for _, c := range moveOf(d) {
		_, err := p.days.Append(ctx, c.bucket(), func(b journal.Doc[bucket]) (change, bool) {
			return c, !b.State.applied(c)
		})
		if err != nil {
			return fmt.Errorf("%s on %s: %w", c.Marker, c.bucket(), err)
		}
	}
	return nil
}

// moveOf returns what d's last move (Previous to Counted) does to the buckets: the old tally
// leaves its bucket, the new one enters its own, in one change when the bucket is the same.
// Nothing when the tally did not change.
func moveOf[S any](d journal.Doc[doc[S]]) []change {
	prev, cur := d.State.Previous, d.State.Counted
	if prev != nil && cur != nil && prev.Bucket == cur.Bucket && prev.Figures.equal(cur.Figures) {
		return nil
	}
	base := change{Marker: journal.EntryID(d.ID, d.Version), OccurredAt: d.State.OccurredAt}
	if prev != nil && cur != nil && prev.Bucket == cur.Bucket {
		base.Remove, base.Add = prev, cur
		return []change{base}
	}
	var out []change
	if prev != nil {
		c := base
		c.Remove = prev
		out = append(out, c)
	}
	if cur != nil {
		c := base
		c.Add = cur
		out = append(out, c)
	}
	return out
}

// Bucket is the figures of one bucket.
type Bucket struct {
	ID      string
	Figures Figures
	// LastEventAt is when the newest event counted there occurred.
	LastEventAt time.Time
}

// Buckets returns the buckets from..to, both inclusive, "" for no bound, in order of their ids.
//
// The range on _id is not a pure _id lookup, so FerretDB on SQLite scans the bucket collection
// to serve it; that collection holds one small document per day or month with figures (a few
// hundred a year), so the scan stays small however many documents are counted. The markers,
// the only part that grows with the events, are left out of what is read.
func (p *Projection[S, E]) Buckets(ctx context.Context, from, to string) ([]Bucket, error) {
	var bounds bson.D
	if from != "" {
		bounds = append(bounds, bson.E{Key: "$gte", Value: from})
	}
	if to != "" {
		bounds = append(bounds, bson.E{Key: "$lte", Value: to})
	}
	filter := bson.D{}
	if len(bounds) > 0 {
		filter = bson.D{{Key: "_id", Value: bounds}}
	}
	opts := options.Find().SetProjection(bson.D{{Key: "applied", Value: 0}}).SetSort(bson.D{{Key: "_id", Value: 1}})
	cur, err := p.buckets.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("read buckets %q..%q: %w", from, to, err)
	}
	var docs []journal.Doc[bucket]
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read buckets %q..%q: %w", from, to, err)
	}
	out := make([]Bucket, 0, len(docs))
	for _, d := range docs {
		if len(d.State.Figures) > 0 {
			out = append(out, Bucket{ID: d.ID, Figures: d.State.Figures, LastEventAt: d.State.LastEventAt})
		}
	}
	return out, nil
}
