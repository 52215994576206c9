package audit_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/requestid"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func TestAppendedChainVerifiesIntact(t *testing.T) {
	db := testenv.Database(t)
	for range 2 { // every start ensures them again
		if err := audit.EnsureIndexes(context.Background(), db); err != nil {
			t.Fatal(err)
		}
	}
	wantIntact(t, verify(t, db), 0) // the empty chain
	if res := verify(t, db); res.Head != (audit.Head{Seq: 0, Hash: audit.GenesisHash}) {
		t.Errorf("head of the empty chain = %+v", res.Head)
	}

	recs := appendN(t, audit.NewTrail(db, service, nil), 10)
	for i, r := range recs {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		prev := audit.GenesisHash
		if i > 0 {
			prev = recs[i-1].Hash
		}
		if r.PrevHash != prev || r.Hash != audit.Hash(r) || r.Service != service || r.HashVersion != audit.HashVersion {
			t.Fatalf("record %d = %+v: not chained to %s", r.Seq, r, prev)
		}
	}
	res := verify(t, db)
	wantIntact(t, res, 10)
	if res.Head != (audit.Head{Seq: 10, Hash: recs[9].Hash}) {
		t.Errorf("head = %+v, want seq 10 hash %s", res.Head, recs[9].Hash)
	}
	// Across page boundaries, and with the head as anchor.
	for _, size := range []int64{1, 3, 10, 11} {
		res, err := audit.VerifyPaged(context.Background(), db, size, res.Head)
		if err != nil {
			t.Fatal(err)
		}
		wantIntact(t, res, 10)
	}
	// The stored record reads back exactly as returned by Record.
	got, _, err := audit.List(context.Background(), db, audit.Filter{}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], recs[9]) {
		t.Errorf("stored record reads back as\n%+v\nwant\n%+v", got, recs[9])
	}
}

// A process that starts later (a restart, another replica) continues the same chain.
func TestANewTrailContinuesTheChain(t *testing.T) {
	db := testenv.Database(t)
	appendN(t, audit.NewTrail(db, service, nil), 5)
	appendN(t, audit.NewTrail(db, service, nil), 5)
	wantIntact(t, verify(t, db), 10)
}

// The hint is a starting point only: stale, missing or ahead of a process's cache, the chain
// continues at the real head.
func TestTheHeadHintIsNotTrustedBlindly(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	recs := appendN(t, audit.NewTrail(db, service, nil), 20)
	hints := db.Collection(audit.HeadCollection)

	// Stale hint (a slow writer overwrote a newer one).
	if _, err := hints.UpdateOne(ctx, bson.D{{Key: "_id", Value: "head"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: int64(3)}, {Key: "hash", Value: recs[2].Hash}}}}); err != nil {
		t.Fatal(err)
	}
	if r, err := audit.NewTrail(db, service, nil).Record(ctx, entry(1)); err != nil || r.Seq != 21 {
		t.Fatalf("after a stale hint: seq %d, %v; want 21", r.Seq, err)
	}
	// No hint at all: found from the records.
	if _, err := hints.DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if r, err := audit.NewTrail(db, service, nil).Record(ctx, entry(2)); err != nil || r.Seq != 22 {
		t.Fatalf("without a hint: seq %d, %v; want 22", r.Seq, err)
	}
	// Garbage hint.
	if _, err := hints.UpdateOne(ctx, bson.D{{Key: "_id", Value: "head"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: "x"}, {Key: "hash", Value: 5}}}}); err != nil {
		t.Fatal(err)
	}
	if r, err := audit.NewTrail(db, service, nil).Record(ctx, entry(3)); err != nil || r.Seq != 23 {
		t.Fatalf("with a garbage hint: seq %d, %v; want 23", r.Seq, err)
	}
	// A trail whose cache is behind other writers moves past them.
	behind := audit.NewTrail(db, service, nil)
	appendN(t, behind, 1)                           // 24, cached
	appendN(t, audit.NewTrail(db, service, nil), 9) // 25..33 by another process
	if r, err := behind.Record(ctx, entry(4)); err != nil || r.Seq != 34 {
		t.Fatalf("stale cache: seq %d, %v; want 34", r.Seq, err)
	}
	wantIntact(t, verify(t, db), 34)
}

