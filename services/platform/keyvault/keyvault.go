// Package keyvault keeps the data keys of records whose fields are sealed (piicrypto): one
// document per record, _id the record's id, holding its data key wrapped by a master key. It is
// the only copy of the key, so deleting it is crypto-shredding: every sealed field of the record,
// in its current document, in every revision and in every backup, becomes unreadable at once.
// That is why the key lives apart from the record: a record is copied into each of its revisions.
package keyvault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// ErrNotFound means the record has no key: it never had one, or it was destroyed.
var ErrNotFound = mongodb.ErrNotFound

// Vault is one collection of data keys.
type Vault struct {
	keys *mongo.Collection
	now  func() time.Time
}

// New returns the vault kept in collection of db ("case_keys", say).
func New(db *mongo.Database, collection string) *Vault {
	return &Vault{keys: db.Collection(collection), now: time.Now}
}

// EnsureIndexes creates the index that lets MongoDB find the keys to re-wrap after a rotation
// without scanning. Call it at start.
func (v *Vault) EnsureIndexes(ctx context.Context) error {
	return mongodb.EnsureIndexes(ctx, v.keys, []mongodb.Index{{Name: "kid", Keys: bson.D{{Key: "key.kid", Value: 1}}}})
}

type keyDoc struct {
	ID  string               `bson:"_id"`
	Key piicrypto.WrappedKey `bson:"key"`
	// CreatedAt tells a key being put to use from one left behind (OldKeys); keys stored before
	// it existed have none and count as old.
	CreatedAt time.Time `bson:"created_at,omitempty"`
}

// StoreKey records id's wrapped data key, unless it has one already (a retried creation), in
// which case the stored key is returned and must be used instead.
func (v *Vault) StoreKey(ctx context.Context, id string, key piicrypto.WrappedKey) (piicrypto.WrappedKey, error) {
	err := mongodb.Claim(ctx, v.keys, keyDoc{ID: id, Key: key, CreatedAt: v.now().UTC()})
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, mongodb.ErrTaken):
		return v.Key(ctx, id)
	default:
		return piicrypto.WrappedKey{}, fmt.Errorf("store the data key of record %s: %w", id, err)
	}
}

// Key returns id's wrapped data key, or ErrNotFound when it has none (never had, or erased).
func (v *Vault) Key(ctx context.Context, id string) (piicrypto.WrappedKey, error) {
	key, _, err := v.KeyStoredAt(ctx, id)
	return key, err
}

// KeyStoredAt is Key with the time the key was stored (zero for keys stored before that was kept).
func (v *Vault) KeyStoredAt(ctx context.Context, id string) (piicrypto.WrappedKey, time.Time, error) {
	var d keyDoc
	err := v.keys.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	switch {
	case mongodb.IsNotFound(err):
		return piicrypto.WrappedKey{}, time.Time{}, ErrNotFound
	case err != nil:
		return piicrypto.WrappedKey{}, time.Time{}, fmt.Errorf("load the data key of record %s: %w", id, err)
	}
	return d.Key, d.CreatedAt, nil
}

// DestroyKey deletes id's data key for good. Destroying a destroyed key is a no-op.
func (v *Vault) DestroyKey(ctx context.Context, id string) error {
	if _, err := v.keys.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("destroy the data key of record %s: %w", id, err)
	}
	return nil
}

// DestroyKeyIf deletes id's data key if it is still key: a key put in its place meanwhile
// (an identity set again) is left alone.
func (v *Vault) DestroyKeyIf(ctx context.Context, id string, key piicrypto.WrappedKey) error {
	if _, err := v.keys.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "key.ct", Value: key.Ciphertext}}); err != nil {
		return fmt.Errorf("destroy the data key of record %s: %w", id, err)
	}
	return nil
}

// OldKey is a data key stored before some time, with its record's id.
type OldKey struct {
	ID  string
	Key piicrypto.WrappedKey
}

// OldKeys returns the data keys stored before t (or before creation times were kept). It reads
// the whole vault, small documents, as RewrapKeys does.
func (v *Vault) OldKeys(ctx context.Context, t time.Time) ([]OldKey, error) {
	cur, err := v.keys.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
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
		out[i] = OldKey{ID: d.ID, Key: d.Key}
	}
	return out, nil
}

// RewrapKeys re-wraps every data key not wrapped by the primary master key (after a rotation),
// one at a time, so that the old master key can be retired. It is safe to run while the service
// serves, and twice: a key already under the primary key is left alone; a key erased meanwhile
// stays erased, as the write is an update of an existing document. It returns how many keys it
// re-wrapped.
func (v *Vault) RewrapKeys(ctx context.Context, mk *piicrypto.MasterKeys) (int, error) {
	cur, err := v.keys.Find(ctx, bson.D{{Key: "key.kid", Value: bson.D{{Key: "$ne", Value: mk.Primary()}}}})
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
			return n, fmt.Errorf("re-wrap the data key of record %s: %w", d.ID, err)
		}
		if !changed {
			continue
		}
		if _, err := v.keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "key", Value: w}}}}); err != nil {
			return n, fmt.Errorf("store the re-wrapped data key of record %s: %w", d.ID, err)
		}
		n++
	}
	return n, cur.Err()
}
