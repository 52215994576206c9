package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.mongodb.org/mongo-driver/v2/bson"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// At the end of retention the sweep erases the identity of a closed case, records who did it,
// and leaves open cases and the pseudonymous record alone.
func TestRetentionErasesIdentitiesOfCasesClosedLongAgo(t *testing.T) {
	s, db, _ := newServer(t)
	closed := register(t, s, marker)
	other := &caseregistryv1.Identity{GivenName: "Open", FamilyName: "Case", DateOfBirth: "2001-01-01"}
	open := register(t, s, other)
	if _, err := s.CloseCase(as(police, ""), &caseregistryv1.CloseCaseRequest{Id: closed.GetId(), Reason: caseregistryv1.ClosureReason_CLOSURE_REASON_REINTEGRATED}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n, err := s.EraseExpired(ctx, 10); err != nil || n != 0 {
		t.Fatalf("within retention: erased %d, %v", n, err)
	}
	s.now = func() time.Time { return time.Now().AddDate(10, 1, 0) }
	if n, err := s.EraseExpired(ctx, 10); err != nil || n != 1 {
		t.Fatalf("after retention: erased %d, %v", n, err)
	}
	if n, err := s.EraseExpired(ctx, 10); err != nil || n != 0 {
		t.Fatalf("a second sweep: erased %d, %v", n, err)
	}
	if es := s.trail.(*trail).entries; len(es) != 1 || es[0].ObjectIDs[0] != closed.GetId() || es[0].Outcome != "OK" || es[0].Institution != "NRM" || es[0].Purpose != "erasure;ref=retention-10y" {
		t.Errorf("audit trail of the sweep: %+v", es)
	}
	if n := count(t, db, store.KeyCollection); n != 1 {
		t.Errorf("%d keys in the vault, want only the open case's", n)
	}
	for id, want := range map[string]caseregistryv1.IdentityView{
		closed.GetId(): caseregistryv1.IdentityView_IDENTITY_VIEW_ERASED,
		open.GetId():   caseregistryv1.IdentityView_IDENTITY_VIEW_VISIBLE,
	} {
		got, err := s.GetCase(as(secretariat, "case-management"), &caseregistryv1.GetCaseRequest{Id: id})
		if err != nil || got.GetCase().GetIdentityView() != want {
			t.Errorf("case %s: %v, %v; want %s", id, got.GetCase().GetIdentityView(), err, want)
		}
	}
	h, err := s.ListCaseHistory(as(secretariat, ""), &caseregistryv1.ListCaseHistoryRequest{Id: closed.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	last := h.GetEntries()[len(h.GetEntries())-1]
	if last.GetKind() != caseregistryv1.ChangeKind_CHANGE_KIND_IDENTITY_ERASED || last.GetInstitution() != "NRM" || last.GetNote() == "" {
		t.Errorf("history of the erasure: %v", last)
	}
}

func TestHousekeepingStopsWithItsContext(t *testing.T) {
	s, _, _ := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Housekeep(Housekeeping{RetentionYears: 10, Every: time.Hour})(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("housekeeping ended with %v", err)
	}
}

// A case the sweep cannot erase does not stop it: the others are erased, the failure is logged
// with the case id and counted, and the next round tries again.
func TestRetentionGoesOnPastACaseItCannotErase(t *testing.T) {
	s, db, _ := newServer(t)
	logs := &testenv.LogBuffer{}
	s.log = slog.New(slog.NewJSONHandler(logs, nil))
	var ids []string
	for i, name := range []string{"Ana", "Besa", "Drita"} {
		c := register(t, s, &caseregistryv1.Identity{GivenName: name, FamilyName: "Retention", DateOfBirth: fmt.Sprintf("200%d-01-01", i)})
		if _, err := s.CloseCase(as(police, ""), &caseregistryv1.CloseCaseRequest{Id: c.GetId(), Reason: caseregistryv1.ClosureReason_CLOSURE_REASON_REINTEGRATED}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.GetId())
	}
	// The failure: a revision of the first case that cannot be read, so no change of it commits.
	broken := store.RevisionID(ids[0], 3)
	if _, err := db.Collection(store.RevisionCollection).InsertOne(context.Background(), bson.D{{Key: "_id", Value: broken}, {Key: "case", Value: "not a case"}}); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return time.Now().AddDate(10, 1, 0) }
	s.housekeepOnce(context.Background(), Housekeeping{RetentionYears: 10})
	view := func(id string) caseregistryv1.IdentityView {
		c, err := s.store.Get(context.Background(), id)
		if err != nil {
			return caseregistryv1.IdentityView_IDENTITY_VIEW_UNSPECIFIED
		}
		if c.IdentityErasedAt != nil {
			return caseregistryv1.IdentityView_IDENTITY_VIEW_ERASED
		}
		return caseregistryv1.IdentityView_IDENTITY_VIEW_NONE
	}
	for _, id := range ids[1:] {
		if v := view(id); v != caseregistryv1.IdentityView_IDENTITY_VIEW_ERASED {
			t.Errorf("case %s after the round: %s, want erased", id, v)
		}
	}
	if n := testutil.ToFloat64(s.failures.WithLabelValues("retention")); n != 1 {
		t.Errorf("failures counted: %v, want 1", n)
	}
	if out := logs.String(); !strings.Contains(out, ids[0]) || !strings.Contains(out, "retention") {
		t.Errorf("the failure is not logged with its case id:\n%s", out)
	}

	// Repaired, the case is erased at the next round.
	if _, err := db.Collection(store.RevisionCollection).DeleteOne(context.Background(), bson.D{{Key: "_id", Value: broken}}); err != nil {
		t.Fatal(err)
	}
	s.housekeepOnce(context.Background(), Housekeeping{RetentionYears: 10})
	if v := view(ids[0]); v != caseregistryv1.IdentityView_IDENTITY_VIEW_ERASED {
		t.Errorf("the failed case at the next round: %s, want erased", v)
	}
	if n := testutil.ToFloat64(s.failures.WithLabelValues("retention")); n != 1 {
		t.Errorf("failures counted: %v, want still 1", n)
	}
}
