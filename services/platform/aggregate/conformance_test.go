package aggregate_test

// The conformance suite of the aggregate store. It runs on whatever store the tests run on:
// embedded FerretDB on SQLite by default, FerretDB on PostgreSQL in CI's external run, and any
// MongoDB named by NRM_TEST_MONGO_URI.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func TestCommitsReadBackAndTheHistoryPagesInOrder(t *testing.T) {
	ctx := caller()
	s := newStore(testenv.Database(t))
	created(t, s, "r1", "v1")
	for v := int64(2); v <= 4; v++ {
		if _, err := s.Commit(ctx, referral{ID: "r1", Version: v, Note: fmt.Sprint("v", v)}, entry{Kind: "NOTED"}, events(t, "r1", v, "")); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Get(ctx, "r1"); err != nil || got.Version != 4 || got.Note != "v4" {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	page, err := s.History(ctx, "r1", 0, 3)
	if err != nil || len(page) != 3 {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	for i, r := range page {
		if r.Version != int64(i+1) || r.AggregateID != "r1" || r.ID != aggregate.RevisionID("r1", r.Version) {
			t.Errorf("entry %d: %+v", i, r)
		}
		if r.State != (referral{}) {
			t.Errorf("history entry %d carries the aggregate", i)
		}
	}
	if page[0].Change.Kind != "CREATED" || page[1].Change.Kind != "NOTED" {
		t.Errorf("changes %q, %q", page[0].Change.Kind, page[1].Change.Kind)
	}
	rest, err := s.History(ctx, "r1", 3, 3)
	if err != nil || len(rest) != 1 || rest[0].Version != 4 {
		t.Fatalf("last page: %+v, %v", rest, err)
	}
	if none, err := s.History(ctx, "nobody", 0, 3); err != nil || len(none) != 0 {
		t.Errorf("history of nothing: %+v, %v", none, err)
	}
	if _, err := s.Get(ctx, "nobody"); !errors.Is(err, aggregate.ErrNotFound) {
		t.Errorf("Get of nothing: %v", err)
	}
}

// A retried creation (the same idempotency key, so the same id) writes nothing and returns what
// the first attempt stored; another institution's same key is another aggregate.
func TestARetriedCreateReturnsTheStoredAggregate(t *testing.T) {
	ctx := caller()
	db := testenv.Database(t)
	s := newStore(db)
	ns := uuid.MustParse("5d1f9a3c-61a2-4f0e-9a57-2b7c1e0d9f11")
	id := aggregate.KeyedID(ns, "ASP-ANTITRAF", "key-1")
	if other := aggregate.KeyedID(ns, "SHSSH", "key-1"); other == id {
		t.Fatal("two institutions' same key gave the same id")
	}
	first := created(t, s, id, "first")
	again, err := s.Create(ctx, referral{ID: id, Version: 1, Note: "second"}, entry{Kind: "CREATED"}, events(t, id, 1, "second"))
	if !errors.Is(err, aggregate.ErrExists) || again.Note != first.Note {
		t.Fatalf("retry: %+v, %v", again, err)
	}
	if n, _ := db.Collection("referral_revisions").CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("%d revisions after a retried create, want 1", n)
	}
	if _, err := s.Create(ctx, referral{ID: "r2", Version: 2}, entry{}, nil); err == nil {
		t.Error("created an aggregate at version 2")
	}
	if _, err := s.Create(ctx, referral{Version: 1}, entry{}, nil); err == nil {
		t.Error("created an aggregate without an id")
	}
}

// Many writers try to commit the same version: exactly one does, the others learn of the
// conflict, the document ends at the winner's version, and the event waiting to be published is
// the winner's whichever writer announced first.
func TestExactlyOneOfConcurrentWritersTakesAVersion(t *testing.T) {
	ctx := caller()
	db := testenv.Database(t)
	s := newStore(db)
	created(t, s, "r3", "v1")
	const writers = 8
	results := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			n := fmt.Sprint("writer-", i)
			_, results[i] = s.Commit(ctx, referral{ID: "r3", Version: 2, Note: n}, entry{Kind: "NOTED"}, events(t, "r3", 2, n))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, aggregate.ErrConflict):
			t.Fatalf("a writer failed otherwise: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers committed version 2", won)
	}
	got, err := s.Current(ctx, "r3")
	if err != nil || got.Version != 2 {
		t.Fatalf("Current: %+v, %v", got, err)
	}
	bus := testenv.NewBus(t)
	r := relay(db, bus, &clock{now: time.Now()})
	drain(t, r)
	var out []string
	for _, env := range published(t, bus) {
		out = append(out, payload(t, env))
	}
	if want := []string{"v1", got.Note}; !slices.Equal(out, want) {
		t.Errorf("published %v, want %v (the winner's event)", out, want)
	}
}

