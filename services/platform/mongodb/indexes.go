package mongodb

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index is a secondary index, known by its name.
type Index struct {
	Name   string
	Keys   bson.D
	Unique bool
}

// namespaceNotFound is MongoDB's error code for listing the indexes of a missing collection.
const namespaceNotFound = 26

// EnsureIndexes creates the indexes coll lacks, by name, and leaves the others alone. Creating
// an index that exists is a no-op on MongoDB but drops the connection on FerretDB 1.24, hence
// the look first; a service calls this at every start.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, want []Index) error {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	var cmdErr mongo.CommandError
	if errors.As(err, &cmdErr) && cmdErr.Code == namespaceNotFound {
		specs, err = nil, nil // MongoDB: the collection does not exist yet
	}
	if err != nil {
		return fmt.Errorf("list the indexes of %s: %w", coll.Name(), err)
	}
	have := map[string]bool{}
	for _, sp := range specs {
		have[sp.Name] = true
	}
	var missing []mongo.IndexModel
	for _, ix := range want {
		if !have[ix.Name] {
			missing = append(missing, mongo.IndexModel{Keys: ix.Keys, Options: options.Index().SetName(ix.Name).SetUnique(ix.Unique)})
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := coll.Indexes().CreateMany(ctx, missing); err != nil {
		return fmt.Errorf("create the indexes of %s: %w", coll.Name(), err)
	}
	return nil
}
