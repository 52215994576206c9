package audit_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// queries records the filters of the find commands a client sends.
type queries struct {
	mu      sync.Mutex
	filters []bson.Raw
}

func (q *queries) started(_ context.Context, e *event.CommandStartedEvent) {
	if e.CommandName != "find" {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.filters = append(q.filters, e.Command.Lookup("filter").Document())
}

// during returns the filters of the finds f sent.
func (q *queries) during(t *testing.T, f func()) []bson.Raw {
	t.Helper()
	q.mu.Lock()
	q.filters = nil
	q.mu.Unlock()
	f()
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.filters)
}

// monitoredDatabase is a fresh database for the test on a client that records its finds.
func monitoredDatabase(t *testing.T) (*mongo.Database, *queries) {
	t.Helper()
	q := &queries{}
	c, err := mongo.Connect(mongodb.Options(testenv.MongoURI(t), "nrm-test").SetMonitor(&event.CommandMonitor{Started: q.started}))
	if err != nil {
		t.Fatal(err)
	}
	db := c.Database(testenv.Name("t_"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = c.Disconnect(ctx)
	})
	return db, q
}

// wantOnlyLookupsByID fails unless every filter is exactly {_id: <string>}: the one query that
// FerretDB on SQLite serves from an index, whose cost does not grow with the trail.
func wantOnlyLookupsByID(t *testing.T, what string, filters []bson.Raw) {
	t.Helper()
	for _, f := range filters {
		elems, err := f.Elements()
		if err != nil || len(elems) != 1 || elems[0].Key() != "_id" || elems[0].Value().Type != bson.TypeString {
			t.Errorf("%s sent the filter %v: it scans the trail on FerretDB", what, f)
		}
	}
}

