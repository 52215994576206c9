package domain

import (
	"fmt"
	"slices"

	"golang.org/x/text/language"
	"google.golang.org/protobuf/reflect/protoreflect"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// Limits of the headings.
const (
	MaxPlaceRunes = 100
	MaxCountries  = 10
)

// validateHeadings checks the four headings of a case as a whole, the same way for a
// registration and for the result of an update, so that no change can store a case that
// registration would refuse. It returns the headings as stored; the trafficking status and its
// decisions are output only and left for the caller to set. Violations carry field paths such
// as "profile.citizenships[1]".
func validateHeadings(v *apierr.Violations, profile *caseregistryv1.Profile, tr *caseregistryv1.Trafficking,
	idf *caseregistryv1.Identification, id *caseregistryv1.Identity, today string) (Profile, Trafficking, Identification, *Identity) {
	// The trafficking heading needs the identification date, but violations are reported in the
	// order of the headings.
	var iv apierr.Violations
	outIdf := identification(&iv, idf, today)
	outProfile := validateProfile(v, profile)
	outTr := validateTrafficking(v, tr, outIdf.Date, today)
	*v = append(*v, iv...)
	outID := identity(v, id, outProfile, outIdf.Date, today)
	return outProfile, outTr, outIdf, outID
}

func validateProfile(v *apierr.Violations, p *caseregistryv1.Profile) Profile {
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
		out.Citizenships = countries(v, "profile.citizenships", cs)
	}
	if m := p.GetResidenceMunicipality(); m != "" {
		checkText(v, "profile.residence_municipality", m, MaxPlaceRunes, false)
		out.ResidenceMunicipality = m
	}
	out.ResidencePrefecture = optionalEnum(v, "profile.residence_prefecture", p.GetResidencePrefecture())
	if l := p.GetPrimaryLanguage(); l != "" {
		if !languageCode(l) {
			v.Add("profile.primary_language", "%q is not an ISO 639-1 language code (two lower-case letters, e.g. sq)", printable(l))
		} else {
			out.PrimaryLanguage = l
		}
	}
	out.EducationLevel = optionalEnum(v, "profile.education_level", p.GetEducationLevel())
	return out
}

// languageCode reports whether s is a two-letter ISO 639-1 code that x/text knows. Three-letter
// codes are refused even where they have a two-letter equivalent, so that one language is
// always stored one way and statistics group it.
func languageCode(s string) bool {
	if len(s) != 2 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' {
		return false
	}
	b, err := language.ParseBase(s)
	return err == nil && b.String() == s
}

func validateTrafficking(v *apierr.Violations, t *caseregistryv1.Trafficking, identified, today string) Trafficking {
	var out Trafficking
	out.ExploitationTypes = exploitationTypes(v, t.GetExploitationTypes())
	out.Scope = optionalEnum(v, "trafficking.scope", t.GetScope())
	before := len(*v)
	out.RecruitmentCountries = countryList(v, "trafficking.recruitment_countries", t.GetRecruitmentCountries())
	out.ExploitationCountries = countryList(v, "trafficking.exploitation_countries", t.GetExploitationCountries())
	countriesValid := len(*v) == before
	out.RecruitmentMethod = optionalEnum(v, "trafficking.recruitment_method", t.GetRecruitmentMethod())
	out.MeansOfControl = enumList(v, "trafficking.means_of_control", t.GetMeansOfControl())
	out.RecruiterRelation = optionalEnum(v, "trafficking.recruiter_relation", t.GetRecruiterRelation())
	if p := t.GetExploitationPeriod(); p != nil {
		out.ExploitationPeriod = period(v, "trafficking.exploitation_period", p, identified, today)
	}
	if countriesValid { // a scope is only compared with countries that were all understood
		checkScope(v, t.GetScope(), out.RecruitmentCountries, out.ExploitationCountries)
	}
	return out
}

func exploitationTypes(v *apierr.Violations, ts []caseregistryv1.ExploitationType) []string {
	if len(ts) == 0 {
		v.Add("trafficking.exploitation_types", "at least one is required (EXPLOITATION_TYPE_UNKNOWN when not known)")
		return nil
	}
	out := enumList(v, "trafficking.exploitation_types", ts)
	unknown := caseregistryv1.ExploitationType_EXPLOITATION_TYPE_UNKNOWN.String()
	if len(out) > 1 && slices.Contains(out, unknown) {
		v.Add("trafficking.exploitation_types", "EXPLOITATION_TYPE_UNKNOWN cannot be combined with known types")
	}
	return out
}

// checkScope keeps the scope and the countries from contradicting each other: an internal case
// happens in one country, a transnational one in at least two.
func checkScope(v *apierr.Violations, scope caseregistryv1.TraffickingScope, recruitment, exploitation []string) {
	distinct := map[string]bool{}
	for _, c := range append(append([]string(nil), recruitment...), exploitation...) {
		distinct[c] = true
	}
	switch {
	case scope == caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_INTERNAL && len(distinct) > 1:
		v.Add("trafficking.scope", "TRAFFICKING_SCOPE_INTERNAL contradicts the %d different countries of recruitment and exploitation", len(distinct))
	case scope == caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_TRANSNATIONAL && len(distinct) == 1:
		v.Add("trafficking.scope", "TRAFFICKING_SCOPE_TRANSNATIONAL contradicts recruitment and exploitation in one and the same country")
	}
}

