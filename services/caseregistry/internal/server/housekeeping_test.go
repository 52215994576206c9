package server

import (
	"context"
	"testing"
	"time"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
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