// recordsOf appends n records, one in every `every` about object, and returns those.
func recordsOf(t *testing.T, tr *audit.Trail, n, every int, object string) []audit.Record {
	t.Helper()
	var mine []audit.Record
	for i := range n {
		e := entry(i)
		e.ObjectIDs = []string{fmt.Sprint("other-", i)}
		if i%every == 0 {
			e.ObjectIDs = []string{"other", object}
		}
		r, err := tr.Record(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		if i%every == 0 {
			mine = append(mine, r)
		}
	}
	return mine
}

func seqs(recs []audit.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

// Listing one case's records reads that case's records by _id, and no more: its cost is the
// case's, not the trail's.
func TestListingAnObjectsRecordsReadsOnlyThose(t *testing.T) {
	ctx := context.Background()
	db, q := monitoredDatabase(t)
	mine := recordsOf(t, audit.NewTrail(db, service, nil), 60, 6, "case-x")
	slices.Reverse(mine) // newest first

	var got []audit.Record
	filters := q.during(t, func() {
		token := ""
		for {
			page, next, err := audit.List(ctx, db, audit.Filter{ObjectID: "case-x"}, 4, token)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if token = next; token == "" {
				break
			}
		}
	})
	if !slices.Equal(seqs(got), seqs(mine)) {
		t.Errorf("listed seqs %v, want %v", seqs(got), seqs(mine))
	}
	for _, r := range got {
		if !slices.Contains(r.ObjectIDs, "case-x") {
			t.Errorf("record %d is not about case-x: %v", r.Seq, r.ObjectIDs)
		}
	}
	wantOnlyLookupsByID(t, "List by object", filters)
	// Each record is read through its index entry: two lookups a record, a few more to find
	// where the object's index ends.
	if max := 2*len(mine) + 16; len(filters) > max {
		t.Errorf("listing %d records took %d finds, want at most %d", len(mine), len(filters), max)
	}
}

// The other filters apply within the object's records; an object never audited lists nothing.
func TestListingAnObjectAppliesTheOtherFilters(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	mine := recordsOf(t, audit.NewTrail(db, service, nil), 24, 2, "case-y")
	for _, tc := range []struct {
		name string
		f    audit.Filter
		want func(audit.Record) bool
	}{
		{"subject", audit.Filter{ObjectID: "case-y", Subject: "officer-1"}, func(r audit.Record) bool { return r.Subject == "officer-1" }},
		{"institution", audit.Filter{ObjectID: "case-y", Institution: "ASP-ANTITRAF"}, func(audit.Record) bool { return true }},
		{"other institution", audit.Filter{ObjectID: "case-y", Institution: "SHERBIMI-SOCIAL"}, func(audit.Record) bool { return false }},
		{"time", audit.Filter{ObjectID: "case-y", From: mine[3].Time, To: mine[8].Time}, func(r audit.Record) bool {
			return !r.Time.Before(mine[3].Time) && r.Time.Before(mine[8].Time)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []int64
			for i := len(mine) - 1; i >= 0; i-- {
				if tc.want(mine[i]) {
					want = append(want, mine[i].Seq)
				}
			}
			var got []audit.Record
			token := ""
			for {
				page, next, err := audit.List(ctx, db, tc.f, 5, token)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				if token = next; token == "" {
					break
				}
			}
			if !slices.Equal(seqs(got), want) {
				t.Errorf("listed %v, want %v", seqs(got), want)
			}
		})
	}
	page, next, err := audit.List(ctx, db, audit.Filter{ObjectID: "never-audited"}, 5, "")
	if err != nil || len(page) != 0 || next != "" {
		t.Errorf("an object never audited: %d records, next %q, %v", len(page), next, err)
	}
}

// Verifying one case's records reads those records and their neighbours in the chain by _id,
// and finds them intact.
func TestVerifyingAnObjectReadsOnlyItsRecords(t *testing.T) {
	ctx := context.Background()
	db, q := monitoredDatabase(t)
	mine := recordsOf(t, audit.NewTrail(db, service, nil), 60, 6, "case-v")
	var res audit.VerifyResult
	filters := q.during(t, func() {
		var err error
		if res, err = audit.VerifyObject(ctx, db, "case-v"); err != nil {
			t.Fatal(err)
		}
	})
	if !res.Intact || res.Records != int64(len(mine)) || res.Head.Seq != mine[len(mine)-1].Seq {
		t.Errorf("verify case-v = %+v, want intact with %d records up to %d", res, len(mine), mine[len(mine)-1].Seq)
	}
	wantOnlyLookupsByID(t, "VerifyObject", filters)
	if max := 4*len(mine) + 16; len(filters) > max {
		t.Errorf("verifying %d records took %d finds, want at most %d", len(mine), len(filters), max)
	}
}

// An altered record, one removed, or one replaced by a forgery with a correct hash of its own:
// the object's verification tells which record and what.
func TestVerifyingAnObjectFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, coll *mongo.Collection, r audit.Record)
		kind   audit.ProblemKind
	}{
		{"altered", func(t *testing.T, coll *mongo.Collection, r audit.Record) {
			setFields(t, coll, r.Seq, bson.D{{Key: "purpose", Value: "curiosity"}})
		}, audit.ProblemAltered},
		{"removed", func(t *testing.T, coll *mongo.Collection, r audit.Record) {
			if _, err := coll.DeleteOne(context.Background(), bson.D{{Key: "_id", Value: audit.DocumentID(r.Seq)}}); err != nil {
				t.Fatal(err)
			}
		}, audit.ProblemMissing},
		{"re-hashed forgery", func(t *testing.T, coll *mongo.Collection, r audit.Record) {
			forged := r
			forged.Purpose = "curiosity"
			forged.Hash = audit.Hash(forged)
			setFields(t, coll, r.Seq, bson.D{{Key: "purpose", Value: forged.Purpose}, {Key: "hash", Value: forged.Hash}})
		}, audit.ProblemUnlinked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := testenv.Database(t)
			mine := recordsOf(t, audit.NewTrail(db, service, nil), 30, 5, "case-t")
			victim := mine[2]
			tc.tamper(t, db.Collection(audit.Collection), victim)
			res, err := audit.VerifyObject(context.Background(), db, "case-t")
			if err != nil {
				t.Fatal(err)
			}
			wantSeq := victim.Seq
			if tc.kind == audit.ProblemUnlinked {
				wantSeq = victim.Seq + 1 // the forgery is caught by the record after it
			}
			if res.Intact || res.Kind != tc.kind || res.FirstBadSeq != wantSeq {
				t.Errorf("verify = %+v, want %s at %d", res, tc.kind, wantSeq)
			}
		})
	}
}

