package aggregate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// BenchmarkChange commits a change (Execute: read the current version, decide, commit the
// revision with its event, write the document) and reads an aggregate by id, among 1,000 and
// 100,000 aggregates loaded in bulk, on the test store. Flat means the same figures at both:
//
//	go test -run '^$' -bench . -benchtime 500x ./services/platform/aggregate/
func BenchmarkChange(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		s := loaded(b, n)
		ctx := caller()
		b.Run(fmt.Sprintf("Execute/aggregates=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				if _, _, err := s.Execute(ctx, note(fmt.Sprint("r-", (i*7919)%n), 0, fmt.Sprint("change ", i))); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("Get/aggregates=%d", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				if _, err := s.Get(ctx, fmt.Sprint("r-", (i*7919)%n)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// loaded is a store holding n aggregates at version 1, each with its first revision, written
// in bulk and then indexed.
func loaded(b *testing.B, n int) *store {
	b.Helper()
	ctx := context.Background()
	s := newStore(testenv.Database(b))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 1000
	for done := 0; done < n; done += batch {
		var docs, revs []any
		for i := done; i < min(done+batch, n); i++ {
			r := referral{ID: fmt.Sprint("r-", i), Version: 1, State: "PENDING", Note: "created", UpdatedAt: at}
			docs = append(docs, r)
			revs = append(revs, aggregate.RevisionDoc(s, r, entry{Kind: "CREATED", Institution: "ASP-ANTITRAF", Subject: "officer-7", At: at}))
		}
		if _, err := s.Collection().InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
		if _, err := s.RevisionCollection().InsertMany(ctx, revs); err != nil {
			b.Fatal(err)
		}
	}
	testenv.IndexStore(b)
	return s
}
