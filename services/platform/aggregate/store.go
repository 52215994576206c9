// Package aggregate keeps revisioned aggregates on MongoDB (or FerretDB) without transactions:
// a case, a referral, a meeting, a report — anything with a lifecycle, a version that callers
// guard with If-Match, a history of who changed what, and events that must be published exactly
// when a change commits (docs/decisions.md 1, 2, 3, 16; docs/architecture.md, "Aggregates").
//
// Every change is committed by inserting a revision, _id "<id>@<version>", that holds the
// aggregate as the change left it, the history entry, and the change's events: the insert is
// the commit (mongodb.Claim), so exactly one writer takes a version, and the events exist if and
// only if the change does (outbox.Commit). The current document, _id the aggregate's id, is then
// brought up to the latest revision; reads by id read it. A writer that stops between its commit
// and that write leaves the document behind, and the next change or read through Current rolls
// it forward. The relay publishes the events held by committed revisions, in order per aggregate.
//
// The package knows nothing of the aggregate's type beyond State: sealed fields (piicrypto) are
// sealed by the service before a change is decided and stay sealed in every revision.
package aggregate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// State is what an aggregate type provides: its id, its version, and itself stamped as another
// version changed at a time. Versions are dense from 1.
type State[T any] interface {
	AggregateID() string
	AggregateVersion() int64
	AtVersion(version int64, at time.Time) T
}

// Entry is what a history entry type provides: itself stamped with who made the change, and when.
type Entry[C any] interface {
	By(institution, subject string, at time.Time) C
}

// ErrNotFound means no aggregate has the id.
var ErrNotFound = mongodb.ErrNotFound

// ErrExists means an aggregate with the id exists already; Create returns it alongside.
var ErrExists = errors.New("already exists")

// ErrConflict means another writer committed the version first.
var ErrConflict = errors.New("changed concurrently")

// Spec names an aggregate type. Name "case" gives the collections "cases" (the current
// documents) and "case_revisions", whose documents name the aggregate in "case_id" and hold it
// in "case"; errors and their details say "case" too.
type Spec struct {
	Name string
	// Now is the clock of changes; time.Now when nil.
	Now func() time.Time
}

// Store keeps the aggregates of one type in db.
type Store[T State[T], C Entry[C]] struct {
	db        *mongo.Database
	name      string
	docs      *mongo.Collection
	revisions *mongo.Collection
	now       func() time.Time
	// crash, for tests only, stops a commit at a point, as if the process had died there.
	crash func(point string) error
}

// New returns the store of the aggregates spec names, in db.
func New[T State[T], C Entry[C]](db *mongo.Database, spec Spec) *Store[T, C] {
	s := &Store[T, C]{
		db: db, name: spec.Name, docs: db.Collection(spec.Name + "s"), revisions: db.Collection(spec.Name + "_revisions"),
		now: spec.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Collection is the collection of the current documents.
func (s *Store[T, C]) Collection() *mongo.Collection { return s.docs }

// RevisionCollection is the collection of the revisions.
func (s *Store[T, C]) RevisionCollection() *mongo.Collection { return s.revisions }

// Create commits a new aggregate, at version 1, with its history entry and events. If it exists
// already (a retried creation: ids derived from an idempotency key, see KeyedID) nothing is
// written and the existing aggregate is returned with ErrExists.
func (s *Store[T, C]) Create(ctx context.Context, a T, change C, events []outbox.Pending) (T, error) {
	if v := a.AggregateVersion(); v != 1 || a.AggregateID() == "" {
		var zero T
		return zero, fmt.Errorf("create %s %q at version %d: a new aggregate has an id and is version 1", s.name, a.AggregateID(), v)
	}
	created, err := s.Commit(ctx, a, change, events)
	if errors.Is(err, ErrConflict) {
		existing, gerr := s.Get(ctx, a.AggregateID())
		if gerr != nil {
			return existing, fmt.Errorf("load existing %s %s: %w", s.name, a.AggregateID(), gerr)
		}
		return existing, ErrExists
	}
	return created, err
}

// Get returns the aggregate with the id, or ErrNotFound. It reads the current document alone,
// which is the latest version unless a writer stopped between its commit and writing the
// document; Current rolls forward where that matters.
func (s *Store[T, C]) Get(ctx context.Context, id string) (T, error) {
	var a T
	err := s.docs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&a)
	if mongodb.IsNotFound(err) {
		// The creation may have committed without its document (a stop in between).
		return s.Current(ctx, id)
	}
	if err != nil {
		return a, fmt.Errorf("load %s %s: %w", s.name, id, err)
	}
	return a, nil
}

// Current returns the aggregate at its latest committed version, bringing the current document
// up to it when it lags behind: what every change starts from.
func (s *Store[T, C]) Current(ctx context.Context, id string) (T, error) {
	var a T
	version := int64(0)
	err := s.docs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&a)
	switch {
	case err == nil:
		version = a.AggregateVersion()
	case !mongodb.IsNotFound(err):
		return a, fmt.Errorf("load %s %s: %w", s.name, id, err)
	}
	latest, found, err := s.rollForward(ctx, id, version, a)
	if err != nil {
		return latest, err
	}
	if !found {
		return latest, ErrNotFound
	}
	return latest, nil
}