func setFields(t *testing.T, coll *mongo.Collection, seq int64, fields bson.D) {
	t.Helper()
	if _, err := coll.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: audit.DocumentID(seq)}}, bson.D{{Key: "$set", Value: fields}}); err != nil {
		t.Fatal(err)
	}
}

// A trail written before the object index existed: IndexObjects (run by EnsureIndexes at start)
// indexes its records once, in order, and running it again changes nothing.
func TestRecordsMadeBeforeTheObjectIndexAreIndexedAtStart(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	docs, head, err := audit.BuildChain(ctx, audit.Head{Hash: audit.GenesisHash}, 40, func(i int) audit.Entry {
		e := entry(i)
		e.ObjectIDs = []string{fmt.Sprint("case-", i%3)}
		return e
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(audit.Collection).InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := audit.EnsureIndexes(ctx, db); err != nil {
		t.Fatal(err)
	}
	// A run that crashed before recording any progress is redone: the entries it made are
	// recognised, none is made twice.
	if _, err := db.Collection(audit.ObjectCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: "upgrade"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "done", Value: false}, {Key: "below", Value: head.Seq + 1}}}}); err != nil {
		t.Fatal(err)
	}
	entries, err := db.Collection(audit.ObjectCollection).CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.EnsureIndexes(ctx, db); err != nil {
		t.Fatal(err)
	}
	if again, err := db.Collection(audit.ObjectCollection).CountDocuments(ctx, bson.D{}); err != nil || again != entries {
		t.Errorf("redoing the upgrade left %d documents in the object index (%v), want %d", again, err, entries)
	}
	// A record appended after the upgrade follows the old ones.
	r, err := audit.NewTrail(db, service, nil).Record(ctx, audit.Entry{Method: "/m/M", Outcome: "OK", ObjectIDs: []string{"case-1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{r.Seq}
	for s := head.Seq; s >= 1; s-- {
		if (s-1)%3 == 1 {
			want = append(want, s)
		}
	}
	page, _, err := audit.List(ctx, db, audit.Filter{ObjectID: "case-1"}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs(page), want) {
		t.Errorf("case-1 lists %v, want %v", seqs(page), want)
	}
	res, err := audit.VerifyObject(ctx, db, "case-1")
	if err != nil || !res.Intact || res.Records != int64(len(want)) {
		t.Errorf("verify case-1 = %+v, %v; want intact with %d records", res, err, len(want))
	}
}

// An auditor verifies one case through the API at the cost of that case's records.
func TestVerifyAuditChainOfOneObject(t *testing.T) {
	ctx := context.Background()
	db, q := monitoredDatabase(t)
	mine := recordsOf(t, audit.NewTrail(db, service, nil), 40, 8, "case-api")
	srv := audit.NewServer(db)
	var resp *auditv1.VerifyAuditChainResponse
	filters := q.during(t, func() {
		var err error
		if resp, err = srv.VerifyAuditChain(ctx, &auditv1.VerifyAuditChainRequest{ObjectId: "case-api"}); err != nil {
			t.Fatal(err)
		}
	})
	if !resp.GetIntact() || resp.GetRecords() != int64(len(mine)) || resp.GetHeadSeq() != mine[len(mine)-1].Seq {
		t.Errorf("verify case-api = %v, want intact with %d records up to %d", resp, len(mine), mine[len(mine)-1].Seq)
	}
	wantOnlyLookupsByID(t, "VerifyAuditChain by object", filters)

	setFields(t, db.Collection(audit.Collection), mine[1].Seq, bson.D{{Key: "purpose", Value: "curiosity"}})
	resp, err := srv.VerifyAuditChain(ctx, &auditv1.VerifyAuditChainRequest{ObjectId: "case-api"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetIntact() || resp.GetFirstBadSeq() != mine[1].Seq || resp.GetProblemKind() != auditv1.ChainProblem_CHAIN_PROBLEM_ALTERED {
		t.Errorf("after altering record %d: %v", mine[1].Seq, resp)
	}
}
