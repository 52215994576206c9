package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// recordsPerObject is how many records each object of the benchmark trails has: the same at
// every trail size, so that a flat cost shows as equal figures.
const recordsPerObject = 20

// BenchmarkObject lists and verifies one object's records in trails of 1,000 and 100,000
// records (each object has recordsPerObject of them), and lists the newest records and a day's,
// on the test store:
//
//	go test -run '^$' -bench BenchmarkObject -benchtime 200x ./services/platform/audit/
func BenchmarkObject(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		db := indexedTrail(b, n)
		object := fmt.Sprint("case-", n/recordsPerObject/2)
		b.Run(fmt.Sprintf("List/records=%d", n), func(b *testing.B) {
			for b.Loop() {
				page, _, err := audit.List(context.Background(), db, audit.Filter{ObjectID: object}, 50, "")
				if err != nil || len(page) != recordsPerObject {
					b.Fatalf("%d records, %v", len(page), err)
				}
			}
		})
		b.Run(fmt.Sprintf("ListRecent/records=%d", n), func(b *testing.B) {
			for b.Loop() {
				page, _, err := audit.List(context.Background(), db, audit.Filter{}, 50, "")
				if err != nil || len(page) != 50 || page[0].Seq != int64(n) {
					b.Fatalf("%d records, %v", len(page), err)
				}
			}
		})
		b.Run(fmt.Sprintf("ListPeriod/records=%d", n), func(b *testing.B) {
			// A day in the middle of the trail (records are a second apart from 2026-01-01).
			from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n/2) * time.Second)
			for b.Loop() {
				page, _, err := audit.List(context.Background(), db, audit.Filter{From: from, To: from.Add(24 * time.Hour)}, 50, "")
				if err != nil || len(page) != 50 {
					b.Fatalf("%d records, %v", len(page), err)
				}
			}
		})
		b.Run(fmt.Sprintf("VerifyObject/records=%d", n), func(b *testing.B) {
			for b.Loop() {
				res, err := audit.VerifyObject(context.Background(), db, object)
				if err != nil || !res.Intact || res.Records != recordsPerObject {
					b.Fatalf("%+v, %v", res, err)
				}
			}
		})
	}
}

// indexedTrail loads a valid chain of n records with their object index, in bulk.
func indexedTrail(b *testing.B, n int) *mongo.Database {
	b.Helper()
	ctx := context.Background()
	db := testenv.Database(b)
	head := audit.Head{Hash: audit.GenesisHash}
	last := map[string]int64{}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 1000
	for done := 0; done < n; done += batch {
		docs, next, err := audit.BuildChain(ctx, head, min(batch, n-done), func(i int) audit.Entry {
			i += done
			return audit.Entry{
				Institution: "ASP-ANTITRAF", Subject: fmt.Sprint("officer-", i%50), Roles: []string{"caseworker"},
				Method: "/nrm.caseregistry.v1.CaseRegistryService/GetCase", ObjectIDs: []string{fmt.Sprint("case-", i%(n/recordsPerObject))},
				Purpose: "case-management", Outcome: "OK", RequestID: uuid.NewString(), Time: at.Add(time.Duration(i) * time.Second),
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		head = next
		entries := audit.IndexEntries(docs, last)
		if _, err := db.Collection(audit.Collection).InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Collection(audit.ObjectCollection).InsertMany(ctx, entries); err != nil {
			b.Fatal(err)
		}
	}
	// The head hint, as appends leave it: at a multiple of 16, up to 15 records behind.
	if _, err := db.Collection(audit.HeadCollection).InsertOne(ctx, bson.D{{Key: "_id", Value: "head"}, {Key: "seq", Value: int64(n - n%16)}}); err != nil {
		b.Fatal(err)
	}
	testenv.IndexStore(b)
	return db
}
