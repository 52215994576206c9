package datasets

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// PartValue is the value of one part of an element.
type PartValue struct {
	Part  string `bson:"part"`
	Value int64  `bson:"value"`
}

// Value is the value of one element, with its breakdown when the member gave one.
type Value struct {
	Element string      `bson:"element"`
	Value   int64       `bson:"value"`
	Parts   []PartValue `bson:"parts,omitempty"`
}

// Warning is a reported figure that disagrees with the registry's count of the same thing.
type Warning struct {
	Element    string     `bson:"element"`
	CrossCheck CrossCheck `bson:"cross_check"`
	Reported   int64      `bson:"reported"`
	Registry   int64      `bson:"registry"`
}

// Message says what the warning means, with both numbers.
func (w Warning) Message() string {
	return fmt.Sprintf("%s: reported %d, the registry counts %d cases identified by the member in the month", w.Element, w.Reported, w.Registry)
}

// Reopening is the chair's or the secretariat's reopening of a month, with why.
type Reopening struct {
	At          time.Time `bson:"at"`
	Institution string    `bson:"institution"`
	Subject     string    `bson:"subject"`
	Reason      string    `bson:"reason"`
}

// Submission is a member's figures for a month; its id is SubmissionID(member, period).
type Submission struct {
	ID        string    `bson:"_id"`
	Version   int64     `bson:"version"`
	UpdatedAt time.Time `bson:"updated_at"`
	Member    string    `bson:"member"`
	Period    string    `bson:"period"`
	// Submitted is false for a month reopened before anything was submitted.
	Submitted      bool      `bson:"submitted"`
	Values         []Value   `bson:"values,omitempty"`
	Warnings       []Warning `bson:"warnings,omitempty"`
	DataSetVersion int64     `bson:"data_set_version,omitempty"`
	SubmittedAt    time.Time `bson:"submitted_at,omitempty"`
	SubmittedBy    string    `bson:"submitted_by,omitempty"`
	// FirstSubmittedAt decides the timeliness: a correction after a reopening does not make an
	// on-time report late.
	FirstSubmittedAt time.Time `bson:"first_submitted_at,omitempty"`
	// Missing is set once report.data_missing was published: nothing had come by the due day.
	Missing bool `bson:"missing,omitempty"`
	// Reopened lets the next submission in despite the lock; that submission closes it again.
	Reopened   bool        `bson:"reopened"`
	Reopenings []Reopening `bson:"reopenings,omitempty"`
}

func (s Submission) AggregateID() string     { return s.ID }
func (s Submission) AggregateVersion() int64 { return s.Version }
func (s Submission) AtVersion(v int64, at time.Time) Submission {
	s.Version, s.UpdatedAt = v, at
	return s
}

// SubmissionID is the id of member's submission for period. "/" cannot occur in a member's code
// or a period, and keeps the id readable.
func SubmissionID(member string, p Period) string { return member + "/" + p.String() }

// Check validates values against the form: every element given once, known parts, no negative
// figure, parts adding up to their element (all errors, reported together), then compares the
// cross-checked elements with the registry's figures (warnings). registry holds the figures the
// registry has for the member and month; a cross-check with no figure is not compared.
func Check(form DataSet, values []Value, registry map[CrossCheck]int64) ([]Warning, error) {
	var v apierr.Violations
	given := map[string]bool{}
	for i, val := range values {
		at := fmt.Sprintf("values[%d]", i)
		e, ok := form.Element(val.Element)
		if !ok {
			v.Add(at+".element", "%q is not an element of %s's data set", val.Element, form.Member)
			continue
		}
		if given[val.Element] {
			v.Add(at+".element", "%s is given twice", val.Element)
		}
		given[val.Element] = true
		if val.Value < 0 {
			v.Add(at+".value", "%s must not be negative; got %d", val.Element, val.Value)
		}
		if len(val.Parts) == 0 {
			continue
		}
		sum, known := int64(0), map[string]bool{}
		for _, p := range e.Parts {
			known[p.Code] = true
		}
		for j, p := range val.Parts {
			pat := fmt.Sprintf("%s.parts[%d]", at, j)
			if !known[p.Part] {
				v.Add(pat+".part", "%q is not a part of %s", p.Part, val.Element)
			}
			if p.Value < 0 {
				v.Add(pat+".value", "%s %s must not be negative; got %d", val.Element, p.Part, p.Value)
			}
			sum += p.Value
		}
		if sum != val.Value {
			v.Add(at+".parts", "the parts of %s add up to %d, not to its value %d", val.Element, sum, val.Value)
		}
	}
	for _, e := range form.Elements {
		if !given[e.Code] {
			v.Add("values", "%s is missing: give 0 when there is nothing to report", e.Code)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var warnings []Warning
	for _, val := range values {
		e, _ := form.Element(val.Element)
		figure, ok := registry[e.CrossCheck]
		if e.CrossCheck == "" || !ok || figure == val.Value {
			continue
		}
		warnings = append(warnings, Warning{Element: val.Element, CrossCheck: e.CrossCheck, Reported: val.Value, Registry: figure})
	}
	return warnings, nil
}

// Admit refuses a submission the month does not take at now: a month not yet over, or a locked
// one that was not reopened.
func (c Calendar) Admit(s Submission, p Period, now time.Time) error {
	meta := map[string]string{"member": s.Member, "period": p.String()}
	if !p.Ended(now) {
		return apierr.FailedPrecondition("PERIOD_NOT_ENDED",
			fmt.Sprintf("%s has not ended: a month's figures are submitted after it", p), meta)
	}
	if c.Locked(p, now) && !s.Reopened {
		meta["locked_at"] = c.LocksAt(p).UTC().Format(time.RFC3339)
		meta["lock_day"] = strconv.Itoa(c.LockDay)
		return apierr.FailedPrecondition("PERIOD_LOCKED",
			fmt.Sprintf("%s locked on day %d of the next month: the secretariat can reopen it for %s, with a reason", p, c.LockDay, s.Member), meta)
	}
	return nil
}
