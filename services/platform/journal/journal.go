// Package journal keeps documents that many writers change concurrently, safely on every
// backend the services run on, including FerretDB (docs/decisions.md 4).
//
// A document must change by compare-and-set, and on FerretDB a replace filtered on {_id,
// version} is not one: FerretDB finds the matching document, then writes it back by _id in a
// separate step, so two writers that read the same version both match and one change is lost
// (measured: 66 of 200 concurrent increments kept). An insert is atomic everywhere, its unique
// _id being the guard. So each document has a journal: entry "<id>@<version>" is the change that
// made that version, and inserting it is the commit. The document itself is a snapshot of its
// journal that anyone can bring up to date. Appending a change:
//
//  1. settle: load the document by _id and roll it forward through the journal entries past its
//     version (left by a writer that stopped after its commit, or overwritten by a slower one);
//  2. ask the caller what to append given that state (nothing, if the change is in already);
//  3. insert the entry "<id>@<version+1>"; a duplicate key means another writer took that
//     version first: back to 1, a bounded number of times;
//  4. replace the document by _id with the new version, then settle again, which repairs the
//     document if a slower writer replaced it with an older version in the meantime.
//
// Every lookup and write is addressed by _id alone, which FerretDB serves from an index on both
// of its backends (docs/decisions.md 14 and 17); the journal is never scanned. The commit is the
// platform's claim on "<id>@<version>" (mongodb.Claim), and settling follows the claims
// (mongodb.Follow), as aggregate.Store does for revisions. The difference is deliberate: an
// aggregate's revision holds the whole state, the history a person reads, and its events; a
// journal entry holds only the change, applied by a pure function, because its documents (a
// day's statistics, a block of the list index) are large, change often, have no history anyone
// reads, and publish no events.
package journal

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// maxAttempts bounds the commits lost to concurrent writers of one document, and the settles
// that find it still changing, before an operation gives up (for the caller to retry later).
const maxAttempts = 10

// ErrBusy means a document kept changing under an operation until it gave up; retry later.
var ErrBusy = errors.New("document changing concurrently")

// Doc is one journaled document: its _id, its version (the number of entries applied) and the
// state those entries made. The state's fields are stored inline, beside _id and version.
type Doc[S any] struct {
	ID      string `bson:"_id"`
	Version int64  `bson:"version"`
	State   S      `bson:",inline"`
}

// entry is one journal document: the change E that made one version of one document.
type entry[E any] struct {
	ID     string `bson:"_id"`
	Change E      `bson:"change"`
}

// Journal is a collection of documents with state S changed by entries E.
type Journal[S, E any] struct {
	docs    *mongo.Collection
	entries *mongo.Collection
	// apply returns the state after change. It must depend on nothing but its arguments, so that
	// whoever rolls a document forward computes exactly what the change's writer computed, and
	// must not modify state (clone maps and slices it changes).
	apply func(state S, change E) S
}

// New returns the journal of the documents in collection docs, whose entries are kept in
// collection entries, both in db.
func New[S, E any](db *mongo.Database, docs, entries string, apply func(S, E) S) *Journal[S, E] {
	return &Journal[S, E]{docs: db.Collection(docs), entries: db.Collection(entries), apply: apply}
}

// EntryID is the journal _id of the change that made version v of document id: the claim on
// that version (mongodb.Claim).
func EntryID(id string, v int64) string { return mongodb.VersionID(id, v) }

// Append commits the change that decide returns for the current state of document id, unless
// decide returns false (the change is in already, or moot). decide may be called several times,
// once per state seen, and must not modify it. Append reports whether it committed a change.
// Concurrent calls, in this process or others, are safe.
func (j *Journal[S, E]) Append(ctx context.Context, id string, decide func(Doc[S]) (E, bool)) (bool, error) {
	return j.append(ctx, id, decide, maxAttempts)
}

// TryAppend is Append that gives up, with ErrBusy, as soon as another writer takes the version
// it tried to commit: for callers that have a second way to apply the change (a consumer of
// the same events, say) and would rather not wait in a queue of writers.
func (j *Journal[S, E]) TryAppend(ctx context.Context, id string, decide func(Doc[S]) (E, bool)) (bool, error) {
	return j.append(ctx, id, decide, 1)
}

