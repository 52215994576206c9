package domain

import (
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// Limits of the identity heading.
const (
	MaxNameRunes     = 100
	MaxNotesRunes    = 4000
	MaxDocumentBytes = 40
	MaxContactRunes  = 500
	MaxAddressRunes  = 500
	MaxFamilyRunes   = 1000
	EarliestBirth    = "1900-01-01"
)

// Identity is the identity heading in clear. It exists only in memory: the store keeps it
// sealed. Its fields are never logged, never put in an event, and never quoted in an error.
type Identity struct {
	GivenName, FamilyName, DateOfBirth, DocumentNumber, Notes string
	ContactDetails, Address, FamilyContacts                   string
}

// Fields lists the identity's fields by name, the names under which they are sealed.
func (i Identity) Fields() map[string]string {
	return map[string]string{
		"given_name": i.GivenName, "family_name": i.FamilyName, "date_of_birth": i.DateOfBirth,
		"document_number": i.DocumentNumber, "notes": i.Notes, "contact_details": i.ContactDetails,
		"address": i.Address, "family_contacts": i.FamilyContacts,
	}
}

// IdentityFrom is the inverse of Fields.
func IdentityFrom(f map[string]string) Identity {
	return Identity{GivenName: f["given_name"], FamilyName: f["family_name"], DateOfBirth: f["date_of_birth"],
		DocumentNumber: f["document_number"], Notes: f["notes"], ContactDetails: f["contact_details"],
		Address: f["address"], FamilyContacts: f["family_contacts"]}
}

var documentNumber = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 -]*$`)

// identity validates the identity heading of a registration or an update. The messages describe
// the rule broken, never the value: the values are personal data, and errors reach logs.
func identity(v *apierr.Violations, id *caseregistryv1.Identity, p Profile, identified, today string) *Identity {
	if id == nil {
		return nil
	}
	out := &Identity{
		GivenName: id.GetGivenName(), FamilyName: id.GetFamilyName(), DateOfBirth: id.GetDateOfBirth(),
		DocumentNumber: id.GetDocumentNumber(), Notes: id.GetNotes(), ContactDetails: id.GetContactDetails(),
		Address: id.GetAddress(), FamilyContacts: id.GetFamilyContacts(),
	}
	text := func(field, s string, maxRunes int, multiline bool) {
		if s != "" {
			checkText(v, field, s, maxRunes, multiline)
		}
	}
	text("identity.given_name", out.GivenName, MaxNameRunes, false)
	text("identity.family_name", out.FamilyName, MaxNameRunes, false)
	if out.GivenName == "" && out.FamilyName == "" {
		v.Add("identity", "a given or a family name is required when an identity is recorded")
	}
	text("identity.notes", out.Notes, MaxNotesRunes, true)
	text("identity.contact_details", out.ContactDetails, MaxContactRunes, false)
	text("identity.address", out.Address, MaxAddressRunes, true)
	text("identity.family_contacts", out.FamilyContacts, MaxFamilyRunes, true)
	if d := out.DocumentNumber; d != "" && (len(d) > MaxDocumentBytes || !documentNumber.MatchString(d)) {
		v.Add("identity.document_number", "must be letters, digits, spaces and hyphens, at most %d characters", MaxDocumentBytes)
	}
	if dob := out.DateOfBirth; dob != "" {
		switch _, err := time.Parse(dateLayout, dob); {
		case err != nil || len(dob) != len(dateLayout):
			v.Add("identity.date_of_birth", "is not a calendar date YYYY-MM-DD")
		case dob < EarliestBirth || dob > today:
			v.Add("identity.date_of_birth", "must be between %s and today", EarliestBirth)
		case identified != "" && dob > identified:
			v.Add("identity.date_of_birth", "is after the identification date")
		case p.AgeAtIdentification != nil && identified != "" && AgeOn(dob, identified) != int(*p.AgeAtIdentification):
			v.Add("identity.date_of_birth", "does not agree with profile.age_at_identification on the identification date")
		}
	}
	return out
}

// AgeOn is the age in whole years on date of a person born on dob (both YYYY-MM-DD, valid).
func AgeOn(dob, date string) int {
	b, _ := time.Parse(dateLayout, dob)
	d, _ := time.Parse(dateLayout, date)
	age := d.Year() - b.Year()
	if d.Month() < b.Month() || (d.Month() == b.Month() && d.Day() < b.Day()) {
		age-- // no birthday yet that year
	}
	return age
}

// checkText checks free text: valid UTF-8, no control characters (newlines and tabs allowed in
// multi-line text), bounded length.
func checkText(v *apierr.Violations, field, s string, maxRunes int, multiline bool) {
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > maxRunes:
		v.Add(field, "must be at most %d characters", maxRunes)
	default:
		for _, r := range s {
			if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
				v.Add(field, "must not contain control characters")
				return
			}
		}
	}
}
