package mongodb_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// Of writers claiming the same _id at once, exactly one gets it; the others learn it is taken,
// and nothing of theirs is written.
func TestExactlyOneWriterClaimsAnID(t *testing.T) {
	ctx := context.Background()
	coll := testenv.Database(t).Collection("claims")
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			errs[i] = mongodb.Claim(ctx, coll, bson.D{{Key: "_id", Value: mongodb.VersionID("doc", 2)}, {Key: "writer", Value: i}})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, mongodb.ErrTaken):
			t.Fatalf("a claim failed otherwise: %v", err)
		}
	}
	if n, _ := coll.CountDocuments(ctx, bson.D{}); won != 1 || n != 1 {
		t.Fatalf("%d claims succeeded, %d documents; want 1 and 1", won, n)
	}
}

// Follow reads numbered claims in order from the one after its start, and stops at the first
// missing number or when told to.
func TestFollowReadsDenseClaimsInOrder(t *testing.T) {
	ctx := context.Background()
	coll := testenv.Database(t).Collection("claims")
	for _, v := range []int64{1, 2, 3, 4, 6} { // 5 missing: 6 was never reachable
		if err := mongodb.Claim(ctx, coll, bson.D{{Key: "_id", Value: mongodb.VersionID("doc", v)}, {Key: "v", Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	id := func(v int64) string { return mongodb.VersionID("doc", v) }
	cases := []struct {
		name    string
		from    int64
		stopAt  int64 // visit returns false here; 0: never
		visited []int64
		last    int64
	}{
		{"from the start", 0, 0, []int64{1, 2, 3, 4}, 4},
		{"from a version", 2, 0, []int64{3, 4}, 4},
		{"told to stop", 0, 2, []int64{1, 2}, 2},
		{"nothing after", 4, 0, nil, 4},
		{"nothing at all", 9, 0, nil, 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var visited []int64
			last, err := mongodb.Follow(ctx, coll, id, c.from, func(n int64, doc bson.Raw) (bool, error) {
				if got := doc.Lookup("v").Int64(); got != n {
					t.Errorf("claim %d holds %d", n, got)
				}
				visited = append(visited, n)
				return n != c.stopAt, nil
			})
			if err != nil || last != c.last || !slices.Equal(visited, c.visited) {
				t.Errorf("Follow = %d, %v, visited %v; want %d, %v", last, err, visited, c.last, c.visited)
			}
		})
	}
	failed := errors.New("cannot decode")
	if _, err := mongodb.Follow(ctx, coll, id, 0, func(int64, bson.Raw) (bool, error) { return false, failed }); !errors.Is(err, failed) {
		t.Errorf("a failing visit: %v", err)
	}
}
