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
// id, version or timestamps, and the identity it carries (nil when none). today (YYYY-MM-DD)
// bounds every date. Every problem found is reported, each with its field path, in one
// InvalidArgument error. The trafficking status is output only: a case always starts as a
// potential victim, whatever the request says.
func NewRegistration(req *caseregistryv1.RegisterCaseRequest, today string) (Case, *Identity, error) {
	var v apierr.Violations
	p, tr, idf, id := validateHeadings(&v, req.GetProfile(), req.GetTrafficking(), req.GetIdentification(), req.GetIdentity(), today)
	if err := v.Err(); err != nil {
		return Case{}, nil, err
	}
	tr.Status = statusPV
	return Case{
		State:          stateOpen,
		Profile:        p,
		Trafficking:    tr,
		Identification: idf,
	}, id, nil
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
