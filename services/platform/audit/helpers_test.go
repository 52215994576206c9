package audit_test

import (
	"context"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/audit"
)

const service = "caseregistry"

// entry is the i-th call of a test: ids only, as the interceptor records them.
func entry(i int) audit.Entry {
	return audit.Entry{
		Institution: "ASP-ANTITRAF",
		Subject:     fmt.Sprintf("officer-%d", i%3),
		Roles:       []string{"caseworker"},
		Method:      "/nrm.caseregistry.v1.CaseRegistryService/GetCase",
		ObjectIDs:   []string{fmt.Sprintf("case-%d", i%4)},
		Purpose:     "case-management",
		Outcome:     "OK",
		RequestID:   fmt.Sprintf("req-%d", i),
	}
}

func appendN(t *testing.T, tr *audit.Trail, n int) []audit.Record {
	t.Helper()
	recs := make([]audit.Record, 0, n)
	for i := range n {
		r, err := tr.Record(context.Background(), entry(i))
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func verify(t *testing.T, db *mongo.Database, anchors ...audit.Anchor) audit.VerifyResult {
	t.Helper()
	res, err := audit.Verify(context.Background(), db, anchors...)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return res
}

func wantIntact(t *testing.T, res audit.VerifyResult, records int64) {
	t.Helper()
	if !res.Intact || res.Records != records || res.FirstBadSeq != 0 || res.Kind != audit.ProblemNone || res.Problem != "" {
		t.Fatalf("verify = %+v, want intact with %d records", res, records)
	}
}

func wantBroken(t *testing.T, res audit.VerifyResult, seq int64, kind audit.ProblemKind) {
	t.Helper()
	if res.Intact || res.FirstBadSeq != seq || res.Kind != kind {
		t.Fatalf("verify = %+v, want %s at seq %d", res, kind, seq)
	}
	if res.Records != seq-1 || res.Head.Seq != seq-1 {
		t.Errorf("verify = %+v, want %d good records before the bad one", res, seq-1)
	}
	if res.Problem == "" {
		t.Error("no problem description")
	}
}

func records(db *mongo.Database) *mongo.Collection { return db.Collection(audit.Collection) }

func byID(seq int64) bson.D { return bson.D{{Key: "_id", Value: audit.DocumentID(seq)}} }

// set changes fields of the stored record seq directly in the database, as an intruder would.
func set(t *testing.T, db *mongo.Database, seq int64, fields bson.D) {
	t.Helper()
	res, err := records(db).UpdateOne(context.Background(), byID(seq), bson.D{{Key: "$set", Value: fields}})
	if err != nil || res.MatchedCount != 1 {
		t.Fatalf("tamper with record %d: %v (matched %d)", seq, err, res.MatchedCount)
	}
}

func remove(t *testing.T, db *mongo.Database, seqs ...int64) {
	t.Helper()
	for _, seq := range seqs {
		res, err := records(db).DeleteOne(context.Background(), byID(seq))
		if err != nil || res.DeletedCount != 1 {
			t.Fatalf("delete record %d: %v", seq, err)
		}
	}
}

// raw returns the stored document of record seq without its _id.
func raw(t *testing.T, db *mongo.Database, seq int64) bson.D {
	t.Helper()
	var d bson.D
	if err := records(db).FindOne(context.Background(), byID(seq)).Decode(&d); err != nil {
		t.Fatalf("read record %d: %v", seq, err)
	}
	out := d[:0:0]
	for _, e := range d {
		if e.Key != "_id" {
			out = append(out, e)
		}
	}
	return out
}

func replace(t *testing.T, db *mongo.Database, seq int64, doc bson.D) {
	t.Helper()
	full := append(bson.D{{Key: "_id", Value: audit.DocumentID(seq)}}, doc...)
	if _, err := records(db).ReplaceOne(context.Background(), byID(seq), full); err != nil {
		t.Fatalf("replace record %d: %v", seq, err)
	}
}