// Commit records a, at its version, as the aggregate's next revision with its history entry and
// events. The insert is the commit: if another writer took the version first, nothing is written
// and ErrConflict is returned. The current document is brought up to date afterwards.
func (s *Store[T, C]) Commit(ctx context.Context, a T, change C, events []outbox.Pending) (T, error) {
	id, v := a.AggregateID(), a.AggregateVersion()
	doc := s.revisionDoc(a, change, events)
	announced, err := outbox.Commit(ctx, s.db, s.revisions.Name(), mongodb.VersionID(id, v), id, doc, events, s.now())
	if errors.Is(err, mongodb.ErrTaken) {
		// The pointers are not withdrawn: they carry the winner's event ids too (the ids derive
		// from the aggregate and version). Those the winner does not confirm are dropped by the
		// relay once it finds the winner's revision holds other events.
		return a, ErrConflict
	}
	if err != nil {
		return a, fmt.Errorf("commit %s %s version %d: %w", s.name, id, v, err)
	}
	// Committed. Should anything below fail or not run, the next read through Current writes the
	// document, and the relay finds the events in the revision after its grace period.
	if err := s.crashAt("committed"); err != nil {
		return a, err
	}
	if _, _, err := s.materialize(ctx, a); err != nil {
		return a, err
	}
	if err := s.crashAt("written"); err != nil {
		return a, err
	}
	_ = announced.Confirm(ctx)
	return a, nil
}

// materialize writes a to the current document, then follows any newer revisions: a writer of a
// newer version may have written before this one, whose write would then hide it.
func (s *Store[T, C]) materialize(ctx context.Context, a T) (T, bool, error) {
	if err := s.write(ctx, a); err != nil {
		return a, false, err
	}
	return s.rollForward(ctx, a.AggregateID(), a.AggregateVersion(), a)
}

// rollForward returns the latest committed version of aggregate id, starting from a at version
// (0: no document yet), writing the current document for each newer revision it finds. found is
// false when the aggregate has no version at all.
func (s *Store[T, C]) rollForward(ctx context.Context, id string, version int64, a T) (T, bool, error) {
	_, err := mongodb.Follow(ctx, s.revisions, func(v int64) string { return mongodb.VersionID(id, v) }, version,
		func(v int64, raw bson.Raw) (bool, error) {
			next, err := s.state(raw)
			if err != nil {
				return false, fmt.Errorf("%s %s version %d: %w", s.name, id, v, err)
			}
			if err := s.write(ctx, next); err != nil {
				return false, err
			}
			a, version = next, v
			return true, nil
		}, stateOnly(s.name))
	if err != nil {
		return a, false, fmt.Errorf("roll %s %s forward: %w", s.name, id, err)
	}
	return a, version > 0, nil
}

// write brings the current document to a's version. It replaces by _id alone, the one filter
// FerretDB serves from an index on both backends; a guard on the version would not be atomic on
// FerretDB anyway. A slower writer may thus put back an older version for a moment:
// materialize looks for newer revisions after every write and puts the newest back, so the
// document always ends at the latest version committed before the last writer's look.
func (s *Store[T, C]) write(ctx context.Context, a T) error {
	id, v := a.AggregateID(), a.AggregateVersion()
	if v == 1 {
		err := mongodb.Claim(ctx, s.docs, a)
		if err == nil || errors.Is(err, mongodb.ErrTaken) {
			return nil
		}
		return fmt.Errorf("write %s %s: %w", s.name, id, err)
	}
	if _, err := s.docs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, a); err != nil {
		return fmt.Errorf("write %s %s at version %d: %w", s.name, id, v, err)
	}
	return nil
}

func (s *Store[T, C]) crashAt(point string) error {
	if s.crash == nil {
		return nil
	}
	return s.crash(point)
}
