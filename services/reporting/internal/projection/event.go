package projection

import (
	"errors"
	"fmt"
	"time"
)

// Event is what one case event tells the statistics: the case's facts as of a version of the
// case, or that the case was merged into another. It is also what the journal of the case's
// document stores.
type Event struct {
	CaseID string `bson:"case_id"`
	// Version is the case's aggregate version after the event: the newest counts.
	Version int64 `bson:"case_version"`
	// Facts are the case's facts after the event; unused when Merged.
	Facts Facts `bson:"facts"`
	// Merged means the case is a duplicate merged into another, which alone counts from then on.
	Merged bool `bson:"merged"`
	// OccurredAt is when the event happened; the newest one tells how fresh the statistics are.
	OccurredAt time.Time `bson:"occurred_at"`
}

// Validate reports what makes e impossible to apply.
func (e Event) Validate() error {
	var errs []error
	if e.CaseID == "" {
		errs = append(errs, errors.New("case id is missing"))
	}
	if e.Version <= 0 {
		errs = append(errs, fmt.Errorf("case version %d is not positive", e.Version))
	}
	if !e.Merged {
		errs = append(errs, e.Facts.Validate())
	}
	return errors.Join(errs...)
}
