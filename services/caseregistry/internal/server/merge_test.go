package server

import (
	"context"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// eventsOf returns the events committed with version v of a case, from its revision.
func eventsOf(t *testing.T, db *mongo.Database, caseID string, v int64) []*eventsv1.Envelope {
	t.Helper()
	var rev struct {
		Outbox map[string]outbox.Event `bson:"outbox"`
	}
	if err := db.Collection(store.RevisionCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: store.RevisionID(caseID, v)}}).Decode(&rev); err != nil {
		t.Fatal(err)
	}
	var out []*eventsv1.Envelope
	for _, e := range rev.Outbox {
		env := &eventsv1.Envelope{}
		if err := proto.Unmarshal(e.Data, env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// Each of a merge's two commits publishes an event of its own case: the duplicate's
// case.merged, and the survivor's case.updated, with its new version and facts, so that the
// list index and reporting follow the survivor too.
func TestMergePublishesAnEventForEachCase(t *testing.T) {
	s, db, _ := newServer(t)
	survivor := register(t, s, nil)
	dup := registerAs(t, s, shelterRegistrar, marker)
	if _, err := s.MergeCases(as(secretariat, ""), &caseregistryv1.MergeCasesRequest{Id: survivor.GetId(), DuplicateId: dup.GetId(), Reason: "same person"}); err != nil {
		t.Fatal(err)
	}
	if evs := eventsOf(t, db, dup.GetId(), 2); len(evs) != 1 || evs[0].GetType() != EventMerged || evs[0].GetAggregateId() != dup.GetId() {
		t.Errorf("events of the duplicate's commit: %v", evs)
	}
	evs := eventsOf(t, db, survivor.GetId(), 2)
	if len(evs) != 1 || evs[0].GetType() != EventUpdated || evs[0].GetAggregateId() != survivor.GetId() || evs[0].GetAggregateVersion() != 2 {
		t.Fatalf("events of the survivor's commit: %v", evs)
	}
	var u caseregistryv1.CaseUpdated
	if err := evs[0].GetPayload().UnmarshalTo(&u); err != nil {
		t.Fatal(err)
	}
	if u.GetCaseId() != survivor.GetId() || u.GetVersion() != 2 || !slices.Equal(u.GetFields(), []string{"merged_case_ids"}) || u.GetFacts() == nil {
		t.Errorf("the survivor's event: %v", &u)
	}
	// Both are announced for the relay: two registrations and the two commits of the merge.
	if n := count(t, db, outbox.PointerCollection); n != 4 {
		t.Errorf("%d events announced, want 4", n)
	}
}
