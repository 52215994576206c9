package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// byCode is an index on field that also serves the list's order, by code.
func byCode(name, field string) mongodb.Index {
	return mongodb.Index{Name: name, Keys: bson.D{{Key: field, Value: 1}, {Key: "code", Value: 1}}}
}

// EnsureIndexes creates the secondary indexes that let MongoDB serve a filtered ListCases page
// in code order, the retention sweep and the re-wrapping after a rotation without scanning.
// Lookups by _id need none. Call it at start. FerretDB accepts them but plans with them only for
// pushed-down equality (docs/benchmarks.md).
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if err := mongodb.EnsureIndexes(ctx, s.cases, []mongodb.Index{
		{Name: "code", Keys: bson.D{{Key: "code", Value: 1}}, Unique: true},
		byCode("status_code", "trafficking.status"), byCode("state_code", "state"),
		byCode("exploitation_code", "trafficking.exploitation_types"),
		byCode("identifying_code", "identification.identifying_institution"), byCode("owner_code", "owner_institution"),
		{Name: "state_closure", Keys: bson.D{{Key: "state", Value: 1}, {Key: "closure.date", Value: 1}}},
	}); err != nil {
		return err
	}
	return mongodb.EnsureIndexes(ctx, s.keys, []mongodb.Index{{Name: "kid", Keys: bson.D{{Key: "key.kid", Value: 1}}}})
}
