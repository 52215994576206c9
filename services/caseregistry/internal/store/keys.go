package store

import (
	"context"
	"fmt"

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
}

// StoreKey records caseID's wrapped data key, unless it has one already (a retried
// registration), in which case the stored key is returned and must be used instead.
func (s *Store) StoreKey(ctx context.Context, caseID string, key piicrypto.WrappedKey) (piicrypto.WrappedKey, error) {
	_, err := s.keys.InsertOne(ctx, keyDoc{ID: caseID, Key: key})
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
	var d keyDoc
	err := s.keys.FindOne(ctx, bson.D{{Key: "_id", Value: caseID}}).Decode(&d)
	switch {
	case mongodb.IsNotFound(err):
		return piicrypto.WrappedKey{}, ErrNotFound
	case err != nil:
		return piicrypto.WrappedKey{}, fmt.Errorf("load the data key of case %s: %w", caseID, err)
	}
	return d.Key, nil
}

// DestroyKey deletes caseID's data key for good. Destroying a destroyed key is a no-op.
func (s *Store) DestroyKey(ctx context.Context, caseID string) error {
	if _, err := s.keys.DeleteOne(ctx, bson.D{{Key: "_id", Value: caseID}}); err != nil {
		return fmt.Errorf("destroy the data key of case %s: %w", caseID, err)
	}
	return nil
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
