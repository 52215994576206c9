// Package store keeps cases in the registry's own MongoDB database.
//
// Every change of a case is committed by inserting a revision, _id "<case id>@<version>", that
// holds the case as the change left it, who made the change, and its events: an insert is atomic
// on every backend and its _id lets exactly one writer take a version (a version-guarded update
// is not a compare-and-set on FerretDB, docs/decisions.md 4). The case document, _id the case id,
// is then brought up to the latest revision; reads by id read it, and lists find it through the
// list index (list.go). The revisions are the case's history. The identity's data key lives
// apart, in the key vault (keys.go), so that destroying it destroys the identity in every
// revision at once.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// Collection holds the cases, each at its latest version.
const Collection = "cases"

// ErrNotFound means no case has the id.
var ErrNotFound = errors.New("case not found")

// ErrExists means a case with the id already exists; Create returns it alongside.
var ErrExists = errors.New("case already exists")

// ErrConflict means another writer committed the version first.
var ErrConflict = errors.New("the case changed concurrently")

// Store is the registry's persistence.
type Store struct {
	db        *mongo.Database
	cases     *mongo.Collection
	revisions *mongo.Collection
	keys      *mongo.Collection
	list      *journal.Journal[block, Listed]
	listYears *mongo.Collection
	// yearsRecorded holds the years this process knows are in listYears.
	yearsRecorded sync.Map
	now           func() time.Time
	// Codes hands out the cases' human-readable codes.
	Codes *Codes
}

// New returns a store over db.
func New(db *mongo.Database) *Store {
	s := &Store{
		db: db, cases: db.Collection(Collection), revisions: db.Collection(RevisionCollection),
		keys: db.Collection(KeyCollection), listYears: db.Collection(ListYearCollection),
		now: time.Now, Codes: NewCodes(db),
	}
	s.list = journal.New(db, ListCollection, ListJournalCollection, withCase)
	return s
}

// Create commits a new case, at version 1, with its events. If the case exists already (a
// retried registration with the same idempotency key) nothing is written and the existing case
// is returned with ErrExists.
func (s *Store) Create(ctx context.Context, c domain.Case, change Change, events []outbox.Pending) (domain.Case, error) {
	created, err := s.Commit(ctx, c, change, events)
	if errors.Is(err, ErrConflict) {
		existing, gerr := s.Get(ctx, c.ID)
		if gerr != nil {
			return domain.Case{}, fmt.Errorf("load existing case %s: %w", c.ID, gerr)
		}
		return existing, ErrExists
	}
	return created, err
}

// Get returns the case with the id, or ErrNotFound. It reads the case document alone, which
// is the latest version unless a writer crashed between its commit and updating the document;
// Current rolls forward where that matters.
func (s *Store) Get(ctx context.Context, id string) (domain.Case, error) {
	var c domain.Case
	err := s.cases.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c)
	if mongodb.IsNotFound(err) {
		// The registration may have committed without its document (a crash in between).
		return s.Current(ctx, id)
	}
	if err != nil {
		return domain.Case{}, fmt.Errorf("load case %s: %w", id, err)
	}
	return c, nil
}

// Current returns the case at its latest committed version, bringing the case document up to it
// when it lags behind: what every change starts from.
func (s *Store) Current(ctx context.Context, id string) (domain.Case, error) {
	var c domain.Case
	err := s.cases.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c)
	switch {
	case mongodb.IsNotFound(err):
		c = domain.Case{ID: id}
	case err != nil:
		return domain.Case{}, fmt.Errorf("load case %s: %w", id, err)
	}
	latest, err := s.rollForward(ctx, c)
	if err != nil {
		return domain.Case{}, err
	}
	if latest.Version == 0 {
		return domain.Case{}, ErrNotFound
	}
	return latest, nil
}

// write brings the case document to c's version. It replaces by _id alone, the one filter
// FerretDB serves from an index on both backends; a guard on the version would not be atomic on
// FerretDB anyway. A slower writer may thus put back an older version for a moment: materialize
// looks for newer revisions after every write and puts the newest back, so the document always
// ends at the latest version committed before the last writer's look.
func (s *Store) write(ctx context.Context, c domain.Case) error {
	if c.Version == 1 {
		_, err := s.cases.InsertOne(ctx, c)
		if err == nil || mongodb.IsDuplicateKey(err) {
			return nil
		}
		return fmt.Errorf("write case %s: %w", c.ID, err)
	}
	_, err := s.cases.ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, c)
	if err != nil {
		return fmt.Errorf("write case %s at version %d: %w", c.ID, c.Version, err)
	}
	return nil
}