// Commands on one version: with the version named (If-Match) exactly one commits and the others
// are refused naming the version that won; without, every command commits, each decided again
// on the state it lost to, and the history holds them all.
func TestConcurrentCommandsOnOneVersion(t *testing.T) {
	ctx := caller()
	s := newStore(testenv.Database(t))
	created(t, s, "r4", "v1")
	const writers = 4
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { _, _, errs[i] = s.Execute(ctx, note("r4", 1, fmt.Sprint("guarded-", i))) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		if reason, md := info(err); status.Code(err) != codes.Aborted || reason != "VERSION_CONFLICT" ||
			md["expected_version"] != "1" || md["current_version"] != "2" || md["referral_id"] != "r4" {
			t.Errorf("a losing command got %v %v", err, md)
		}
	}
	if ok != 1 {
		t.Fatalf("%d commands based on version 1 committed", ok)
	}
	for i := range writers {
		wg.Go(func() { _, _, errs[i] = s.Execute(ctx, note("r4", 0, fmt.Sprint("free-", i))) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("a command without a version failed: %v", err)
		}
	}
	got, err := s.Current(ctx, "r4")
	if err != nil || got.Version != 2+writers {
		t.Fatalf("Current: %+v, %v; want version %d", got, err, 2+writers)
	}
	history, err := s.History(ctx, "r4", 0, 100)
	if err != nil || len(history) != 2+writers {
		t.Fatalf("history of %d entries, %v", len(history), err)
	}
	for _, h := range history[1:] {
		if h.Change.Institution != "ASP-ANTITRAF" || h.Change.Subject != "officer-7" || h.Change.At.IsZero() {
			t.Errorf("entry %d does not say who and when: %+v", h.Version, h.Change)
		}
	}
}

func TestCommandsAreRefusedWithNothingWritten(t *testing.T) {
	ctx := caller()
	db := testenv.Database(t)
	s := newStore(db)
	created(t, s, "r5", "v1")
	refused := errors.New("not involved")
	decideFails := errors.New("invalid transition")
	cases := []struct {
		name string
		cmd  aggregate.Command[referral, entry]
		code codes.Code
		is   error
	}{
		{"unknown aggregate", note("nobody", 0, "x"), codes.NotFound, nil},
		{"stale version", note("r5", 7, "x"), codes.Aborted, nil},
		{"caller not admitted, whatever the version", func() aggregate.Command[referral, entry] {
			c := note("r5", 7, "x")
			c.Admit = func(referral) error { return refused }
			return c
		}(), codes.Unknown, refused},
		{"decision refused", aggregate.Command[referral, entry]{ID: "r5", Decide: func(referral) (aggregate.Outcome[referral, entry], error) {
			return aggregate.Outcome[referral, entry]{}, decideFails
		}}, codes.Unknown, decideFails},
		{"no principal", func() aggregate.Command[referral, entry] { return note("r5", 0, "x") }(), codes.Unauthenticated, nil},
		{"a decision about another aggregate", aggregate.Command[referral, entry]{ID: "r5", Decide: func(referral) (aggregate.Outcome[referral, entry], error) {
			return aggregate.Outcome[referral, entry]{Next: referral{Note: "forgot the state"}}, nil
		}}, codes.Unknown, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			callCtx := ctx
			if c.code == codes.Unauthenticated {
				callCtx = context.Background()
			}
			_, committed, err := s.Execute(callCtx, c.cmd)
			if committed || status.Code(err) != c.code || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("Execute = %v, %v; want %s %v", committed, err, c.code, c.is)
			}
			if n, _ := db.Collection("referral_revisions").CountDocuments(ctx, bson.D{}); n != 1 {
				t.Errorf("%d revisions, want the creation's only", n)
			}
		})
	}
	noop := aggregate.Command[referral, entry]{ID: "r5", Decide: func(referral) (aggregate.Outcome[referral, entry], error) {
		return aggregate.Outcome[referral, entry]{Noop: true}, nil
	}}
	if r, committed, err := s.Execute(ctx, noop); err != nil || committed || r.Version != 1 {
		t.Errorf("no-op: %+v, %v, %v", r, committed, err)
	}
}

