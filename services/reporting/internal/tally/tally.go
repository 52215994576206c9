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
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/reporting/internal/period"
)

// Kind is one kind of document, with state S changed by events E. Its functions must depend on
// nothing but their arguments, and not modify them (clone maps and slices they change): the
// journals roll documents forward with them.
type Kind[S, E any] struct {
	// Collections: the documents, their journal, the buckets, theirs.
	Docs, DocJournal, Buckets, BucketJournal string
	// Months and MonthJournal, for buckets of days ("YYYY-MM-DD"): the same figures per month,
	// from which a period reads its whole months by _id (package period). Empty for buckets that
	// are months already: a period reads those by a range, twelve small documents a year.
	Months, MonthJournal string
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
	kind Kind[S, E]
	docs *journal.Journal[doc[S], E]
	// docColl is Kind.Docs, which States reads and Load fills.
	docColl *mongo.Collection
	days    *journal.Journal[bucket, change]
	buckets *mongo.Collection
	// months and monthly are nil without Kind.Months.
	months  *journal.Journal[bucket, change]
	monthly *mongo.Collection
}

// New returns the projection of kind k stored in db.
func New[S, E any](db *mongo.Database, k Kind[S, E]) *Projection[S, E] {
	p := &Projection[S, E]{
		kind:    k,
		docs:    journal.New(db, k.Docs, k.DocJournal, k.apply),
		docColl: db.Collection(k.Docs),
		days:    journal.New(db, k.Buckets, k.BucketJournal, bucket.with),
		buckets: db.Collection(k.Buckets),
	}
	if k.Months != "" {
		p.months, p.monthly = journal.New(db, k.Months, k.MonthJournal, bucket.with), db.Collection(k.Months)
	}
	return p
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
		if err := appendOnce(ctx, p.days, c.bucket(), c); err != nil {
			return fmt.Errorf("%s on %s: %w", c.Marker, c.bucket(), err)
		}
		if p.months == nil {
			continue
		}
		// In the month, the marker is told apart by the day: one move may leave one day of a
		// month and enter another.
		mc := c
		mc.Marker += "/" + c.bucket()
		if err := appendOnce(ctx, p.months, c.bucket()[:7], mc); err != nil {
			return fmt.Errorf("%s in %s: %w", c.Marker, c.bucket()[:7], err)
		}
	}
	return nil
}

func appendOnce(ctx context.Context, j *journal.Journal[bucket, change], id string, c change) error {
	_, err := j.Append(ctx, id, func(b journal.Doc[bucket]) (change, bool) { return c, !b.State.applied(c) })
	return err
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

// Buckets returns the buckets of from..to, both inclusive, "" for no bound. With month buckets
// (Kind.Months), whole months come as their month's bucket and the other days as theirs, each
// read by _id (package period), so a period's cost does not grow with the history; the buckets
// then come days first, then months. Without, the buckets are months, read by a range in order
// of their ids: a scan of twelve small documents a year.
func (p *Projection[S, E]) Buckets(ctx context.Context, from, to string) ([]Bucket, error) {
	if p.months == nil {
		return read(ctx, p.buckets, from, to)
	}
	pl := period.Plan(from, to)
	var out []Bucket
	for _, day := range pl.Days {
		b, ok, err := lookup(ctx, p.buckets, day)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, b)
		}
	}
	if pl.Open {
		months, err := read(ctx, p.monthly, pl.FirstMonth, pl.LastMonth)
		return append(out, months...), err
	}
	for _, month := range pl.Months {
		b, ok, err := lookup(ctx, p.monthly, month)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, b)
		}
	}
	return out, nil
}

// withoutMarkers leaves out of what is read the only part of a bucket that grows with its events.
var withoutMarkers = bson.D{{Key: "applied", Value: 0}}

// lookup reads bucket id of coll, false when there is none or it counts nothing.
func lookup(ctx context.Context, coll *mongo.Collection, id string) (Bucket, bool, error) {
	var d journal.Doc[bucket]
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(withoutMarkers)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Bucket{}, false, nil
	}
	if err != nil {
		return Bucket{}, false, fmt.Errorf("read bucket %s: %w", id, err)
	}
	return Bucket{ID: d.ID, Figures: d.State.Figures, LastEventAt: d.State.LastEventAt}, len(d.State.Figures) > 0, nil
}

// read reads the buckets of coll from..to by a range of _id, in order.
func read(ctx context.Context, coll *mongo.Collection, from, to string) ([]Bucket, error) {
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
	opts := options.Find().SetProjection(withoutMarkers).SetSort(bson.D{{Key: "_id", Value: 1}})
	cur, err := coll.Find(ctx, filter, opts)
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
