// Package datasets keeps the data reported by members (point 10 of the Joint Instruction): each
// member's monthly form, DHIS2-style, and its submissions for each month, both aggregates with a
// history of who changed what and when (services/platform/aggregate).
package datasets

import (
	"fmt"
	"regexp"
	"time"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// CrossCheck names a registry figure an element is compared with.
type CrossCheck string

// CasesIdentified is the number of cases identified during the month whose identifying
// institution is the member: what a front-line institution's "potential victims identified"
// should match if every case it identified was registered.
const CasesIdentified CrossCheck = "CASES_IDENTIFIED"

// Part is one part of an element's breakdown.
type Part struct {
	Code string `bson:"code"`
	Name string `bson:"name"`
}

// Element is one figure of a form.
type Element struct {
	Code  string `bson:"code"`
	Name  string `bson:"name"`
	Parts []Part `bson:"parts,omitempty"`
	// CrossCheck is "" when the registry holds no comparable figure.
	CrossCheck CrossCheck `bson:"cross_check,omitempty"`
}

// DataSet is a member's form; its id is the member's code.
type DataSet struct {
	Member    string    `bson:"_id"`
	Version   int64     `bson:"version"`
	UpdatedAt time.Time `bson:"updated_at"`
	// UpdatedBy is the institution that made the version: a form is the Authority's, and who
	// changed it is shown with it, not only in its history.
	UpdatedBy string    `bson:"updated_by"`
	Elements  []Element `bson:"elements"`
}

func (d DataSet) AggregateID() string     { return d.Member }
func (d DataSet) AggregateVersion() int64 { return d.Version }
func (d DataSet) AtVersion(v int64, at time.Time) DataSet {
	d.Version, d.UpdatedAt = v, at
	return d
}

// Element returns the element with the code.
func (d DataSet) Element(code string) (Element, bool) {
	for _, e := range d.Elements {
		if e.Code == code {
			return e, true
		}
	}
	return Element{}, false
}

var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)

// ValidateElements checks a form before it replaces a member's: codes well formed and unique,
// names given, breakdowns of at least two parts, cross-checks known. field prefixes the
// violations' field paths.
func ValidateElements(field string, elements []Element) error {
	var v apierr.Violations
	if len(elements) == 0 {
		v.Add(field, "a data set needs at least one element")
	}
	seen := map[string]bool{}
	for i, e := range elements {
		at := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !codePattern.MatchString(e.Code):
			v.Add(at+".code", "must be upper case letters, digits and underscores, starting with a letter; got %q", e.Code)
		case seen[e.Code]:
			v.Add(at+".code", "%s appears twice", e.Code)
		}
		seen[e.Code] = true
		if e.Name == "" {
			v.Add(at+".name", "is required")
		}
		if e.CrossCheck != "" && e.CrossCheck != CasesIdentified {
			v.Add(at+".cross_check", "unknown cross-check %q", e.CrossCheck)
		}
		if len(e.Parts) == 1 {
			v.Add(at+".parts", "a breakdown needs at least two parts")
		}
		parts := map[string]bool{}
		for j, p := range e.Parts {
			pat := fmt.Sprintf("%s.parts[%d]", at, j)
			switch {
			case !codePattern.MatchString(p.Code):
				v.Add(pat+".code", "must be upper case letters, digits and underscores, starting with a letter; got %q", p.Code)
			case parts[p.Code]:
				v.Add(pat+".code", "%s appears twice in %s", p.Code, e.Code)
			}
			parts[p.Code] = true
			if p.Name == "" {
				v.Add(pat+".name", "is required")
			}
		}
	}
	return v.Err()
}
