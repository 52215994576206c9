package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// EnsureIndexes creates the secondary indexes: a unique one on the case code (a second guard
// beside the code claims), one that lets MongoDB serve the retention sweep without scanning,
// and the key vault's. Lookups by _id need none, and lists read the
// list index by _id. Call it at start.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if err := mongodb.EnsureIndexes(ctx, s.cases, []mongodb.Index{
		{Name: "code", Keys: bson.D{{Key: "code", Value: 1}}, Unique: true},
		{Name: "state_closure", Keys: bson.D{{Key: "state", Value: 1}, {Key: "closure.date", Value: 1}}},
	}); err != nil {
		return err
	}
	return s.Vault.EnsureIndexes(ctx)
}