// A writer stopped between its commit and writing the current document: reads by id see the
// version before for a moment, Current (what every change starts from) rolls the document
// forward, and the change's event is still published, once, after the relay's grace period.
func TestACrashBetweenCommitAndDocumentWrite(t *testing.T) {
	ctx := caller()
	db, bus := testenv.Database(t), testenv.NewBus(t)
	s := newStore(db)
	created(t, s, "r6", "v1")
	aggregate.CrashAt(s, "committed")
	if _, err := s.Commit(ctx, referral{ID: "r6", Version: 2, Note: "v2"}, entry{Kind: "NOTED"}, events(t, "r6", 2, "v2")); !errors.Is(err, aggregate.ErrCrash) {
		t.Fatalf("commit: %v", err)
	}
	if lagging, err := s.Get(ctx, "r6"); err != nil || lagging.Version != 1 {
		t.Fatalf("Get right after the crash: %+v, %v", lagging, err)
	}
	// A creation that stopped the same way is found by id all the same.
	if _, err := s.Create(ctx, referral{ID: "r7", Version: 1, Note: "new"}, entry{Kind: "CREATED"}, events(t, "r7", 1, "new")); !errors.Is(err, aggregate.ErrCrash) {
		t.Fatalf("create: %v", err)
	}
	if got, err := s.Get(ctx, "r7"); err != nil || got.Note != "new" {
		t.Fatalf("Get of the crashed creation: %+v, %v", got, err)
	}
	if got, err := s.Current(ctx, "r6"); err != nil || got.Version != 2 || got.Note != "v2" {
		t.Fatalf("Current: %+v, %v", got, err)
	}
	if repaired, _ := s.Get(ctx, "r6"); repaired.Version != 2 {
		t.Errorf("document not rolled forward: version %d", repaired.Version)
	}
	wantPublishedAfterGrace(t, db, bus, []string{"v1", "v2", "new"})
}

// A writer stopped after writing the document and before confirming its events: the events are
// published after the relay's grace period, once.
func TestACrashBetweenCommitAndConfirm(t *testing.T) {
	ctx := caller()
	db, bus := testenv.Database(t), testenv.NewBus(t)
	s := newStore(db)
	created(t, s, "r8", "v1")
	aggregate.CrashAt(s, "written")
	if _, err := s.Commit(ctx, referral{ID: "r8", Version: 2, Note: "v2"}, entry{Kind: "NOTED"}, events(t, "r8", 2, "v2")); !errors.Is(err, aggregate.ErrCrash) {
		t.Fatalf("commit: %v", err)
	}
	if got, err := s.Get(ctx, "r8"); err != nil || got.Version != 2 {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	wantPublishedAfterGrace(t, db, bus, []string{"v1", "v2"})
}

// wantPublishedAfterGrace drains a relay before and after its grace period and checks that the
// stream then holds the notes, once each, in order.
func wantPublishedAfterGrace(t *testing.T, db *mongo.Database, bus *testenv.Bus, want []string) {
	t.Helper()
	c := &clock{now: time.Now()}
	r := relay(db, bus, c)
	drain(t, r) // the unconfirmed events hold back, and are first seen
	c.now = c.now.Add(2 * time.Minute)
	drain(t, r)
	drain(t, r) // nothing twice
	var got []string
	for _, env := range published(t, bus) {
		got = append(got, payload(t, env))
	}
	if !slices.Equal(got, want) {
		t.Errorf("published %v, want %v", got, want)
	}
	if n, err := outbox.Backlog(context.Background(), db); err != nil || n != 0 {
		t.Errorf("backlog %d, %v", n, err)
	}
}

// info is an API error's reason and metadata.
func info(err error) (string, map[string]string) {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i.GetReason(), i.GetMetadata()
		}
	}
	return "", nil
}
