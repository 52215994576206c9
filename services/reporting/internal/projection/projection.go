// Package projection keeps the case statistics: counts of cases per identification day, built
// only from the case events (never from the case registry's database), following every
// correction, status decision, closure and merge, each exactly once however often JetStream
// delivers an event and in whatever order. Replaying the case stream into an empty database
// rebuilds them.
//
// The counting is package tally's (docs/decisions.md 32 and 36): one journaled document per case,
// _id the case id, with its newest facts (Case) and the move from the tally they replaced to
// theirs; one bucket per identification day and one per month, each the sum of the tallies
// counted there. A period's statistics read its whole months from the month buckets and its
// other days from the day buckets, each by _id, so a year costs twelve lookups however long the
// history (docs/benchmarks.md). The cross-tabulations (package crosstab) follow the same cases,
// with the same Case, into buckets of their own.
package projection

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Collections of the projection: the cases, the day and the month buckets, and their journals.
const (
	CaseCollection          = "case_counts"
	CaseJournalCollection   = "case_counts_journal"
	BucketCollection        = "case_counts_days"
	BucketJournalCollection = "case_counts_days_journal"
	MonthCollection         = "case_counts_months"
	MonthJournalCollection  = "case_counts_months_journal"
)

// Case is a case as the statistics know it: the version of the case event applied last, whether
// it was merged into another, and its newest facts.
type Case struct {
	Version int64 `bson:"version"`
	// Merged stays true once the case was merged into another: a merged duplicate counts nowhere,
	// whatever later events say of it.
	Merged bool  `bson:"merged"`
	Facts  Facts `bson:"facts"`
}

// Moves reports whether e changes c: it is newer than the event applied last, or it is the case's
// merge, which is final whenever it arrives (a merged duplicate counts nowhere, even when an
// event of it newer than the merge came first), so that the figures do not depend on the order
// of delivery.
func (c Case) Moves(e Event) bool { return e.Version > c.Version || e.Merged && !c.Merged }

// With returns the case after e, leaving c unchanged.
func (c Case) With(e Event) Case {
	next := Case{Version: e.Version, Merged: c.Merged || e.Merged}
	if !next.Merged {
		next.Facts = e.Facts
	}
	return next
}

// Counted reports whether c counts: seen, and not merged.
func (c Case) Counted() bool { return c.Version > 0 && !c.Merged }

// tallyOf counts c once, with each of its values, in its identification day.
func tallyOf(c Case) *tally.Tally {
	if !c.Counted() {
		return nil
	}
	return &tally.Tally{Bucket: c.Facts.Day, Figures: figuresOf(c.Facts)}
}

var kind = tally.Kind[Case, Event]{
	Docs: CaseCollection, DocJournal: CaseJournalCollection,
	Buckets: BucketCollection, BucketJournal: BucketJournalCollection,
	Months: MonthCollection, MonthJournal: MonthJournalCollection,
	Moves: Case.Moves, With: Case.With, Tally: tallyOf,
	OccurredAt: func(e Event) time.Time { return e.OccurredAt },
}

// Projection is the case-statistics projection over the reporting service's own database.
type Projection struct {
	p *tally.Projection[Case, Event]
}

// New returns the projection stored in db.
func New(db *mongo.Database) *Projection { return &Projection{p: tally.New(db, kind)} }

// Apply brings the statistics to what e says of its case, unless an event of the case as new or
// newer was applied already (a duplicate, or one delivered late) or the case was merged. It
// reports whether e changed the case. After an error the event may be partly applied; applying
// it again completes it (tally.Projection.Apply). Concurrent calls, in this process or others,
// are safe.
func (p *Projection) Apply(ctx context.Context, e Event) (bool, error) {
	if err := e.Validate(); err != nil {
		return false, err
	}
	// What the store keeps, so that the journals' copies roll documents forward to exactly what
	// this writer computes.
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Millisecond)
	return p.p.Apply(ctx, e.CaseID, e)
}
