// Package store keeps cases in the registry's own MongoDB database. A case is one document with
// a string _id; the events of a change live inside it until the outbox relay publishes them, so
// that the case and its events are written in one atomic step.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// Collection holds the cases.
const Collection = "cases"

// ErrNotFound means no case has the id.
var ErrNotFound = errors.New("case not found")

// ErrExists means a case with the id already exists; Create returns it alongside.
var ErrExists = errors.New("case already exists")

// Store is the registry's persistence.
type Store struct {
	db    *mongo.Database
	cases *mongo.Collection
	now   func() time.Time
	// Codes hands out the cases' human-readable codes.
	Codes *Codes
}

// New returns a store over db.
func New(db *mongo.Database) *Store {
	return &Store{db: db, cases: db.Collection(Collection), now: time.Now, Codes: NewCodes(db)}
}

// document is a case as stored: the case plus its unpublished events.
type document struct {
	domain.Case `bson:",inline"`
	Outbox      map[string]outbox.Event `bson:"outbox,omitempty"`
}

// Create stores a new case together with its events. If a case with the same id exists (a
// retried registration with the same idempotency key) nothing is written and the existing case is
// returned with ErrExists.
func (s *Store) Create(ctx context.Context, c domain.Case, events []outbox.Pending) (domain.Case, error) {
	if err := outbox.Announce(ctx, s.db, Collection, c.ID, events, s.now()); err != nil {
		return domain.Case{}, err
	}
	_, err := s.cases.InsertOne(ctx, document{Case: c, Outbox: outbox.Map(events)})
	if mongodb.IsDuplicateKey(err) {
		existing, gerr := s.Get(ctx, c.ID)
		if gerr != nil {
			return domain.Case{}, fmt.Errorf("load existing case %s: %w", c.ID, gerr)
		}
		return existing, ErrExists
	}
	if err != nil {
		return domain.Case{}, fmt.Errorf("insert case %s: %w", c.ID, err)
	}
	// Committed. Should the confirmation fail, the relay finds the events in the case after the
	// grace period: they are published late, never lost.
	_ = outbox.Confirm(ctx, s.db, events)
	return c, nil
}

// Get returns the case with the id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (domain.Case, error) {
	var d document
	err := s.cases.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: outbox.Field, Value: 0}})).Decode(&d)
	if mongodb.IsNotFound(err) {
		return domain.Case{}, ErrNotFound
	}
	if err != nil {
		return domain.Case{}, fmt.Errorf("load case %s: %w", id, err)
	}
	return d.Case, nil
}

// EraseIdentity destroys c's identity: the wrapped data key and the ciphertexts are removed, so
// the identity cannot be decrypted by anyone, from this document or from any copy of it; the
// pseudonymous record stays. The version moves on and the erasure's event is committed with it.
//
// Nothing else updates a case yet; when updates arrive they must commit through an insert
// (docs/decisions.md, 4), since this update by _id is a read-modify-write on FerretDB.
func (s *Store) EraseIdentity(ctx context.Context, c domain.Case, basis string, now time.Time, events []outbox.Pending) (domain.Case, error) {
	if err := outbox.Announce(ctx, s.db, Collection, c.ID, events, now); err != nil {
		return domain.Case{}, err
	}
	set := bson.D{
		{Key: "identity_erased_at", Value: now}, {Key: "identity_erasure_basis", Value: basis},
		{Key: "version", Value: c.Version + 1}, {Key: "updated_at", Value: now},
	}
	for id, e := range outbox.Map(events) {
		set = append(set, bson.E{Key: outbox.Field + "." + id, Value: e})
	}
	if err := s.RemoveIndexes(ctx, c.ID, c.BlindIndexes); err != nil {
		return domain.Case{}, err
	}
	_, err := s.cases.UpdateOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, bson.D{
		{Key: "$unset", Value: bson.D{{Key: "identity", Value: ""}, {Key: "blind_indexes", Value: ""}}},
		{Key: "$set", Value: set},
	})
	if err != nil {
		return domain.Case{}, fmt.Errorf("erase the identity of case %s: %w", c.ID, err)
	}
	_ = outbox.Confirm(ctx, s.db, events) // as in Create: unconfirmed events are found later
	c.SealedIdentity, c.BlindIndexes, c.IdentityErasedAt, c.Version, c.UpdatedAt = nil, nil, &now, c.Version+1, now
	return c, nil
}
