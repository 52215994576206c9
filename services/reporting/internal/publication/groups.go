// Package publication builds the Authority's publications from the cases' facts: the Eurostat
// crim_thb tables, SDG indicator 16.2.2 and the anonymised case-level file. It does no I/O; the
// disclosure package decides what of them may leave the Authority.
package publication

import (
	"slices"

	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// Registered reports whether a case counts as a registered victim: a victim or a potential
// victim. Eurostat's crim_thb counts "identified and presumed" victims as registered, and most of
// the Authority's cases stay potential victims for months, so leaving them out would publish a
// fraction of the year; a decision that the person is not a victim takes the case out.
func Registered(f projection.Facts) bool {
	return f.Status == "TRAFFICKING_STATUS_VICTIM" || f.Status == "TRAFFICKING_STATUS_POTENTIAL_VICTIM"
}

// Groups of the publications, as labels.
const (
	Unknown = "UNKNOWN"
	Child   = "CHILD"
	Adult   = "ADULT"
	Female  = "FEMALE"
	Male    = "MALE"
	Albania = "AL"
	EU      = "EU"
	NonEU   = "NON_EU"
)

// Sexes, AgeGroups and CitizenshipGroups are the rows or columns of the tables, in order.
var (
	Sexes             = []string{Female, Male, Unknown}
	AgeGroups         = []string{Child, Adult, Unknown}
	CitizenshipGroups = []string{Albania, EU, NonEU, Unknown}
)

// Sex is Eurostat's sex of a case: female, male, or unknown (also for "other or undisclosed",
// which Eurostat does not break down).
func Sex(f projection.Facts) string {
	switch f.Sex {
	case "SEX_FEMALE":
		return Female
	case "SEX_MALE":
		return Male
	}
	return Unknown
}

// AgeGroup is the age group at identification: a child is under 18.
func AgeGroup(f projection.Facts) string {
	switch f.AgeBand {
	case "AGE_BAND_CHILD":
		return Child
	case "AGE_BAND_ADULT":
		return Adult
	}
	return Unknown
}

// EUMembers are the ISO 3166 codes of the member states of the European Union (27 since
// 1 February 2020). A change of membership is a change here, dated in the commit.
var EUMembers = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
	"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}

// CitizenshipGroup is Eurostat's citizenship group for Albania as the reporting country: AL for
// any Albanian citizen (a dual citizen is a national), else EU when a citizenship is of a member
// state, else NON_EU when one is known, else UNKNOWN.
func CitizenshipGroup(f projection.Facts) string {
	switch {
	case slices.Contains(f.Citizenships, "AL"):
		return Albania
	case slices.ContainsFunc(f.Citizenships, func(c string) bool { return slices.Contains(EUMembers, c) }):
		return EU
	case len(f.Citizenships) > 0:
		return NonEU
	}
	return Unknown
}

// ExploitationForms are the cases' forms of exploitation, each once; a case without one is
// EXPLOITATION_TYPE_UNKNOWN.
func ExploitationForms(f projection.Facts) []string {
	if len(f.ExploitationTypes) == 0 {
		return []string{"EXPLOITATION_TYPE_UNKNOWN"}
	}
	forms := slices.Clone(f.ExploitationTypes)
	slices.Sort(forms)
	return slices.Compact(forms)
}
