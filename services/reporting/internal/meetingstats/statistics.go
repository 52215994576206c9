package meetingstats

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Figures are the meeting figures over the reporting service's own database.
type Figures struct {
	p *tally.Projection[Meeting, Event]
}

// New returns the figures stored in db.
func New(db *mongo.Database) *Figures { return &Figures{p: tally.New(db, kind)} }

// Apply counts e once; it reports whether e changed its document. e must be valid
// (Event.Validate).
func (f *Figures) Apply(ctx context.Context, e Event) (bool, error) {
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Millisecond)
	return f.p.Apply(ctx, e.DocID, e)
}

// Month is the figures of one month.
type Month struct {
	Month      string
	HeldByKind map[string]int64
	Missed     bool
}

// Statistics are the figures of the meetings of a period's months.
type Statistics struct {
	HeldByKind, Attendance, DecisionsByKind, ActionsByState map[string]int64
	DecisionsAdopted                                        int64
	// MissedMonths are the months closed without a regular meeting held, oldest first.
	MissedMonths []string
	// Months are those with a figure, oldest first.
	Months []Month
	AsOf   time.Time
}

// Statistics sums the figures of the months from..to ("YYYY-MM", both inclusive, "" for no
// bound).
func (f *Figures) Statistics(ctx context.Context, from, to string) (Statistics, error) {
	buckets, err := f.p.Buckets(ctx, from, to)
	if err != nil {
		return Statistics{}, err
	}
	sum := tally.Figures{}
	var s Statistics
	for _, b := range buckets {
		sum.Add(b.Figures, 1)
		missed := b.Figures[dimMissed][keyAll] > 0
		if missed {
			s.MissedMonths = append(s.MissedMonths, b.ID)
		}
		s.Months = append(s.Months, Month{Month: b.ID, HeldByKind: b.Figures[dimHeld], Missed: missed})
		if b.LastEventAt.After(s.AsOf) {
			s.AsOf = b.LastEventAt
		}
	}
	s.HeldByKind, s.Attendance = sum[dimHeld], sum[dimAttendance]
	s.DecisionsByKind, s.ActionsByState = sum[dimDecisions], sum[dimActions]
	s.DecisionsAdopted = sum[dimAdopted][keyAll]
	return s, nil
}
