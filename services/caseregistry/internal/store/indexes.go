package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// namespaceNotFound is MongoDB's error code for listing the indexes of a missing collection.
const namespaceNotFound = 26

// index is a secondary index by name.
type index struct {
	name   string
	keys   bson.D
	unique bool
}

// byCode is an index on field that also serves the list's order, by code.
func byCode(name, field string) index {
	return index{name: name, keys: bson.D{{Key: field, Value: 1}, {Key: "code", Value: 1}}}
}

// EnsureIndexes creates the secondary indexes that let MongoDB serve a filtered ListCases page
// in code order, the retention sweep and the re-wrapping after a rotation without scanning.
// Lookups by _id need none. Call it at start. FerretDB accepts them but plans with them only for
// pushed-down equality (docs/benchmarks.md).
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if err := ensure(ctx, s.cases, []index{
		{name: "code", keys: bson.D{{Key: "code", Value: 1}}, unique: true},
		byCode("status_code", "trafficking.status"), byCode("state_code", "state"),
		byCode("exploitation_code", "trafficking.exploitation_types"),
		byCode("identifying_code", "identification.identifying_institution"), byCode("owner_code", "owner_institution"),
		{name: "state_closure", keys: bson.D{{Key: "state", Value: 1}, {Key: "closure.date", Value: 1}}},
	}); err != nil {
		return err
	}
	return ensure(ctx, s.keys, []index{{name: "kid", keys: bson.D{{Key: "key.kid", Value: 1}}}})
}

// ensure creates the indexes coll lacks, by name. Creating an existing index again is a no-op
// on MongoDB but drops the connection on FerretDB 1.24, hence the look first.
func ensure(ctx context.Context, coll *mongo.Collection, want []index) error {
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
		if !have[ix.name] {
			missing = append(missing, mongo.IndexModel{Keys: ix.keys, Options: options.Index().SetName(ix.name).SetUnique(ix.unique)})
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
