package meetings

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
)

// MonthRecord is a closed month's compliance as recorded once it ended: whether a regular
// meeting was held in it (point 7). Recording it is an aggregate's creation, so that the
// month's event (meeting.month_missed) is published exactly once, with the record.
type MonthRecord struct {
	// ID is the month, "YYYY-MM".
	ID        string    `bson:"_id"`
	Version   int64     `bson:"version"`
	Compliant bool      `bson:"compliant"`
	Held      string    `bson:"held_meeting_id,omitempty"`
	ClosedAt  time.Time `bson:"closed_at"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// AggregateID, AggregateVersion and AtVersion make a month's record an aggregate.
func (m MonthRecord) AggregateID() string     { return m.ID }
func (m MonthRecord) AggregateVersion() int64 { return m.Version }
func (m MonthRecord) AtVersion(v int64, at time.Time) MonthRecord {
	m.Version, m.UpdatedAt = v, at
	return m
}

// Months keeps the closed months' records: collections "months" and "month_revisions".
type Months = aggregate.Store[MonthRecord, Change]

// NewMonths returns the months' records in db.
func NewMonths(db *mongo.Database) *Months {
	return aggregate.New[MonthRecord, Change](db, aggregate.Spec{Name: "month"})
}
