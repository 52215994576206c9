package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func sampleCase(id string, version int64, note string) domain.Case {
	return domain.Case{
		ID: id, Code: "VT-2026-00001", Version: version, State: "CASE_STATE_OPEN", OwnerInstitution: "ASP-ANTITRAF",
		Profile:        domain.Profile{Sex: "SEX_FEMALE", Citizenships: []string{"AL"}, ResidenceMunicipality: note},
		Trafficking:    domain.Trafficking{Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", ExploitationTypes: []string{"EXPLOITATION_TYPE_SEXUAL"}},
		Identification: domain.Identification{IdentifyingInstitution: "ASP-ANTITRAF", Date: "2026-01-02"},
	}
}

func change(kind string) Change {
	return Change{Kind: kind, Institution: "ASP-ANTITRAF", Subject: "u1", At: time.Now()}
}

func event(t *testing.T, id string, v int64) []outbox.Pending {
	t.Helper()
	ev, err := outbox.NewEvent(context.Background(), "case.updated", id, v, 0, wrapperspb.String(id), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return []outbox.Pending{ev}
}

func TestCommitThenGetAndHistory(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Database(t))
	const id = "c1"
	if _, err := s.Create(ctx, sampleCase(id, 1, "Tirana"), change("CHANGE_KIND_REGISTERED"), event(t, id, 1)); err != nil {
		t.Fatal(err)
	}
	for v := int64(2); v <= 4; v++ {
		if _, err := s.Commit(ctx, sampleCase(id, v, "Durrës"), change("CHANGE_KIND_UPDATED"), event(t, id, v)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, id)
	if err != nil || got.Version != 4 || got.Profile.ResidenceMunicipality != "Durrës" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	page, err := s.History(ctx, id, 0, 3)
	if err != nil || len(page) != 3 || page[0].Version != 1 || page[2].Version != 3 || page[0].Change.Kind != "CHANGE_KIND_REGISTERED" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	if page[0].Case.ID != "" || page[0].Outbox != nil {
		t.Error("history entries carry the snapshot or the events")
	}
	rest, err := s.History(ctx, id, 3, 3)
	if err != nil || len(rest) != 1 || rest[0].Version != 4 {
		t.Fatalf("last page: %+v, %v", rest, err)
	}
}

func TestARetriedCreateReturnsTheStoredCase(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Database(t))
	first, err := s.Create(ctx, sampleCase("c2", 1, "first"), change("CHANGE_KIND_REGISTERED"), event(t, "c2", 1))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Create(ctx, sampleCase("c2", 1, "second"), change("CHANGE_KIND_REGISTERED"), event(t, "c2", 1))
	if !errors.Is(err, ErrExists) || again.Profile.ResidenceMunicipality != first.Profile.ResidenceMunicipality {
		t.Fatalf("retry: %+v, %v", again, err)
	}
}

// Many writers try to take the same version: exactly one commits, the others learn of the
// conflict, and the case document ends at the winner's version.
func TestExactlyOneWriterTakesAVersion(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Database(t))
	if _, err := s.Create(ctx, sampleCase("c3", 1, "x"), change("CHANGE_KIND_REGISTERED"), nil); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	results := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			ev, err := outbox.NewEvent(ctx, "case.updated", "c3", 2, 0, wrapperspb.String(string(rune('a'+i))), time.Now())
			if err != nil {
				results[i] = err
				return
			}
			_, results[i] = s.Commit(ctx, sampleCase("c3", 2, string(rune('a'+i))), change("CHANGE_KIND_UPDATED"), []outbox.Pending{ev})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrConflict):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers committed version 2", won)
	}
	got, err := s.Current(ctx, "c3")
	if err != nil || got.Version != 2 {
		t.Fatalf("current: %+v, %v", got, err)
	}
	// The event waiting to be published is the winner's, whichever writer announced first.
	var rev Revision
	if err := s.revisions.FindOne(ctx, bson.D{{Key: "_id", Value: RevisionID("c3", 2)}}).Decode(&rev); err != nil {
		t.Fatal(err)
	}
	var ptr struct {
		Event outbox.Event `bson:"event"`
	}
	for id, committed := range rev.Outbox {
		if err := s.db.Collection(outbox.PointerCollection).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&ptr); err != nil {
			t.Fatal(err)
		}
		if string(ptr.Event.Data) != string(committed.Data) {
			t.Error("the pointer holds a losing writer's event")
		}
	}
}

// A writer crashed after committing and before writing the case document: Current (what every
// change starts from) finds the newer revisions and repairs the document.
func TestCurrentRollsForwardACommitWhoseDocumentWasNotWritten(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	s := New(db)
	if _, err := s.Create(ctx, sampleCase("c4", 1, "old"), change("CHANGE_KIND_REGISTERED"), nil); err != nil {
		t.Fatal(err)
	}
	for v := int64(2); v <= 3; v++ {
		rev := Revision{ID: RevisionID("c4", v), CaseID: "c4", Version: v, Case: sampleCase("c4", v, "new"), Change: change("CHANGE_KIND_UPDATED")}
		if _, err := db.Collection(RevisionCollection).InsertOne(ctx, rev); err != nil {
			t.Fatal(err)
		}
	}
	if stale, _ := s.Get(ctx, "c4"); stale.Version != 1 {
		t.Fatalf("the document moved by itself: %d", stale.Version)
	}
	got, err := s.Current(ctx, "c4")
	if err != nil || got.Version != 3 || got.Profile.ResidenceMunicipality != "new" {
		t.Fatalf("current: %+v, %v", got, err)
	}
	if repaired, _ := s.Get(ctx, "c4"); repaired.Version != 3 {
		t.Errorf("document not repaired: version %d", repaired.Version)
	}
}

// A registration committed without its case document is still found by id.
func TestGetFindsARegistrationWhoseDocumentWasNotWritten(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	s := New(db)
	rev := Revision{ID: RevisionID("c5", 1), CaseID: "c5", Version: 1, Case: sampleCase("c5", 1, "x"), Change: change("CHANGE_KIND_REGISTERED")}
	if _, err := db.Collection(RevisionCollection).InsertOne(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "c5"); err != nil || got.Version != 1 {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing case: %v", err)
	}
}

// A slower writer of an older version overwrote the document (FerretDB's replace is not a
// compare-and-set): the next commit rolls it forward rather than building on the old version.
func TestAnOverwrittenDocumentIsRolledForward(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	s := New(db)
	if _, err := s.Create(ctx, sampleCase("c6", 1, "v1"), change("CHANGE_KIND_REGISTERED"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, sampleCase("c6", 2, "v2"), change("CHANGE_KIND_UPDATED"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(Collection).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "c6"}}, sampleCase("c6", 1, "v1")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Current(ctx, "c6"); err != nil || got.Version != 2 || got.Profile.ResidenceMunicipality != "v2" {
		t.Fatalf("current: %+v, %v", got, err)
	}
}

// The indexes are created once and creating them again is harmless; a second case with the same
// code is refused by the store itself.
func TestIndexesAreIdempotentAndCodesUnique(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Database(t))
	for range 2 {
		if err := s.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Create(ctx, sampleCase("u1", 1, "x"), change("CHANGE_KIND_REGISTERED"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cases.InsertOne(ctx, sampleCase("u2", 1, "x")); err == nil {
		t.Error("a second case with the same code was stored")
	}
}
