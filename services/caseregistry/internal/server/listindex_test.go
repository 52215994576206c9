package server

import (
	"context"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/pagination"
)

// listed returns the codes ListCases shows for req.
func listed(t *testing.T, s *Server, req *caseregistryv1.ListCasesRequest) []string {
	t.Helper()
	resp, err := s.ListCases(asCaller(), req)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range resp.GetCases() {
		out = append(out, c.GetCode())
	}
	return out
}

// A case committed without its list entry (the writer stopped between the commit and the index
// update) is listed once the consumer handles its event, and handling the event again changes
// nothing.
func TestListIndexerRepairsAMissedIndexUpdate(t *testing.T) {
	ctx := context.Background()
	// A registered case, taken from another registry so that this one has only the commit.
	other, _, _ := newServer(t)
	registered := register(t, other, nil)
	c, err := other.store.Get(ctx, registered.GetId())
	if err != nil {
		t.Fatal(err)
	}

	s, db, _ := newServer(t)
	registration := store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_REGISTERED.String(), Institution: police.Institution, Subject: police.Subject, At: c.RegisteredAt}
	if _, err := s.store.Create(ctx, c, registration, nil); err != nil {
		t.Fatal(err)
	}
	if got := listed(t, s, &caseregistryv1.ListCasesRequest{}); len(got) != 0 {
		t.Fatalf("listed %v before the index was updated", got)
	}

	handle := s.ListIndexer()
	env := &eventsv1.Envelope{Id: "event-1", Type: EventRegistered, AggregateId: c.ID, AggregateVersion: 1}
	for i := range 2 {
		if err := handle(ctx, env); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
		if got := listed(t, s, &caseregistryv1.ListCasesRequest{}); !slices.Equal(got, []string{c.Code}) {
			t.Fatalf("after delivery %d: listed %v, want [%s]", i+1, got, c.Code)
		}
		if n := count(t, db, store.ListJournalCollection); n != 1 {
			t.Errorf("after delivery %d: %d list journal entries, want 1", i+1, n)
		}
	}

	// A later change committed, its case document not yet written, and not listed: the event
	// brings the entry up to the change, so that filters on the changed field find the case.
	victim := caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM
	changed := c
	changed.Version = 2
	changed.Trafficking.Status = victim.String()
	rev := bson.D{{Key: "_id", Value: store.RevisionID(c.ID, 2)}, {Key: "case_id", Value: c.ID}, {Key: "version", Value: 2}, {Key: "case", Value: changed},
		{Key: "change", Value: store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_UPDATED.String(), Institution: police.Institution, Subject: police.Subject, At: c.RegisteredAt}}}
	if _, err := db.Collection(store.RevisionCollection).InsertOne(ctx, rev); err != nil {
		t.Fatal(err)
	}
	victims := &caseregistryv1.ListCasesRequest{TraffickingStatus: victim}
	if got := listed(t, s, victims); len(got) != 0 {
		t.Fatalf("listed %v as victims before the index was updated", got)
	}
	if err := handle(ctx, &eventsv1.Envelope{Id: "event-2", AggregateId: c.ID, AggregateVersion: 2}); err != nil {
		t.Fatal(err)
	}
	if got := listed(t, s, victims); !slices.Equal(got, []string{c.Code}) {
		t.Errorf("victims listed %v, want [%s]", got, c.Code)
	}
	if n := count(t, db, store.ListJournalCollection); n != 2 {
		t.Errorf("%d list journal entries, want 2", n)
	}
	// The first event, delivered late, does not take the entry back.
	if err := handle(ctx, env); err != nil {
		t.Fatal(err)
	}
	if got := listed(t, s, victims); !slices.Equal(got, []string{c.Code}) {
		t.Errorf("after a late event: victims listed %v, want [%s]", got, c.Code)
	}
	if n := count(t, db, store.ListJournalCollection); n != 2 {
		t.Errorf("after a late event: %d list journal entries, want 2", n)
	}
}

// A case registered through the server is listed at once; its event then writes nothing.
func TestListIndexerFindsTheWritersUpdateDone(t *testing.T) {
	s, db, _ := newServer(t)
	c := register(t, s, nil)
	if n := count(t, db, store.ListJournalCollection); n != 1 {
		t.Fatalf("%d list journal entries after a registration, want 1", n)
	}
	env := &eventsv1.Envelope{Id: "event-1", Type: EventRegistered, AggregateId: c.GetId(), AggregateVersion: 1}
	if err := s.ListIndexer()(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, store.ListJournalCollection); n != 1 {
		t.Errorf("%d list journal entries after the event, want 1", n)
	}
	if got := listed(t, s, &caseregistryv1.ListCasesRequest{}); !slices.Equal(got, []string{c.GetCode()}) {
		t.Errorf("listed %v, want [%s]", got, c.GetCode())
	}
}

func TestListIndexerRefusesAnEventOfNoCaseForGood(t *testing.T) {
	s, db, _ := newServer(t)
	for _, id := range []string{"0190a3c4-0000-7000-8000-000000000000", ""} {
		err := s.ListIndexer()(context.Background(), &eventsv1.Envelope{Id: "event-1", AggregateId: id, AggregateVersion: 1})
		if err == nil || !consumer.IsPermanent(err) {
			t.Errorf("event of case %q: %v, want a permanent error", id, err)
		}
	}
	if n := count(t, db, store.ListJournalCollection) + count(t, db, store.ListYearCollection); n != 0 {
		t.Errorf("%d list documents written for events of no case", n)
	}
}

func TestListCasesRefusesATokenThatIsNotAfterACode(t *testing.T) {
	s, _, _ := newServer(t)
	register(t, s, nil)
	for _, after := range []string{"not-a-code", "VT-2026-1", "VT-2026-001"} {
		_, err := s.ListCases(asCaller(), &caseregistryv1.ListCasesRequest{PageToken: pagination.Token(after)})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("token after %q: %v, want InvalidArgument", after, err)
		}
	}
}
