package aggregate

import "time"

// Change is a history entry for aggregates whose changes need say no more than their kind, the
// fields they changed (paths, never values), and who made them when. An aggregate whose history
// says more (the case registry's notes and related cases) defines its own Entry.
type Change struct {
	Kind        string    `bson:"kind"`
	Fields      []string  `bson:"fields,omitempty"`
	Institution string    `bson:"institution"`
	Subject     string    `bson:"subject"`
	At          time.Time `bson:"at"`
}

// By is the change made by subject of institution at a time.
func (c Change) By(institution, subject string, at time.Time) Change {
	c.Institution, c.Subject, c.At = institution, subject, at.UTC()
	return c
}
