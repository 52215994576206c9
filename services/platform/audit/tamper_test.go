package audit_test

import (
	"context"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// Each case tampers with a chain of 10 records directly in MongoDB, as someone with database
// access would, and says where and how Verify must catch it. Every case runs with pages of
// 1000 (one query) and of 3 records (the damage near or across page boundaries).
func TestTamperingIsDetectedAtTheRightRecord(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *mongo.Database, recs []audit.Record)
		seq    int64
		kind   audit.ProblemKind
		// forgedBefore: the record before seq is a forgery that verifies, so the last good
		// head is the forgery's.
		forgedBefore bool
	}{
		{"a field changed", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			set(t, db, 5, bson.D{{Key: "institution", Value: "KKSAT"}})
		}, 5, audit.ProblemAltered, false},
		{"an object id added", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			set(t, db, 7, bson.D{{Key: "object_ids", Value: bson.A{"case-1", "case-9"}}})
		}, 7, audit.ProblemAltered, false},
		{"the outcome changed in the first record", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			set(t, db, 1, bson.D{{Key: "outcome", Value: "PERMISSION_DENIED"}})
		}, 1, audit.ProblemAltered, false},
		{"the time moved", func(t *testing.T, db *mongo.Database, recs []audit.Record) {
			set(t, db, 3, bson.D{{Key: "time", Value: recs[2].Time.Add(-24 * 3600e9)}})
		}, 3, audit.ProblemAltered, false},
		{"a field given another type", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			set(t, db, 4, bson.D{{Key: "roles", Value: "caseworker"}})
		}, 4, audit.ProblemAltered, false},
		{"the hash version changed", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			set(t, db, 6, bson.D{{Key: "v", Value: int32(2)}})
		}, 6, audit.ProblemAltered, false},
		{"a record deleted", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			remove(t, db, 5)
		}, 5, audit.ProblemMissing, false},
		{"the first record deleted", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			remove(t, db, 1)
		}, 1, audit.ProblemMissing, false},
		{"a page of records deleted", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			remove(t, db, 4, 5, 6)
		}, 4, audit.ProblemMissing, false},
		{"two records swapped", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			four, five := raw(t, db, 4), raw(t, db, 5)
			replace(t, db, 4, five)
			replace(t, db, 5, four)
		}, 4, audit.ProblemMisplaced, false},
		{"two records swapped, seqs fixed", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			four, five := raw(t, db, 4), raw(t, db, 5)
			replace(t, db, 4, five)
			replace(t, db, 5, four)
			set(t, db, 4, bson.D{{Key: "seq", Value: int64(4)}})
			set(t, db, 5, bson.D{{Key: "seq", Value: int64(5)}})
		}, 4, audit.ProblemAltered, false},
		{"two records swapped, seqs fixed and re-hashed", func(t *testing.T, db *mongo.Database, recs []audit.Record) {
			four, five := recs[3], recs[4]
			four.Seq, five.Seq = 5, 4
			four.Hash, five.Hash = audit.Hash(four), audit.Hash(five)
			forge(t, db, five)
			forge(t, db, four)
		}, 4, audit.ProblemUnlinked, false},
		{"a record moved to another _id", func(t *testing.T, db *mongo.Database, _ []audit.Record) {
			doc := raw(t, db, 6)
			remove(t, db, 6)
			if _, err := records(db).InsertOne(context.Background(), append(bson.D{{Key: "_id", Value: audit.DocumentID(6) + "x"}}, doc...)); err != nil {
				t.Fatal(err)
			}
		}, 6, audit.ProblemMisplaced, false},
		{"a record replaced by a re-hashed forgery", func(t *testing.T, db *mongo.Database, recs []audit.Record) {
			f := recs[4]
			f.Institution, f.ObjectIDs = "KKSAT", []string{"case-3"}
			f.Hash = audit.Hash(f) // consistent in itself; record 6 still names the original
			forge(t, db, f)
		}, 6, audit.ProblemUnlinked, true},
	}
	for _, pageSize := range []int64{1000, 3} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/pages of %d", c.name, pageSize), func(t *testing.T) {
				t.Parallel()
				db := testenv.Database(t)
				recs := appendN(t, audit.NewTrail(db, service, nil), 10)
				wantIntact(t, verify(t, db), 10)
				c.tamper(t, db, recs)
				res, err := audit.VerifyPaged(context.Background(), db, pageSize)
				if err != nil {
					t.Fatal(err)
				}
				wantBroken(t, res, c.seq, c.kind)
				if c.seq > 1 && !c.forgedBefore && res.Head.Hash != recs[c.seq-2].Hash {
					t.Errorf("last good head %+v, want record %d's hash", res.Head, c.seq-1)
				}
				t.Logf("%s: %s", res.Kind, res.Problem)
			})
		}
	}
}

// What no check inside the database can see, an anchor kept outside it does.
func TestAnchorsRevealTruncationAndRewriting(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	recs := appendN(t, audit.NewTrail(db, service, nil), 10)
	anchor := verify(t, db).Head // an auditor keeps this

	wantIntact(t, verify(t, db, anchor), 10)
	wantIntact(t, verify(t, db, audit.Anchor{Seq: 4, Hash: recs[3].Hash}), 10)

	// The newest record replaced by a re-hashed forgery: nothing follows it to notice.
	f := recs[9]
	f.Purpose = "forged"
	f.Hash = audit.Hash(f)
	forge(t, db, f)
	wantIntact(t, verify(t, db), 10)
	wantBroken(t, verify(t, db, anchor), 10, audit.ProblemAnchorMismatch)

	// The newest records removed.
	remove(t, db, 8, 9, 10)
	wantIntact(t, verify(t, db), 7)
	wantBroken(t, verify(t, db, anchor), 8, audit.ProblemTruncated)

	for _, bad := range []audit.Anchor{{Seq: 0, Hash: anchor.Hash}, {Seq: 3, Hash: "abc"}, {Seq: -1, Hash: anchor.Hash}} {
		if _, err := audit.Verify(ctx, db, bad); err == nil {
			t.Errorf("anchor %+v accepted", bad)
		}
	}
}

// A foreign document with an _id among the records' is reported, not skipped.
func TestForeignDocumentsAmongTheRecordsAreReported(t *testing.T) {
	db := testenv.Database(t)
	appendN(t, audit.NewTrail(db, service, nil), 3)
	if _, err := records(db).InsertOne(context.Background(), bson.D{{Key: "_id", Value: "00000000005"}}); err != nil {
		t.Fatal(err)
	}
	wantBroken(t, verify(t, db), 4, audit.ProblemMisplaced)
}

// forge overwrites the stored record r.Seq with r, as an intruder who knows the encoding would.
func forge(t *testing.T, db *mongo.Database, r audit.Record) {
	t.Helper()
	set(t, db, r.Seq, bson.D{
		{Key: "seq", Value: r.Seq}, {Key: "id", Value: r.ID}, {Key: "time", Value: r.Time},
		{Key: "institution", Value: r.Institution}, {Key: "subject", Value: r.Subject}, {Key: "roles", Value: r.Roles},
		{Key: "method", Value: r.Method}, {Key: "object_ids", Value: r.ObjectIDs}, {Key: "purpose", Value: r.Purpose},
		{Key: "outcome", Value: r.Outcome}, {Key: "request_id", Value: r.RequestID}, {Key: "trace_id", Value: r.TraceID},
		{Key: "prev_hash", Value: r.PrevHash}, {Key: "hash", Value: r.Hash},
	})
}
