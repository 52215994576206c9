package store

import (
	"time"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
)

// RevisionCollection holds every version of every case, _id "<case id>@<version>"
// (aggregate.Store's revisions for the aggregate named "case").
const RevisionCollection = "case_revisions"

// Change says what a revision changed and who changed it: one entry of the case's history.
type Change struct {
	// Kind is a ChangeKind name, e.g. "CHANGE_KIND_UPDATED".
	Kind string `bson:"kind"`
	// Fields are the field paths changed, e.g. "identity.address"; never values.
	Fields        []string  `bson:"fields,omitempty"`
	Institution   string    `bson:"institution"`
	Subject       string    `bson:"subject"`
	At            time.Time `bson:"at"`
	Note          string    `bson:"note,omitempty"`
	RelatedCaseID string    `bson:"related_case_id,omitempty"`
}

// By is the change made by subject of institution at a time.
func (c Change) By(institution, subject string, at time.Time) Change {
	c.Institution, c.Subject, c.At = institution, subject, at.UTC()
	return c
}

// RevisionID is the _id of version v of case id.
func RevisionID(id string, v int64) string { return aggregate.RevisionID(id, v) }
