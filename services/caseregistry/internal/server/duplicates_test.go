package server

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
)

func registerPerson(t *testing.T, s *Server, id *caseregistryv1.Identity, confirm bool) (*caseregistryv1.Case, error) {
	t.Helper()
	req := request()
	req.Profile.AgeAtIdentification = nil
	req.Identity = id
	if confirm {
		req.ConfirmedDifferentPerson, req.DifferentPersonReason = true, "different mother's name, checked with the family"
	}
	// With a purpose, so that a refusal names the cases it matched.
	resp, err := s.RegisterCase(authz.WithPurpose(asCaller(), authz.Purpose{Code: "duplicate-check"}), req)
	return resp.GetCase(), err
}

func TestLikelyDuplicatesAreFoundAndRefused(t *testing.T) {
	s, _, _ := newServer(t)
	first, err := registerPerson(t, s, &caseregistryv1.Identity{GivenName: "Ëndrit", FamilyName: "Çela", DateOfBirth: "1999-01-02", DocumentNumber: "I12345678A"}, false)
	if err != nil {
		t.Fatal(err)
	}
	police := &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "o", Roles: []auth.Role{auth.RoleCaseworker}}
	for _, tt := range []struct {
		name  string
		id    *caseregistryv1.Identity
		match []caseregistryv1.DuplicateMatch
	}{
		{"same name written without diacritics", &caseregistryv1.Identity{GivenName: "endrit", FamilyName: "CELA", DateOfBirth: "1999-01-02"}, []caseregistryv1.DuplicateMatch{matchNameDOB}},
		{"names swapped", &caseregistryv1.Identity{GivenName: "Cela", FamilyName: "Endrit", DateOfBirth: "1999-01-02"}, []caseregistryv1.DuplicateMatch{matchNameDOB}},
		{"same document, spaced", &caseregistryv1.Identity{GivenName: "X", FamilyName: "Y", DocumentNumber: "i 1234-5678 a"}, []caseregistryv1.DuplicateMatch{matchDocument}},
		{"everything", &caseregistryv1.Identity{GivenName: "Endrit", FamilyName: "Cela", DateOfBirth: "1999-01-02", DocumentNumber: "I12345678A"}, []caseregistryv1.DuplicateMatch{matchNameDOB, matchDocument}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			found, err := s.FindPossibleDuplicates(as(police, "case-management"), &caseregistryv1.FindPossibleDuplicatesRequest{Identity: tt.id})
			if err != nil {
				t.Fatal(err)
			}
			ds := found.GetDuplicates()
			if len(ds) != 1 || ds[0].GetCaseId() != first.GetId() || ds[0].GetCaseCode() != first.GetCode() || len(ds[0].GetMatchedOn()) != len(tt.match) {
				t.Fatalf("found %v, want %s matched on %v", ds, first.GetCode(), tt.match)
			}
			_, err = registerPerson(t, s, tt.id, false)
			if status.Code(err) != codes.AlreadyExists {
				t.Fatalf("registering the likely duplicate: %v, want AlreadyExists", err)
			}
			var info *errdetails.ErrorInfo
			for _, d := range status.Convert(err).Details() {
				if e, ok := d.(*errdetails.ErrorInfo); ok {
					info = e
				}
			}
			if info == nil || info.GetReason() != "POSSIBLE_DUPLICATE" || info.GetMetadata()["case_codes"] != first.GetCode() {
				t.Errorf("details %v, want POSSIBLE_DUPLICATE naming %s", info, first.GetCode())
			}
		})
	}
	// Another person: another birth date, another document.
	found, err := s.FindPossibleDuplicates(as(police, "case-management"), &caseregistryv1.FindPossibleDuplicatesRequest{
		Identity: &caseregistryv1.Identity{GivenName: "Endrit", FamilyName: "Cela", DateOfBirth: "1999-01-03"}})
	if err != nil || len(found.GetDuplicates()) != 0 {
		t.Errorf("a different birth date matched: %v %v", found, err)
	}
	// Confirmed as someone else: registered.
	if _, err := registerPerson(t, s, &caseregistryv1.Identity{GivenName: "Endrit", FamilyName: "Cela", DateOfBirth: "1999-01-02"}, true); err != nil {
		t.Errorf("a confirmed different person was refused: %v", err)
	}
	if _, err := s.FindPossibleDuplicates(as(police, "case-management"), &caseregistryv1.FindPossibleDuplicatesRequest{
		Identity: &caseregistryv1.Identity{GivenName: "Endrit"}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a search by a name alone: %v, want InvalidArgument", err)
	}
}

func TestErasedIdentitiesAreNoLongerFound(t *testing.T) {
	s, _, _ := newServer(t)
	person := &caseregistryv1.Identity{GivenName: "Mira", FamilyName: "Doda", DateOfBirth: "2001-07-08"}
	c, err := registerPerson(t, s, person, false)
	if err != nil {
		t.Fatal(err)
	}
	secretariat := &auth.Principal{Institution: "MB-SEKRETARIATI", Subject: "x", Roles: []auth.Role{auth.RoleSecretariat}}
	if _, err := s.EraseIdentity(as(secretariat, ""), &caseregistryv1.EraseIdentityRequest{Id: c.GetId(), Reason: "retention"}); err != nil {
		t.Fatal(err)
	}
	found, err := s.FindPossibleDuplicates(as(secretariat, "case-management"), &caseregistryv1.FindPossibleDuplicatesRequest{Identity: person})
	if err != nil || len(found.GetDuplicates()) != 0 {
		t.Errorf("an erased identity is still found: %v %v", found, err)
	}
	if _, err := registerPerson(t, s, person, false); err != nil {
		t.Errorf("registering the person again after erasure: %v", err)
	}
}
