package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// KeyCollection is the key vault: one document per case with an identity, _id the case id,
// holding the case's data key wrapped by a master key. It is the only copy of the key, so
// deleting it is crypto-shredding: every sealed field of the case, in the case document and in
// every revision and backup, becomes unreadable.
const KeyCollection = "case_keys"

type keyDoc struct {
	ID  string               `bson:"_id"`
	Key piicrypto.WrappedKey `bson:"key"`
	// CreatedAt tells a key being put to use from one left behind (OldKeys); keys stored before
	// it existed have none and count as old.
	CreatedAt time.Time `bson:"created_at,omitempty"`
}

// StoreKey records caseID's wrapped data key, unless it has one already (a retried
// registration), in which case the stored key is returned and must be used instead.
func (s *Store) StoreKey(ctx context.Context, caseID string, key piicrypto.WrappedKey) (piicrypto.WrappedKey, error) {
	_, err := s.keys.InsertOne(ctx, keyDoc{ID: caseID, Key: key, CreatedAt: s.now().UTC()})
	switch {
	case err == nil:
		return key, nil
	case mongodb.IsDuplicateKey(err):
		return s.Key(ctx, caseID)
	default:
		return piicrypto.WrappedKey{}, fmt.Errorf("store the data key of case %s: %w", caseID, err)
	}
}

// Key returns caseID's wrapped data key, or ErrNotFound when it has none (never had, or erased).
func (s *Store) Key(ctx context.Context, caseID string) (piicrypto.WrappedKey, error) {
	key, _, err := s.KeyStoredAt(ctx, caseID)
	return key, err
}

// KeyStoredAt is Key with the time the key was stored (zero for keys stored before that was kept).
func (s *Store) KeyStoredAt(ctx context.Context, caseID string) (piicrypto.WrappedKey, time.Time, error) {
	var d keyDoc
	err := s.keys.FindOne(ctx, bson.D{{Key: "_id", Value: caseID}}).Decode(&d)
	switch {
	case mongodb.IsNotFound(err):
		return piicrypto.WrappedKey{}, time.Time{}, ErrNotFound
	case err != nil:
		return piicrypto.WrappedKey{}, time.Time{}, fmt.Errorf("load the data key of case %s: %w", caseID, err)
	}
	return d.Key, d.CreatedAt, nil
}

// DestroyKey deletes caseID's data key for good. Destroying a destroyed key is a no-op.
func (s *Store) DestroyKey(ctx context.Context, caseID string) error {
	if _, err := s.keys.DeleteOne(ctx, bson.D{{Key: "_id", Value: caseID}}); err != nil {
		return fmt.Errorf("destroy the data key of case %s: %w", caseID, err)
	}
	return nil
}

// DestroyKeyIf deletes caseID's data key if it is still key: a key put in its place meanwhile
// (an identity set again) is left alone.
func (s *Store) DestroyKeyIf(ctx context.Context, caseID string, key piicrypto.WrappedKey) error {
	if _, err := s.keys.DeleteOne(ctx, bson.D{{Key: "_id", Value: caseID}, {Key: "key.ct", Value: key.Ciphertext}}); err != nil {
		return fmt.Errorf("destroy the data key of case %s: %w", caseID, err)
	}
	return nil
}

// OldKey is a data key stored before some time, with its case.
type OldKey struct {
	CaseID string
	Key    piicrypto.WrappedKey
}

// OldKeys returns the data keys stored before t (or before creation times were kept). It reads
// the whole vault, small documents, as RewrapKeys does.
func (s *Store) OldKeys(ctx context.Context, t time.Time) ([]OldKey, error) {
	cur, err := s.keys.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "created_at", Value: bson.D{{Key: "$lt", Value: t}}}},
		bson.D{{Key: "created_at", Value: bson.D{{Key: "$exists", Value: false}}}},
	}}})
	if err != nil {
		return nil, fmt.Errorf("list data keys: %w", err)
	}
	var docs []keyDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("list data keys: %w", err)
	}
	out := make([]OldKey, len(docs))
	for i, d := range docs {
		out[i] = OldKey{CaseID: d.ID, Key: d.Key}
	}
	return out, nil
}

// RewrapKeys re-wraps every data key not wrapped by the primary master key (after a rotation),
// one at a time, so that the old master key can be retired. It is safe to run while the service
// serves, and twice: a key already under the primary key is left alone; a key erased meanwhile
// stays erased, as the write is an update of an existing document. It returns how many keys it
// re-wrapped.
func (s *Store) RewrapKeys(ctx context.Context, mk *piicrypto.MasterKeys) (int, error) {
	cur, err := s.keys.Find(ctx, bson.D{{Key: "key.kid", Value: bson.D{{Key: "$ne", Value: mk.Primary()}}}})
	if err != nil {
		return 0, fmt.Errorf("list data keys to re-wrap: %w", err)
	}
	defer cur.Close(ctx)
	n := 0
	for cur.Next(ctx) {
		var d keyDoc
		if err := cur.Decode(&d); err != nil {
			return n, fmt.Errorf("read a data key: %w", err)
		}
		w, changed, err := piicrypto.Rewrap(mk, d.Key, d.ID)
		if err != nil {
			return n, fmt.Errorf("re-wrap the data key of case %s: %w", d.ID, err)
		}
		if !changed {
			continue
		}
		if _, err := s.keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "key", Value: w}}}}); err != nil {
			return n, fmt.Errorf("store the re-wrapped data key of case %s: %w", d.ID, err)
		}
		n++
	}
	return n, cur.Err()
}
