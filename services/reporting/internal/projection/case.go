package projection

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Case is what the statistics know of one registered case: the pseudonymous attributes its
// event carries, and which event it was. It is also what the journal stores per counted event.
type Case struct {
	// AggregateID and AggregateVersion identify the event: each is counted once.
	AggregateID      string `bson:"aggregate_id"`
	AggregateVersion int64  `bson:"aggregate_version"`
	// Day is the identification date, YYYY-MM-DD: the bucket the case is counted in.
	Day string `bson:"day"`
	// Sex and AgeBand are enum names, e.g. "SEX_FEMALE", "AGE_BAND_CHILD".
	Sex     string `bson:"sex"`
	AgeBand string `bson:"age_band"`
	// ExploitationTypes are enum names; Citizenships ISO 3166 codes. A case counts once under
	// each distinct value.
	ExploitationTypes []string `bson:"exploitation_types"`
	Citizenships      []string `bson:"citizenships"`
	// IdentifyingInstitution is an institution code, e.g. "ASP-ANTITRAF".
	IdentifyingInstitution string `bson:"identifying_institution"`
	// OccurredAt is when the event happened; the newest one tells how fresh the statistics are.
	OccurredAt time.Time `bson:"occurred_at"`
}

// Marker names the event in the bucket's list of counted events: "<aggregate id>@<version>".
func (c Case) Marker() string {
	return c.AggregateID + "@" + strconv.FormatInt(c.AggregateVersion, 10)
}

// maxKeyLen bounds a counted value; real ones (enum names, ISO and institution codes) are short.
const maxKeyLen = 64

// Validate reports what makes c impossible to count. Values become field names of the bucket's
// count maps, so they must be usable as such on MongoDB and FerretDB: not empty, valid UTF-8,
// no '.', not starting with '$'.
func (c Case) Validate() error {
	var errs []error
	if c.AggregateID == "" {
		errs = append(errs, errors.New("aggregate id is missing"))
	}
	if c.AggregateVersion <= 0 {
		errs = append(errs, fmt.Errorf("aggregate version %d is not positive", c.AggregateVersion))
	}
	if !ValidDay(c.Day) {
		errs = append(errs, fmt.Errorf("identification_date %q is not a date YYYY-MM-DD", c.Day))
	}
	check := func(field, v string) {
		if err := checkKey(v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", field, v, err))
		}
	}
	check("sex", c.Sex)
	check("age_band", c.AgeBand)
	check("identifying_institution", c.IdentifyingInstitution)
	for _, v := range c.ExploitationTypes {
		check("exploitation_types", v)
	}
	for _, v := range c.Citizenships {
		check("citizenships", v)
	}
	return errors.Join(errs...)
}

func checkKey(v string) error {
	switch {
	case v == "":
		return errors.New("is empty")
	case len(v) > maxKeyLen:
		return fmt.Errorf("is longer than %d bytes", maxKeyLen)
	case !utf8.ValidString(v):
		return errors.New("is not valid UTF-8")
	case strings.ContainsAny(v, ".\x00"), strings.HasPrefix(v, "$"):
		return errors.New("contains '.' or NUL, or starts with '$'")
	}
	return nil
}
