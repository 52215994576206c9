// Package projection keeps the case statistics: counts of cases per identification day, built
// only from the case events (never from the case registry's database), following every
// correction, status decision, closure and merge, each exactly once however often JetStream
// delivers an event and in whatever order. Replaying the case stream into an empty database
// rebuilds them.
//
// Two kinds of journaled documents (package journal, docs/decisions.md 4 and 32) hold them:
//
//   - CaseCollection: one document per case, _id the case id: the facts the buckets count for
//     it as of its newest event applied (its case version), and the facts they replaced, so that
//     the move from one to the other can be applied again after a crash. CaseJournalCollection
//     holds its entries, the events.
//   - BucketCollection: one bucket per identification day, _id "YYYY-MM-DD": a version, the
//     counts, the markers "<case id>@<case version>" of the changes applied, and when the newest
//     of them occurred. BucketJournalCollection holds its entries, the changes.
//   - MonthCollection: the same per identification month, _id "YYYY-MM", each change applied
//     to its month as to its day. A period's statistics read its whole months here and its
//     other days in BucketCollection, each by _id, so a year costs twelve lookups however long
//     the history (docs/benchmarks.md).
//
// The case documents make the newest event win; the buckets' markers make each of its changes
// count once; the journals make concurrent writers safe, on FerretDB too.
package projection

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/journal"
)

// Collections of the projection.
const (
	CaseCollection          = "case_facts"
	CaseJournalCollection   = "case_facts_journal"
	BucketCollection        = "case_stats_days"
	BucketJournalCollection = "case_stats_days_journal"
	MonthCollection         = "case_stats_months"
	MonthJournalCollection  = "case_stats_months_journal"
)

// maxMoves bounds how often Apply starts again because other events of the same case moved its
// document under it, before giving up with journal.ErrBusy (for the consumer to redeliver).
const maxMoves = 10

// Projection is the case-statistics projection over the reporting service's own database.
type Projection struct {
	cases  *journal.Journal[caseDoc, Event]
	days   *journal.Journal[bucket, change]
	months *journal.Journal[bucket, change]
	// buckets and monthly are BucketCollection and MonthCollection, which Statistics reads.
	buckets, monthly *mongo.Collection
	// caseDocs is CaseCollection, which Cases scans.
	caseDocs *mongo.Collection
}

// New returns the projection stored in db.
func New(db *mongo.Database) *Projection {
	return &Projection{
		cases:    journal.New(db, CaseCollection, CaseJournalCollection, caseDoc.with),
		days:     journal.New(db, BucketCollection, BucketJournalCollection, bucket.with),
		months:   journal.New(db, MonthCollection, MonthJournalCollection, bucket.with),
		buckets:  db.Collection(BucketCollection),
		monthly:  db.Collection(MonthCollection),
		caseDocs: db.Collection(CaseCollection),
	}
}

// Apply brings the statistics to what e says of its case, unless an event of the case as new or
// newer was applied already (a duplicate, or one delivered late) or the case was merged. It
// reports whether e changed the case.
// After an error the event may be partly applied; applying it again completes it. Concurrent
// calls, in this process or others, are safe.
//
// The writes, in order, and why:
//
//  1. Settle the case's document, then apply to the buckets the changes of its last transition
//     (Previous to Counted). They are in already, and the markers make this a read, unless a
//     writer stopped between its steps 2 and 3: then this completes its work.
//  2. Commit e to the case's document (the journal entry), recording the facts it replaces, if
//     e moves the case (caseDoc.moves) and the document is still as step 1 found it. If another writer moved it, start
//     again at 1: the transition that moved it must be in the buckets before e's is laid over
//     it, because e's change subtracts the facts that transition added.
//  3. Apply e's transition to the buckets: the replaced facts leave their day, the new ones enter
//     theirs, each change marked "<case id>@<version>".
//
// So a crash after 2 leaves the transition in the case's document, and the redelivered e (a
// duplicate there) or the case's next event applies it in its step 1; the buckets never see one
// transition over another that they have not seen.
func (p *Projection) Apply(ctx context.Context, e Event) (bool, error) {
	if err := e.Validate(); err != nil {
		return false, err
	}
	// What the store keeps, so that the journals' copies roll documents forward to exactly what
	// this writer computes.
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Millisecond)
	for range maxMoves {
		d, err := p.cases.Settled(ctx, e.CaseID)
		if err != nil {
			return false, err
		}
		if err := p.count(ctx, e.CaseID, d.State); err != nil {
			return false, err
		}
		if !d.State.moves(e) {
			return false, nil
		}
		moved := false
		committed, err := p.cases.Append(ctx, e.CaseID, func(now journal.Doc[caseDoc]) (Event, bool) {
			moved = now.Version != d.Version
			return e, !moved
		})
		if err != nil {
			return committed, err
		}
		if moved {
			continue
		}
		return true, p.count(ctx, e.CaseID, d.State.with(e))
	}
	return false, fmt.Errorf("%w: case %s kept moving under event version %d", journal.ErrBusy, e.CaseID, e.Version)
}

// count applies to the buckets, of its day and of its month, each change of the case's last
// transition, each once.
func (p *Projection) count(ctx context.Context, caseID string, d caseDoc) error {
	for _, c := range d.changes(caseID) {
		if err := appendOnce(ctx, p.days, c.day(), c); err != nil {
			return fmt.Errorf("case %s version %d on %s: %w", caseID, c.Version, c.day(), err)
		}
		if err := appendOnce(ctx, p.months, c.month(), c.inMonth()); err != nil {
			return fmt.Errorf("case %s version %d in %s: %w", caseID, c.Version, c.month(), err)
		}
	}
	return nil
}

func appendOnce(ctx context.Context, j *journal.Journal[bucket, change], id string, c change) error {
	_, err := j.Append(ctx, id, func(b journal.Doc[bucket]) (change, bool) { return c, !b.State.applied(c) })
	return err
}