// Removing the newest records leaves a consistent chain; the next append, by the same process
// (its cached head) or a new one (the hint, when the removal reaches back to it), chains onto
// the head it knew, so the removal shows as a gap.
func TestAppendAfterTailRemovalLeavesTheGapVisible(t *testing.T) {
	n := int64(audit.HintEvery + 4)
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			db := testenv.Database(t)
			tr := audit.NewTrail(db, service, nil)
			appendN(t, tr, int(n))
			wantKnown := n // the running trail knows the head
			if restart {
				tr, wantKnown = audit.NewTrail(db, service, nil), audit.HintEvery // the hint
			}
			var gone []int64
			for s := int64(audit.HintEvery - 1); s <= n; s++ {
				gone = append(gone, s)
			}
			remove(t, db, gone...)
			wantIntact(t, verify(t, db), audit.HintEvery-2) // undetectable from inside, until…
			r, err := tr.Record(context.Background(), entry(0))
			if err != nil {
				t.Fatal(err)
			}
			if r.Seq != wantKnown+1 {
				t.Errorf("appended seq %d after the removal, want %d (after the known head)", r.Seq, wantKnown+1)
			}
			wantBroken(t, verify(t, db), audit.HintEvery-1, audit.ProblemMissing)
		})
	}
}

func TestConcurrentAppendsAreGaplessAndIntact(t *testing.T) {
	const writers, each = 8, 25
	for _, mode := range []string{"one trail", "a trail per writer (processes)"} {
		t.Run(mode, func(t *testing.T) {
			db := testenv.Database(t)
			shared := audit.NewTrail(db, service, nil)
			var (
				mu   sync.Mutex
				all  []audit.Record
				wg   sync.WaitGroup
				errs = make(chan error, writers)
			)
			for w := range writers {
				tr := shared
				if mode != "one trail" {
					tr = audit.NewTrail(db, service, nil)
				}
				wg.Go(func() {
					for i := range each {
						r, err := tr.Record(context.Background(), entry(w*each+i))
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						all = append(all, r)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			slices.SortFunc(all, func(a, b audit.Record) int { return int(a.Seq - b.Seq) })
			ids := map[string]bool{}
			for i, r := range all {
				if r.Seq != int64(i+1) {
					t.Fatalf("seqs not 1..%d: position %d holds seq %d", writers*each, i, r.Seq)
				}
				ids[r.ID] = true
			}
			if len(ids) != writers*each {
				t.Errorf("%d distinct record ids for %d records", len(ids), writers*each)
			}
			wantIntact(t, verify(t, db), writers*each)
			n, err := records(db).CountDocuments(context.Background(), bson.D{})
			if err != nil || n != writers*each {
				t.Errorf("%d documents stored (%v), want %d", n, err, writers*each)
			}
			wantObjectsIndexed(t, db, all)
		})
	}
}

// wantObjectsIndexed fails unless each object of recs lists exactly its records, each once, and
// verifies intact.
func wantObjectsIndexed(t *testing.T, db *mongo.Database, recs []audit.Record) {
	t.Helper()
	ctx := context.Background()
	want := map[string][]int64{}
	for _, r := range recs {
		for _, o := range r.ObjectIDs {
			want[o] = append(want[o], r.Seq)
		}
	}
	for object, seqs := range want {
		var got []int64
		token := ""
		for {
			page, next, err := audit.List(ctx, db, audit.Filter{ObjectID: object}, 100, token)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				got = append(got, r.Seq)
			}
			if token = next; token == "" {
				break
			}
		}
		slices.Sort(got)
		slices.Sort(seqs)
		if !slices.Equal(got, seqs) {
			t.Errorf("%s lists %v, want %v", object, got, seqs)
		}
		if res, err := audit.VerifyObject(ctx, db, object); err != nil || !res.Intact || res.Records != int64(len(seqs)) {
			t.Errorf("verify %s = %+v, %v; want intact with %d records", object, res, err, len(seqs))
		}
	}
}

func TestEntriesAreValidatedAndNormalised(t *testing.T) {
	db := testenv.Database(t)
	tr := audit.NewTrail(db, service, nil)
	ctx := context.Background()

	for name, e := range map[string]audit.Entry{
		"no method":          {Outcome: "OK"},
		"no outcome":         {Method: "/m/M"},
		"outcome not a name": {Method: "/m/M", Outcome: codes.PermissionDenied.String()},
	} {
		if _, err := tr.Record(ctx, e); !errors.Is(err, audit.ErrInvalidEntry) {
			t.Errorf("%s: error %v, want ErrInvalidEntry", name, err)
		}
	}

	traceID := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	ctx = trace.ContextWithSpanContext(requestid.With(ctx, "req-from-ctx"),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled}))
	at := time.Date(2025, 5, 1, 10, 0, 0, 123_456_789, time.FixedZone("CEST", 2*3600))
	r, err := tr.Record(ctx, audit.Entry{
		Time:        at,
		Institution: "KKSAT",
		Subject:     "bad-\xff-utf8",
		Roles:       []string{"member", "caseworker", "member", ""},
		OnBehalfOf:  audit.Principal{Institution: "ASP-ANTITRAF", Subject: "officer-1", Roles: []string{"caseworker"}},
		Method:      "/nrm.caseregistry.v1.CaseRegistryService/GetCase",
		ObjectIDs:   []string{"c2", "c1", "c2", ""},
		Purpose:     strings.Repeat("é", 1000),
		Outcome:     audit.Outcome(status.Error(codes.PermissionDenied, "no")),
	})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case !r.Time.Equal(at.Truncate(time.Millisecond)) || r.Time.Location() != time.UTC:
		t.Errorf("time %v, want %v in UTC to the millisecond", r.Time, at)
	case !slices.Equal(r.Roles, []string{"caseworker", "member"}):
		t.Errorf("roles %q, want sorted and unique", r.Roles)
	case !slices.Equal(r.ObjectIDs, []string{"c2", "c1"}):
		t.Errorf("object ids %q, want unique in the order given", r.ObjectIDs)
	case r.Subject != "bad-\uFFFD-utf8":
		t.Errorf("subject %q, want invalid UTF-8 replaced", r.Subject)
	case len(r.Purpose) > 512 || !strings.HasPrefix(r.Purpose, "éé") || strings.ContainsRune(r.Purpose, '\uFFFD'):
		t.Errorf("purpose of %d bytes, want at most 512, cut between characters", len(r.Purpose))
	case r.Outcome != "PERMISSION_DENIED":
		t.Errorf("outcome %q", r.Outcome)
	case r.RequestID != "req-from-ctx" || r.TraceID != traceID.String():
		t.Errorf("request id %q, trace id %q: not taken from the context", r.RequestID, r.TraceID)
	case r.OnBehalfOf.Institution != "ASP-ANTITRAF" || r.OnBehalfOf.Subject != "officer-1":
		t.Errorf("on behalf of %+v", r.OnBehalfOf)
	}
	wantIntact(t, verify(t, db), 1)
}

func TestOutcomeNames(t *testing.T) {
	for err, want := range map[error]string{
		nil: "OK",
		status.Error(codes.PermissionDenied, "x"): "PERMISSION_DENIED",
		status.Error(codes.InvalidArgument, "x"):  "INVALID_ARGUMENT",
		errors.New("not a status"):                "UNKNOWN",
	} {
		if got := audit.Outcome(err); got != want {
			t.Errorf("Outcome(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestServiceNameMustBeASubjectToken(t *testing.T) {
	for _, bad := range []string{"", "case.registry", "Case", "a b", "*", ">"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewTrail accepted service %q", bad)
				}
			}()
			audit.NewTrail(nil, bad, nil)
		}()
	}
}