func (j *Journal[S, E]) append(ctx context.Context, id string, decide func(Doc[S]) (E, bool), attempts int) (bool, error) {
	for attempt := range attempts {
		d, err := j.Settled(ctx, id)
		if err != nil {
			return false, err
		}
		change, ok := decide(d)
		if !ok {
			return false, nil
		}
		next := Doc[S]{ID: id, Version: d.Version + 1, State: j.apply(d.State, change)}
		err = mongodb.Claim(ctx, j.entries, entry[E]{ID: EntryID(id, next.Version), Change: change})
		if errors.Is(err, mongodb.ErrTaken) {
			if attempt == attempts-1 {
				break
			}
			if err := pause(ctx, attempt); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, fmt.Errorf("journal %s: %w", EntryID(id, next.Version), err)
		}
		// Committed. Should anything below fail, settling (by the next writer or reader, or by
		// this caller's retry) completes the document.
		if err := j.save(ctx, next); err != nil {
			return true, err
		}
		if _, err := j.Settled(ctx, id); err != nil {
			return true, err
		}
		return true, nil
	}
	return false, fmt.Errorf("%w: %s lost %d commits to other writers", ErrBusy, id, attempts)
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

// Settled returns document id with every committed entry applied, saving it if it was behind; a
// document never written is returned at version 0 with the zero state. A save may overwrite a
// newer version that another writer saved meanwhile, so Settled reloads after saving until it
// finds the document current.
func (j *Journal[S, E]) Settled(ctx context.Context, id string) (Doc[S], error) {
	for range maxAttempts {
		d, err := j.Load(ctx, id)
		if err != nil {
			return Doc[S]{}, err
		}
		stored := d.Version
		_, err = mongodb.Follow(ctx, j.entries, func(v int64) string { return EntryID(id, v) }, d.Version,
			func(v int64, raw bson.Raw) (bool, error) {
				var e entry[E]
				if err := bson.Unmarshal(raw, &e); err != nil {
					return false, fmt.Errorf("journal %s: %w", EntryID(id, v), err)
				}
				d = Doc[S]{ID: id, Version: v, State: j.apply(d.State, e.Change)}
				return true, nil
			})
		if err != nil {
			return Doc[S]{}, fmt.Errorf("journal of %s: %w", id, err)
		}
		if d.Version == stored {
			return d, nil
		}
		if err := j.save(ctx, d); err != nil {
			return Doc[S]{}, err
		}
	}
	return Doc[S]{}, fmt.Errorf("%w: %s still changing after %d settles", ErrBusy, id, maxAttempts)
}

// Load returns document id as stored, which may lag its journal by the changes of a writer that
// stopped halfway; version 0 with the zero state when it was never written. Readers that can
// accept that lag (for a moment, until the next writer settles it) use Load, the rest Settled.
func (j *Journal[S, E]) Load(ctx context.Context, id string) (Doc[S], error) {
	var d Doc[S]
	err := j.docs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if mongodb.IsNotFound(err) {
		return Doc[S]{ID: id}, nil
	}
	if err != nil {
		return Doc[S]{}, fmt.Errorf("load %s: %w", id, err)
	}
	return d, nil
}

// save writes d over the stored document, creating it if needed. It does not guard the version:
// the journal insert did that, and Settled repairs a document overwritten with an older version.
// It does not upsert because FerretDB does not report an upsert that lost a race as a duplicate
// key; an insert that loses one is, and then the document exists to be replaced.
func (j *Journal[S, E]) save(ctx context.Context, d Doc[S]) error {
	byID := bson.D{{Key: "_id", Value: d.ID}}
	r, err := j.docs.ReplaceOne(ctx, byID, d)
	if err == nil && r.MatchedCount == 0 {
		_, err = j.docs.InsertOne(ctx, d)
		if mongodb.IsDuplicateKey(err) {
			_, err = j.docs.ReplaceOne(ctx, byID, d)
		}
	}
	if err != nil {
		return fmt.Errorf("save %s version %d: %w", d.ID, d.Version, err)
	}
	return nil
}
