package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func TestVerifyCommandPrintsASummary(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	uri := testenv.MongoURI(t)
	recs := appendN(t, audit.NewTrail(db, service, nil), 5)

	var out bytes.Buffer
	intact, err := audit.VerifyCommand(ctx, uri, db.Name(), &out)
	if err != nil || !intact {
		t.Fatalf("intact %v, %v\n%s", intact, err, out.String())
	}
	wantLines(t, out.String(),
		fmt.Sprintf("audit chain in database %q: INTACT", db.Name()),
		"records verified: 5",
		"head:             seq 5, hash "+recs[4].Hash,
		"pass it as an anchor next time (5:"+recs[4].Hash+")")

	set(t, db, 4, bson.D{{Key: "subject", Value: "someone-else"}})
	out.Reset()
	intact, err = audit.VerifyCommand(ctx, uri, db.Name(), &out, audit.Anchor{Seq: 5, Hash: recs[4].Hash})
	if err != nil || intact {
		t.Fatalf("intact %v, %v after tampering\n%s", intact, err, out.String())
	}
	wantLines(t, out.String(),
		fmt.Sprintf("audit chain in database %q: BROKEN", db.Name()),
		"records verified: 3",
		"anchor:           seq 5, hash "+recs[4].Hash,
		"first bad record: seq 4 (altered)",
		"problem:          record 4 was altered",
		"last good record: seq 3, hash "+recs[2].Hash)
	t.Logf("\n%s", out.String())
}

func TestVerifyObjectCommandPrintsASummary(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	uri := testenv.MongoURI(t)
	recs := appendN(t, audit.NewTrail(db, service, nil), 9) // case-1: records 2, 6

	var out bytes.Buffer
	intact, err := audit.VerifyObjectCommand(ctx, uri, db.Name(), "case-1", &out)
	if err != nil || !intact {
		t.Fatalf("intact %v, %v\n%s", intact, err, out.String())
	}
	wantLines(t, out.String(),
		fmt.Sprintf("audit records of object %q in database %q: INTACT", "case-1", db.Name()),
		"records verified: 2",
		"newest record:    seq 6, hash "+recs[5].Hash)

	set(t, db, 6, bson.D{{Key: "subject", Value: "someone-else"}})
	out.Reset()
	intact, err = audit.VerifyObjectCommand(ctx, uri, db.Name(), "case-1", &out)
	if err != nil || intact {
		t.Fatalf("intact %v, %v after tampering\n%s", intact, err, out.String())
	}
	wantLines(t, out.String(),
		fmt.Sprintf("audit records of object %q in database %q: BROKEN", "case-1", db.Name()),
		"records verified: 1",
		"first bad record: seq 6 (altered)",
		"last good record: seq 2, hash "+recs[1].Hash)

	if _, err := audit.VerifyObjectCommand(ctx, "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200", "x", "case-1", &out); err == nil {
		t.Error("an unreachable database verified")
	}
}

func TestVerifyCommandFailsWhenItCannotVerify(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	if intact, err := audit.VerifyCommand(ctx, "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200", "x", &out); err == nil || intact {
		t.Errorf("unreachable database: intact %v, error %v", intact, err)
	}
	db := testenv.Database(t)
	if _, err := audit.VerifyCommand(ctx, testenv.MongoURI(t), db.Name(), &out, audit.Anchor{Seq: 1, Hash: "nope"}); err == nil {
		t.Error("invalid anchor accepted")
	}
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestAnchorsParseAsPrinted(t *testing.T) {
	a := audit.Anchor{Seq: 42, Hash: audit.GenesisHash}
	got, err := audit.ParseAnchor(a.String())
	if err != nil || got != a {
		t.Errorf("ParseAnchor(%q) = %+v, %v", a.String(), got, err)
	}
	for _, bad := range []string{"", "42", "42:", ":" + audit.GenesisHash, "0:" + audit.GenesisHash, "x:" + audit.GenesisHash, "42:" + strings.ToUpper(audit.GenesisHash[:2]) + "ab"} {
		if _, err := audit.ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
}