// period checks a period that was given: its start is required, neither end is in the future,
// and the exploitation cannot start after the person was identified.
func period(v *apierr.Violations, field string, p *caseregistryv1.DatePeriod, identified, today string) *Period {
	out := &Period{}
	ok := true
	start, end := p.GetStartDate(), p.GetEndDate()
	switch err := CheckDate(start, today); {
	case err != nil:
		v.Add(field+".start_date", "%s", err)
		ok = false
	case identified != "" && start > identified:
		v.Add(field+".start_date", "%s is after the identification date %s", start, identified)
		ok = false
	default:
		out.Start = start
	}
	if end != "" {
		switch err := CheckDate(end, today); {
		case err != nil:
			v.Add(field+".end_date", "%s", err)
			ok = false
		case out.Start != "" && end < out.Start:
			v.Add(field+".end_date", "%s is before the start date %s", end, out.Start)
			ok = false
		default:
			out.End = end
		}
	}
	if !ok {
		return nil
	}
	return out
}

func identification(v *apierr.Violations, id *caseregistryv1.Identification, today string) Identification {
	if id == nil {
		v.Add("identification", "is required")
		return Identification{}
	}
	var out Identification
	if code := id.GetIdentifyingInstitution(); code == "" {
		v.Add("identification.identifying_institution", "is required, e.g. ASP-ANTITRAF")
	} else if checkInstitution(v, "identification.identifying_institution", code) {
		out.IdentifyingInstitution = code
	}
	date := id.GetIdentificationDate()
	if err := CheckDate(date, today); err != nil {
		v.Add("identification.identification_date", "%s", err)
	} else {
		out.Date = date
	}
	if code := id.GetReferringInstitution(); code != "" && checkInstitution(v, "identification.referring_institution", code) {
		out.ReferringInstitution = code
	}
	if place := id.GetPlace(); place != "" {
		checkText(v, "identification.place", place, MaxPlaceRunes, false)
		out.Place = place
	}
	out.Channel = optionalEnum(v, "identification.channel", id.GetChannel())
	return out
}

// checkInstitution reports whether code has the shape of an institution code, and a violation
// when it has not.
func checkInstitution(v *apierr.Violations, field, code string) bool {
	if len(code) > MaxInstitutionCode || !institutionCode.MatchString(code) {
		v.Add(field, "%q is not an institution code (upper-case letters, digits and single hyphens, at most %d characters)", printable(code), MaxInstitutionCode)
		return false
	}
	return true
}

// countryList checks an optional list of countries, bounded in length.
func countryList(v *apierr.Violations, field string, cs []string) []string {
	if len(cs) > MaxCountries {
		v.Add(field, "at most %d are accepted, got %d", MaxCountries, len(cs))
		return nil
	}
	return countries(v, field, cs)
}

// countries checks each code of a list of countries and refuses repeats.
func countries(v *apierr.Violations, field string, cs []string) []string {
	var out []string
	seen := map[string]bool{}
	for i, c := range cs {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !ValidCountry(c):
			v.Add(f, "%q is not an ISO 3166-1 alpha-2 country code (upper case, e.g. AL)", printable(c))
		case seen[c]:
			v.Add(f, "%q is repeated", c)
		default:
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// optionalEnum returns the name under which an optional enumeration is stored: "" for its zero
// value (not recorded). A number the proto does not define is refused rather than stored, since
// it could not be stored by name.
func optionalEnum(v *apierr.Violations, field string, e protoreflect.Enum) string {
	name := enumName(e)
	if name == "" && e.Number() != 0 {
		v.Add(field, "unknown value %d", e.Number())
	}
	return name
}

// requiredEnum returns the stored name of an enumeration that must be given: its zero value and
// numbers the proto does not define are refused.
func requiredEnum(v *apierr.Violations, field string, e protoreflect.Enum) string {
	name := enumName(e)
	switch {
	case e.Number() == 0:
		v.Add(field, "is required")
	case name == "":
		v.Add(field, "unknown value %d", e.Number())
	}
	return name
}

// enumName is the name under which an enumeration value is stored: "" for its zero value and for
// a number the proto does not define.
func enumName(e protoreflect.Enum) string {
	if e.Number() == 0 {
		return ""
	}
	if ev := e.Descriptor().Values().ByNumber(e.Number()); ev != nil {
		return string(ev.Name())
	}
	return ""
}

// enumList checks a repeated enumeration: every element a defined, non-zero value, none
// repeated. It returns the names of the valid ones.
func enumList[E interface {
	~int32
	protoreflect.Enum
}](v *apierr.Violations, field string, es []E) []string {
	var out []string
	seen := map[E]bool{}
	for i, e := range es {
		f := fmt.Sprintf("%s[%d]", field, i)
		ev := e.Descriptor().Values().ByNumber(e.Number())
		switch {
		case e == 0:
			v.Add(f, "must not be %s", e.Descriptor().Values().ByNumber(0).Name())
		case ev == nil:
			v.Add(f, "unknown value %d", e.Number())
		case seen[e]:
			v.Add(f, "%s is repeated", ev.Name())
		default:
			seen[e] = true
			out = append(out, string(ev.Name()))
		}
	}
	return out
}
