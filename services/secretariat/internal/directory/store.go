// Package directory keeps which institutions may call the system and which credentials are
// revoked: the secretariat's database is where they are kept (and backed up), the access bucket
// on the bus (services/platform/access) is how every service learns them.
package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Collections of the secretariat's database.
const (
	InstitutionsCollection = "institutions"
	RevocationsCollection  = "revocations"
)

// Institution is an entry of the directory as stored.
type Institution struct {
	Code      string      `bson:"_id"`
	Name      string      `bson:"name"`
	Kind      access.Kind `bson:"kind"`
	Active    bool        `bson:"active"`
	UpdatedAt time.Time   `bson:"updated_at"`
}

// Published is the entry every service sees.
func (i Institution) Published() access.Institution {
	return access.Institution{Code: i.Code, Kind: i.Kind, Active: i.Active}
}

// Revocation kinds.
const (
	RevokedToken   = "token"
	RevokedSubject = "subject"
)

// Revocation is a revoked token or subject. Its _id is the access bucket's key, so a repeated
// revocation is the same document.
type Revocation struct {
	Key         string    `bson:"_id"`
	Kind        string    `bson:"kind"`
	TokenID     string    `bson:"token_id,omitempty"`
	Institution string    `bson:"institution,omitempty"`
	Subject     string    `bson:"subject,omitempty"`
	RevokedAt   time.Time `bson:"revoked_at"`
	ExpiresAt   time.Time `bson:"expires_at,omitzero"`
	Reason      string    `bson:"reason"`
	RevokedBy   string    `bson:"revoked_by"`
}

// ErrNotFound is returned for an institution the directory does not have.
var ErrNotFound = errors.New("institution not found")

// ErrExists is returned when registering a code that is registered differently.
var ErrExists = errors.New("institution already registered")

// Store keeps the directory in the secretariat's database. Every lookup and change filters on
// _id alone, the one filter FerretDB serves from an index on every backend.
type Store struct {
	institutions *mongo.Collection
	revocations  *mongo.Collection
}

// NewStore returns a store over db.
func NewStore(db *mongo.Database) *Store {
	return &Store{institutions: db.Collection(InstitutionsCollection), revocations: db.Collection(RevocationsCollection)}
}

// Seed inserts every default institution that is not there yet; it never changes one that is,
// so a deactivation survives restarts.
func (s *Store) Seed(ctx context.Context, now time.Time) error {
	for _, inst := range DefaultInstitutions() {
		inst.Active, inst.UpdatedAt = true, now
		if err := mongodb.Claim(ctx, s.institutions, inst); err != nil && !errors.Is(err, mongodb.ErrTaken) {
			return fmt.Errorf("seed institution %s: %w", inst.Code, classify(err))
		}
	}
	return nil
}

// Register inserts a new, active institution. Registering the same code, name and kind again
// returns the stored entry (a retry); anything else under that code is ErrExists.
func (s *Store) Register(ctx context.Context, inst Institution) (Institution, error) {
	inst.Active = true
	err := mongodb.Claim(ctx, s.institutions, inst)
	if err == nil {
		return inst, nil
	}
	if !errors.Is(err, mongodb.ErrTaken) {
		return Institution{}, classify(err)
	}
	got, err := s.Institution(ctx, inst.Code)
	if err != nil {
		return Institution{}, err
	}
	if got.Name != inst.Name || got.Kind != inst.Kind {
		return got, ErrExists
	}
	return got, nil
}

// Institution returns one entry.
func (s *Store) Institution(ctx context.Context, code string) (Institution, error) {
	var inst Institution
	err := s.institutions.FindOne(ctx, bson.D{{Key: "_id", Value: code}}).Decode(&inst)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Institution{}, ErrNotFound
	}
	return inst, classify(err)
}

// SetActive activates or deactivates an institution and returns its entry. The entry is
// replaced whole: two stewards changing one institution at once both set a state they meant,
// and the later one stands, which is what each of them saw happen.
func (s *Store) SetActive(ctx context.Context, code string, active bool, now time.Time) (Institution, error) {
	inst, err := s.Institution(ctx, code)
	if err != nil {
		return Institution{}, err
	}
	if inst.Active == active {
		return inst, nil
	}
	inst.Active, inst.UpdatedAt = active, now
	if _, err := s.institutions.ReplaceOne(ctx, bson.D{{Key: "_id", Value: code}}, inst); err != nil {
		return Institution{}, classify(err)
	}
	return inst, nil
}

// Institutions returns up to limit entries in code order after the code after ("" for the
// start).
func (s *Store) Institutions(ctx context.Context, after string, limit int) ([]Institution, error) {
	var out []Institution
	return out, page(ctx, s.institutions, after, limit, &out)
}

// Revoke stores a revocation (replacing an earlier one with the same key).
func (s *Store) Revoke(ctx context.Context, r Revocation) error {
	_, err := s.revocations.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.Key}}, r, options.Replace().SetUpsert(true))
	return classify(err)
}

// Revocations returns up to limit revocations in key order after the key after.
func (s *Store) Revocations(ctx context.Context, after string, limit int) ([]Revocation, error) {
	var out []Revocation
	return out, page(ctx, s.revocations, after, limit, &out)
}

// Forget deletes a revocation (a token revocation past the token's expiry).
func (s *Store) Forget(ctx context.Context, key string) error {
	_, err := s.revocations.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}})
	return classify(err)
}

// page reads documents in _id order after `after`: a range on _id with a sort on _id, which
// FerretDB and MongoDB both do correctly. Both collections hold dozens of documents (codes of
// institutions, revocations not yet expired), never a history.
func page(ctx context.Context, c *mongo.Collection, after string, limit int, into any) error {
	filter := bson.D{}
	if after != "" {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	}
	cur, err := c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return classify(err)
	}
	return classify(cur.All(ctx, into))
}

// classify marks the errors that mean the database did not answer (mongodb.ErrUnavailable).
func classify(err error) error { return mongodb.Classify(err) }
