package store

import (
	"context"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
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

// The mechanism of revisions (commits, conflicts, roll-forward, history) is the platform's and is
// tested there (services/platform/aggregate); what is the registry's own is tested here.

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
