package audit_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// chainOf loads a valid chain whose record i (seq i+1) was made at times[i].
func chainOf(t *testing.T, times []time.Time) *mongo.Database {
	t.Helper()
	db := testenv.Database(t)
	docs, _, err := audit.BuildChain(context.Background(), audit.Head{Hash: audit.GenesisHash}, len(times), func(i int) audit.Entry {
		return audit.Entry{Institution: "ASP-ANTITRAF", Subject: "officer-7", Roles: []string{"caseworker"},
			Method: "/nrm.caseregistry.v1.CaseRegistryService/GetCase", ObjectIDs: []string{fmt.Sprint("case-", i)},
			Purpose: "case-management", Outcome: "OK", RequestID: uuid.NewString(), Time: times[i]}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(audit.Collection).InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	testenv.IndexStore(t) // as the store's own loop does within seconds
	return db
}

// seqsOf lists every page of f and returns the seqs listed, in order.
func seqsOf(t *testing.T, db *mongo.Database, f audit.Filter, pageSize int) []int64 {
	t.Helper()
	var out []int64
	token := ""
	for range 1000 {
		page, next, err := audit.List(context.Background(), db, f, pageSize, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			out = append(out, r.Seq)
		}
		if next == "" {
			return out
		}
		token = next
	}
	t.Fatal("the pages never end")
	return nil
}

// Lists without an object or a principal read the chain downward by _id: every record once,
// newest first, across pages; a period keeps exactly its records even where concurrent appends
// chained a record a little older than the one before it.
func TestRecentRecordsArePagedNewestFirstAndPeriodsKeepTheirEdges(t *testing.T) {
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	times := make([]time.Time, 120)
	for i := range times {
		times[i] = base.Add(time.Duration(i) * time.Minute)
	}
	// Out of order by a few places around both edges of the period below.
	times[39], times[40] = times[40], times[39]
	times[77], times[80] = times[80], times[77]
	db := chainOf(t, times)
	from, to := base.Add(40*time.Minute), base.Add(80*time.Minute)

	// Without a head hint (a trail whose hint was lost) the newest record is found by a sort.
	if page, _, err := audit.List(context.Background(), db, audit.Filter{}, 1, ""); err != nil || len(page) != 1 || page[0].Seq != 120 {
		t.Errorf("without a hint: %v, %v", page, err)
	}
	// A hint behind the newest record, as appends leave it: the newest is found forward from it.
	if _, err := db.Collection(audit.HeadCollection).InsertOne(context.Background(), bson.D{{Key: "_id", Value: "head"}, {Key: "seq", Value: int64(16)}}); err != nil {
		t.Fatal(err)
	}
	all := seqsOf(t, db, audit.Filter{}, 25)
	if len(all) != 120 || all[0] != 120 || all[119] != 1 || !slices.IsSortedFunc(all, func(a, b int64) int { return int(b - a) }) {
		t.Fatalf("unfiltered: %d records, first %d, last %d", len(all), all[0], all[len(all)-1])
	}
	var want []int64
	for i := len(times) - 1; i >= 0; i-- {
		if !times[i].Before(from) && times[i].Before(to) {
			want = append(want, int64(i+1))
		}
	}
	for _, size := range []int{7, 100} {
		if got := seqsOf(t, db, audit.Filter{From: from, To: to}, size); !slices.Equal(got, want) {
			t.Errorf("period, pages of %d: %v\nwant %v", size, got, want)
		}
	}
	if got := seqsOf(t, db, audit.Filter{From: base.Add(time.Hour * 10)}, 10); len(got) != 0 {
		t.Errorf("a period after the last record: %v", got)
	}
	if got := seqsOf(t, db, audit.Filter{To: base.Add(3 * time.Minute)}, 10); !slices.Equal(got, []int64{3, 2, 1}) {
		t.Errorf("a period ending after the third record: %v", got)
	}

	if got := seqsOf(t, testenv.Database(t), audit.Filter{}, 10); len(got) != 0 {
		t.Errorf("an empty trail lists %v", got)
	}
}
