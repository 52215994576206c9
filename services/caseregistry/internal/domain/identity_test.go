package domain

import (
	"strings"
	"testing"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
)

func withIdentity(id *caseregistryv1.Identity) *caseregistryv1.RegisterCaseRequest {
	r := validRequest() // 17 on 2026-10-02
	r.Identity = id
	return r
}

func TestIdentityRules(t *testing.T) {
	ok := func() *caseregistryv1.Identity {
		return &caseregistryv1.Identity{GivenName: "Ëndrit", FamilyName: "Çela", DateOfBirth: "2009-05-01",
			DocumentNumber: "AB 123-456", Notes: "first line\nsecond line"}
	}
	tests := []struct {
		name   string
		change func(*caseregistryv1.Identity)
		fields []string
	}{
		{"valid", func(*caseregistryv1.Identity) {}, nil},
		{"family name only", func(i *caseregistryv1.Identity) { i.GivenName = "" }, nil},
		{"no names", func(i *caseregistryv1.Identity) { i.GivenName, i.FamilyName = "", "" }, []string{"identity"}},
		{"name too long", func(i *caseregistryv1.Identity) { i.GivenName = strings.Repeat("a", 101) }, []string{"identity.given_name"}},
		{"name with a newline", func(i *caseregistryv1.Identity) { i.FamilyName = "a\nb" }, []string{"identity.family_name"}},
		{"name not UTF-8", func(i *caseregistryv1.Identity) { i.GivenName = "a\xff" }, []string{"identity.given_name"}},
		{"notes too long", func(i *caseregistryv1.Identity) { i.Notes = strings.Repeat("n", 4001) }, []string{"identity.notes"}},
		{"notes with NUL", func(i *caseregistryv1.Identity) { i.Notes = "a\x00b" }, []string{"identity.notes"}},
		{"document with symbols", func(i *caseregistryv1.Identity) { i.DocumentNumber = "AB/12" }, []string{"identity.document_number"}},
		{"birth not a date", func(i *caseregistryv1.Identity) { i.DateOfBirth = "01.05.2009" }, []string{"identity.date_of_birth"}},
		{"birth in the future", func(i *caseregistryv1.Identity) { i.DateOfBirth = "2027-01-01" }, []string{"identity.date_of_birth"}},
		{"born after identification", func(i *caseregistryv1.Identity) { i.DateOfBirth = "2026-11-01" }, []string{"identity.date_of_birth"}},
		{"birth disagrees with the age", func(i *caseregistryv1.Identity) { i.DateOfBirth = "2000-01-01" }, []string{"identity.date_of_birth"}},
		{"contact details", func(i *caseregistryv1.Identity) { i.ContactDetails = "+355 69 123 4567, a@example.org" }, nil},
		{"contact details of 500 characters", func(i *caseregistryv1.Identity) { i.ContactDetails = strings.Repeat("ç", 500) }, nil},
		{"contact details too long", func(i *caseregistryv1.Identity) { i.ContactDetails = strings.Repeat("ç", 501) }, []string{"identity.contact_details"}},
		{"contact details on two lines", func(i *caseregistryv1.Identity) { i.ContactDetails = "+355 69 123 4567\na@example.org" }, []string{"identity.contact_details"}},
		{"contact details not UTF-8", func(i *caseregistryv1.Identity) { i.ContactDetails = "+355\xff" }, []string{"identity.contact_details"}},
		{"address on two lines", func(i *caseregistryv1.Identity) { i.Address = "Rruga e Durrësit 12\nTiranë" }, nil},
		{"address too long", func(i *caseregistryv1.Identity) { i.Address = strings.Repeat("a", 501) }, []string{"identity.address"}},
		{"address with NUL", func(i *caseregistryv1.Identity) { i.Address = "Rruga\x00 12" }, []string{"identity.address"}},
		{"address not UTF-8", func(i *caseregistryv1.Identity) { i.Address = "Rruga\xff" }, []string{"identity.address"}},
		{"family contacts on lines", func(i *caseregistryv1.Identity) { i.FamilyContacts = "mother\t+355 68 000\nuncle" }, nil},
		{"family contacts of 1000 characters", func(i *caseregistryv1.Identity) { i.FamilyContacts = strings.Repeat("f", 1000) }, nil},
		{"family contacts too long", func(i *caseregistryv1.Identity) { i.FamilyContacts = strings.Repeat("f", 1001) }, []string{"identity.family_contacts"}},
		{"family contacts with escape", func(i *caseregistryv1.Identity) { i.FamilyContacts = "a\x1bb" }, []string{"identity.family_contacts"}},
		{"family contacts not UTF-8", func(i *caseregistryv1.Identity) { i.FamilyContacts = "\xc3" }, []string{"identity.family_contacts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := ok()
			tt.change(id)
			_, got, err := NewRegistration(withIdentity(id), today)
			if tt.fields == nil {
				if err != nil || got == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if v := violations(t, err); strings.Join(v, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("violations %v, want %v", v, tt.fields)
			}
			// The values are personal data: an error never quotes them.
			for _, secret := range []string{id.GetGivenName(), id.GetFamilyName(), id.GetDocumentNumber(), id.GetDateOfBirth(),
				id.GetContactDetails(), id.GetAddress(), id.GetFamilyContacts()} {
				if len(secret) > 3 && strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes %q: %v", secret, err)
				}
			}
		})
	}
}

func TestAgeOn(t *testing.T) {
	for _, tt := range []struct {
		dob, date string
		want      int
	}{
		{"2009-05-01", "2026-10-02", 17},
		{"2009-10-02", "2026-10-02", 17},
		{"2009-10-03", "2026-10-02", 16},
		{"2008-02-29", "2026-02-28", 17},
		{"2008-02-29", "2026-03-01", 18},
	} {
		if got := AgeOn(tt.dob, tt.date); got != tt.want {
			t.Errorf("AgeOn(%s, %s) = %d, want %d", tt.dob, tt.date, got, tt.want)
		}
	}
}
