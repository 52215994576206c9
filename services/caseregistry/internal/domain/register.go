package domain

import (
	"fmt"
	"regexp"
	"time"
	_ "time/tzdata" // Europe/Tirane must resolve in minimal containers too.
	"unicode/utf8"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// Limits of a registration.
const (
	MaxAge             = 120
	MaxCitizenships    = 5
	MaxInstitutionCode = 32
	EarliestDate       = "1990-01-01"
	dateLayout         = "2006-01-02"
)

var institutionCode = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)

// InstitutionCode reports whether s has the shape of an institution code.
func InstitutionCode(s string) bool { return institutionCode.MatchString(s) }

// Tirana is the time zone that decides which calendar day "today" is.
var Tirana = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Tirane")
	if err != nil {
		panic(err) // time/tzdata is linked in above; this cannot happen.
	}
	return loc
}()

// Today returns the calendar date in Tirana at instant now, as YYYY-MM-DD.
func Today(now time.Time) string { return now.In(Tirana).Format(dateLayout) }

// NewRegistration validates a registration request and returns the case it describes, without
// id, version or timestamps, and the identity it carries (nil when none). today (YYYY-MM-DD) bounds the identification date. Every problem
// found is reported, each with its field path, in one InvalidArgument error.
func NewRegistration(req *caseregistryv1.RegisterCaseRequest, today string) (Case, *Identity, error) {
	var v apierr.Violations
	c := Case{
		State:       caseregistryv1.CaseState_CASE_STATE_OPEN.String(),
		Trafficking: Trafficking{Status: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM.String()},
	}
	c.Profile = profile(&v, req.GetProfile())
	c.Trafficking.ExploitationTypes = exploitationTypes(&v, req.GetTrafficking())
	c.Identification = identification(&v, req.GetIdentification(), today)
	id := identity(&v, req.GetIdentity(), c.Profile, c.Identification.Date, today)
	if err := v.Err(); err != nil {
		return Case{}, nil, err
	}
	return c, id, nil
}

func profile(v *apierr.Violations, p *caseregistryv1.Profile) Profile {
	if p == nil {
		v.Add("profile", "is required")
		return Profile{}
	}
	var out Profile
	switch _, known := caseregistryv1.Sex_name[int32(p.GetSex())]; {
	case p.GetSex() == caseregistryv1.Sex_SEX_UNSPECIFIED:
		v.Add("profile.sex", "is required: SEX_FEMALE, SEX_MALE or SEX_OTHER_OR_UNDISCLOSED")
	case !known:
		v.Add("profile.sex", "unknown value %d", p.GetSex())
	default:
		out.Sex = p.GetSex().String()
	}
	if p.AgeAtIdentification != nil {
		if age := p.GetAgeAtIdentification(); age < 0 || age > MaxAge {
			v.Add("profile.age_at_identification", "must be between 0 and %d, got %d", MaxAge, age)
		} else {
			out.AgeAtIdentification = &age
		}
	}
	cs := p.GetCitizenships()
	switch {
	case len(cs) == 0:
		v.Add("profile.citizenships", "at least one is required (XX when unknown, XS when stateless)")
	case len(cs) > MaxCitizenships:
		v.Add("profile.citizenships", "at most %d are accepted, got %d", MaxCitizenships, len(cs))
	default:
		seen := map[string]bool{}
		for i, c := range cs {
			field := fmt.Sprintf("profile.citizenships[%d]", i)
			switch {
			case !ValidCountry(c):
				v.Add(field, "%q is not an ISO 3166-1 alpha-2 country code (upper case, e.g. AL)", printable(c))
			case seen[c]:
				v.Add(field, "%q is repeated", c)
			default:
				seen[c] = true
				out.Citizenships = append(out.Citizenships, c)
			}
		}
	}
	return out
}

func exploitationTypes(v *apierr.Violations, t *caseregistryv1.Trafficking) []string {
	ts := t.GetExploitationTypes()
	if len(ts) == 0 {
		v.Add("trafficking.exploitation_types", "at least one is required (EXPLOITATION_TYPE_UNKNOWN when not known)")
		return nil
	}
	var out []string
	seen := map[caseregistryv1.ExploitationType]bool{}
	for i, e := range ts {
		field := fmt.Sprintf("trafficking.exploitation_types[%d]", i)
		_, known := caseregistryv1.ExploitationType_name[int32(e)]
		switch {
		case e == caseregistryv1.ExploitationType_EXPLOITATION_TYPE_UNSPECIFIED:
			v.Add(field, "must not be EXPLOITATION_TYPE_UNSPECIFIED")
		case !known:
			v.Add(field, "unknown value %d", e)
		case seen[e]:
			v.Add(field, "%s is repeated", e)
		default:
			seen[e] = true
			out = append(out, e.String())
		}
	}
	if seen[caseregistryv1.ExploitationType_EXPLOITATION_TYPE_UNKNOWN] && len(seen) > 1 {
		v.Add("trafficking.exploitation_types", "EXPLOITATION_TYPE_UNKNOWN cannot be combined with known types")
	}
	return out
}

func identification(v *apierr.Violations, id *caseregistryv1.Identification, today string) Identification {
	if id == nil {
		v.Add("identification", "is required")
		return Identification{}
	}
	var out Identification
	switch code := id.GetIdentifyingInstitution(); {
	case code == "":
		v.Add("identification.identifying_institution", "is required, e.g. ASP-ANTITRAF")
	case len(code) > MaxInstitutionCode || !institutionCode.MatchString(code):
		v.Add("identification.identifying_institution", "%q is not an institution code (upper-case letters, digits and single hyphens, at most %d characters)", printable(code), MaxInstitutionCode)
	default:
		out.IdentifyingInstitution = code
	}
	date := id.GetIdentificationDate()
	if err := CheckDate(date, today); err != nil {
		v.Add("identification.identification_date", "%s", err)
	} else {
		out.Date = date
	}
	return out
}

// CheckDate checks that s is a calendar date YYYY-MM-DD between EarliestDate and today.
func CheckDate(s, today string) error {
	if s == "" {
		return fmt.Errorf("is required, as YYYY-MM-DD")
	}
	if _, err := time.Parse(dateLayout, s); err != nil || len(s) != len(dateLayout) {
		return fmt.Errorf("%q is not a calendar date YYYY-MM-DD", printable(s))
	}
	if s < EarliestDate {
		return fmt.Errorf("%s is before %s", s, EarliestDate)
	}
	if s > today {
		return fmt.Errorf("%s is in the future (today is %s in Tirana)", s, today)
	}
	return nil
}

// printable shortens a caller's value and replaces invalid UTF-8 before it is quoted back in an
// error, so that an error never echoes a huge or malformed input.
func printable(s string) string {
	if !utf8.ValidString(s) {
		return "<invalid UTF-8>"
	}
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}
