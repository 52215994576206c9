// Package projection keeps the case statistics: counts of registered cases per identification
// day, built only from events (never from the case registry's database), each event counted
// exactly once however often JetStream delivers it. Replaying the case stream into an empty
// database rebuilds them.
//
// Two collections:
//
//   - BucketCollection: one bucket per identification day, _id "YYYY-MM-DD": the counts, a
//     version, the markers "<aggregate id>@<aggregate version>" of the events counted, and when
//     the newest of them occurred. Queries read only these.
//   - JournalCollection: one entry per event counted, _id "<day>@<version>": the event that made
//     that version of that day's bucket.
//
// Why a journal: a bucket must change by compare-and-set, and on FerretDB (the tests and the
// default run) a replace filtered on {_id, version} is not one. FerretDB finds the matching
// document, then writes it back by _id in a separate step, so two writers that read the same
// version both match and one increment is lost (measured: 66 of 200 concurrent increments
// kept). An insert is atomic on every backend, its unique _id being the guard, so the journal
// insert is the commit and the bucket is a snapshot of the journal that anyone can bring up to
// date. Applying an event:
//
//  1. settle: load the bucket by _id and roll it forward through the journal entries past its
//     version (left by a writer that stopped after its commit, or overwritten by a slower one);
//  2. if the event's marker is in the bucket, the event was counted: nothing to do;
//  3. insert the entry "<day>@<version+1>"; a duplicate key means another event took that
//     version first: back to 1, a bounded number of times;
//  4. replace the bucket by _id with the new version, then settle again, which repairs the
//     bucket if a slower writer replaced it with an older version in the meantime.
//
// Every lookup and write is addressed by _id alone, which FerretDB on SQLite serves from its
// index (any other filter scans the collection); the journal is never scanned.
package projection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Collections of the projection.
const (
	BucketCollection  = "case_stats_daily"
	JournalCollection = "case_stats_daily_journal"
)

// maxAttempts bounds the writes lost to concurrent writers of the same day before Apply gives up
// and the event is redelivered later.
const maxAttempts = 10

// Projection is the case-statistics projection over the reporting service's own database.
type Projection struct {
	buckets *mongo.Collection
	journal *mongo.Collection
}

// New returns the projection stored in db.
func New(db *mongo.Database) *Projection {
	return &Projection{buckets: db.Collection(BucketCollection), journal: db.Collection(JournalCollection)}
}

// Apply counts c in its day's bucket unless its event was counted already. It reports whether it
// counted the case (false: a duplicate delivery). Concurrent calls, in this process or others,
// are safe.
func (p *Projection) Apply(ctx context.Context, c Case) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, err
	}
	c.OccurredAt = c.OccurredAt.UTC().Truncate(time.Millisecond) // what the store keeps
	for attempt := range maxAttempts {
		b, err := p.settle(ctx, c.Day)
		if err != nil {
			return false, err
		}
		if b.counted(c) {
			return false, nil
		}
		next := b.with(c)
		_, err = p.journal.InsertOne(ctx, entry{ID: entryID(c.Day, next.Version), Case: c})
		if mongodb.IsDuplicateKey(err) {
			if err := pause(ctx, attempt); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, fmt.Errorf("journal %s: %w", entryID(c.Day, next.Version), err)
		}
		// Committed. Should anything below fail, the event is redelivered, and settling then
		// completes the bucket and finds the event counted.
		if err := p.save(ctx, next); err != nil {
			return false, err
		}
		if _, err := p.settle(ctx, c.Day); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, fmt.Errorf("case statistics of %s: lost %d times to concurrent writers; retry later", c.Day, maxAttempts)
}

// pause waits a little, at random, after a lost race, so that the writers who lost together do
// not collide again at once.
func pause(ctx context.Context, attempt int) error {
	t := time.NewTimer(rand.N(time.Duration(attempt+1) * 2 * time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// settle returns the day's bucket with every journal entry applied, saving it if it was behind.
// A save may overwrite a newer version that another writer saved meanwhile, so settle reloads
// after saving until it finds the bucket current.
func (p *Projection) settle(ctx context.Context, day string) (bucket, error) {
	for range maxAttempts {
		b, err := p.load(ctx, day)
		if err != nil {
			return bucket{}, err
		}
		behind := false
		for {
			var e entry
			err := p.journal.FindOne(ctx, bson.D{{Key: "_id", Value: entryID(day, b.Version+1)}}).Decode(&e)
			if mongodb.IsNotFound(err) {
				break
			}
			if err != nil {
				return bucket{}, fmt.Errorf("journal %s: %w", entryID(day, b.Version+1), err)
			}
			b, behind = b.with(e.Case), true
		}
		if !behind {
			return b, nil
		}
		if err := p.save(ctx, b); err != nil {
			return bucket{}, err
		}
	}
	return bucket{}, fmt.Errorf("case statistics of %s: still changing after %d settles; retry later", day, maxAttempts)
}

// load returns the stored bucket of day, or an empty one at version 0.
func (p *Projection) load(ctx context.Context, day string) (bucket, error) {
	var b bucket
	err := p.buckets.FindOne(ctx, bson.D{{Key: "_id", Value: day}}).Decode(&b)
	if mongodb.IsNotFound(err) {
		return bucket{Day: day}, nil
	}
	if err != nil {
		return bucket{}, fmt.Errorf("load bucket %s: %w", day, err)
	}
	return b, nil
}

// save writes b over the stored bucket, creating it if needed. It does not guard the version:
// the journal insert did that, and settle repairs a bucket overwritten with an older version.
// It does not upsert because FerretDB does not report an upsert that lost a race as a duplicate
// key; an insert that loses one is, and then the bucket exists to be replaced.
func (p *Projection) save(ctx context.Context, b bucket) error {
	byID := bson.D{{Key: "_id", Value: b.Day}}
	r, err := p.buckets.ReplaceOne(ctx, byID, b)
	if err == nil && r.MatchedCount == 0 {
		_, err = p.buckets.InsertOne(ctx, b)
		if mongodb.IsDuplicateKey(err) {
			_, err = p.buckets.ReplaceOne(ctx, byID, b)
		}
	}
	if err != nil {
		return fmt.Errorf("save bucket %s version %d: %w", b.Day, b.Version, err)
	}
	return nil
}
