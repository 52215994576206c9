package projection

import (
	"errors"
	"fmt"
	"slices"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Facts are what the statistics count of one case at one version: its pseudonymous attributes,
// never anything that identifies the person. Enumerations are their names (e.g. "SEX_FEMALE"),
// so that a value added to a proto later is still counted, under its number, rather than lost.
type Facts struct {
	// Day is the identification date, YYYY-MM-DD: the bucket the case counts in.
	Day     string `bson:"day"`
	Sex     string `bson:"sex"`
	AgeBand string `bson:"age_band"`
	// ExploitationTypes are enum names; Citizenships ISO 3166 codes. A case counts once under
	// each distinct value.
	ExploitationTypes []string `bson:"exploitation_types"`
	Citizenships      []string `bson:"citizenships"`
	// Status is the trafficking status, e.g. "TRAFFICKING_STATUS_VICTIM".
	Status string `bson:"status"`
	// State is the case state, e.g. "CASE_STATE_CLOSED".
	State string `bson:"state"`
	// IdentifyingInstitution is an institution code, e.g. "ASP-ANTITRAF".
	IdentifyingInstitution string `bson:"identifying_institution"`
	// Prefecture is the prefecture of residence, Scope internal or transnational trafficking.
	Prefecture string `bson:"prefecture"`
	Scope      string `bson:"scope"`
}

// equal reports whether f and o count the same everywhere. A nil list and an empty one are
// equal: the store does not tell them apart.
func (f Facts) equal(o Facts) bool {
	return f.Day == o.Day && f.Sex == o.Sex && f.AgeBand == o.AgeBand && f.Status == o.Status &&
		f.State == o.State && f.IdentifyingInstitution == o.IdentifyingInstitution &&
		f.Prefecture == o.Prefecture && f.Scope == o.Scope &&
		slices.Equal(f.ExploitationTypes, o.ExploitationTypes) && slices.Equal(f.Citizenships, o.Citizenships)
}

// Validate reports what makes f impossible to count. Values become keys of the buckets' figures,
// so they must be usable as field names on MongoDB and FerretDB (tally.CheckKey).
func (f Facts) Validate() error {
	var errs []error
	if !ValidDay(f.Day) {
		errs = append(errs, fmt.Errorf("identification_date %q is not a date YYYY-MM-DD", f.Day))
	}
	check := func(field, v string) {
		if err := tally.CheckKey(v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", field, v, err))
		}
	}
	check("sex", f.Sex)
	check("age_band", f.AgeBand)
	check("status", f.Status)
	check("state", f.State)
	check("identifying_institution", f.IdentifyingInstitution)
	check("prefecture", f.Prefecture)
	check("scope", f.Scope)
	for _, v := range f.ExploitationTypes {
		check("exploitation_types", v)
	}
	for _, v := range f.Citizenships {
		check("citizenships", v)
	}
	return errors.Join(errs...)
}
