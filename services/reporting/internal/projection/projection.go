// Package projection keeps the case statistics: counts of registered cases per identification
// day, built only from events (never from the case registry's database), each event counted
// exactly once however often JetStream delivers it. Replaying the case stream into an empty
// database rebuilds them.
//
// Each day's statistics are a journaled document (package journal, docs/decisions.md 4), kept in
// two collections:
//
//   - BucketCollection: one bucket per identification day, _id "YYYY-MM-DD": a version, the
//     counts, the markers "<aggregate id>@<aggregate version>" of the events counted, and when
//     the newest of them occurred. Queries read only these.
//   - JournalCollection: one entry per event counted, _id "<day>@<version>": the event that made
//     that version of that day's bucket.
//
// The journal makes concurrent writers of a day safe, on FerretDB too; the markers make a
// redelivered event count once.
package projection

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/journal"
)

// Collections of the projection.
const (
	BucketCollection  = "case_stats_daily"
	JournalCollection = "case_stats_daily_journal"
)

// Projection is the case-statistics projection over the reporting service's own database.
type Projection struct {
	days *journal.Journal[bucket, Case]
	// buckets is BucketCollection, which Statistics reads a range of days from.
	buckets *mongo.Collection
}

// New returns the projection stored in db.
func New(db *mongo.Database) *Projection {
	return &Projection{
		days:    journal.New(db, BucketCollection, JournalCollection, bucket.with),
		buckets: db.Collection(BucketCollection),
	}
}

// Apply counts c in its day's bucket unless its event was counted already. It reports whether it
// counted the case (false: a duplicate delivery). After an error the case may have been counted;
// the redelivered event then finds it so. Concurrent calls, in this process or others, are safe.
func (p *Projection) Apply(ctx context.Context, c Case) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, err
	}
	// What the store keeps, so that the journal's copy of c rolls a bucket forward to exactly
	// what this writer computes.
	c.OccurredAt = c.OccurredAt.UTC().Truncate(time.Millisecond)
	return p.days.Append(ctx, c.Day, func(d journal.Doc[bucket]) (Case, bool) {
		return c, !d.State.counted(c)
	})
}
