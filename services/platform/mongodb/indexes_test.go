package mongodb_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// At every start a service ensures its indexes again: the second time is a no-op, on a
// collection that exists or not, and an index added to the list later is created.
func TestEnsureIndexesCreatesOnlyWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	coll := testenv.Database(t).Collection("things")
	first := []mongodb.Index{{Name: "a_1", Keys: bson.D{{Key: "a", Value: 1}}}}
	for range 2 {
		if err := mongodb.EnsureIndexes(ctx, coll, first); err != nil {
			t.Fatal(err)
		}
	}
	more := append(first, mongodb.Index{Name: "code", Keys: bson.D{{Key: "code", Value: 1}}, Unique: true})
	if err := mongodb.EnsureIndexes(ctx, coll, more); err != nil {
		t.Fatal(err)
	}
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range specs {
		names[s.Name] = true
	}
	if !names["a_1"] || !names["code"] {
		t.Errorf("indexes %v", names)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "code", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "code", Value: "x"}}); !mongodb.IsDuplicateKey(err) {
		t.Errorf("the unique index did not refuse a repeat: %v", err)
	}
}
