package decisionstats

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Figures are the acts' figures over the reporting service's own database.
type Figures struct {
	p *tally.Projection[Act, Act]
}

// New returns the figures stored in db.
func New(db *mongo.Database) *Figures { return &Figures{p: tally.New(db, kind)} }

// Apply counts a once, however often it is delivered; it reports whether a was new. a must be
// valid (Act.Validate).
func (f *Figures) Apply(ctx context.Context, a Act) (bool, error) {
	a.OccurredAt = a.OccurredAt.UTC().Truncate(time.Millisecond)
	return f.p.Apply(ctx, a.ID(), a)
}

// Decisions are status decisions of one kind, first decisions or revisions.
type Decisions struct {
	Total int64
	// ByStatus is by outcome, e.g. "TRAFFICKING_STATUS_VICTIM"; ByBody by deciding body.
	ByStatus, ByBody map[string]int64
}

// Statistics are the figures of the acts dated in a period.
type Statistics struct {
	First, Revisions Decisions
	// DaysToDecision sums the days from registration to each first decision; Histogram counts
	// them per bin, keyed by the bin's last day.
	DaysToDecision   int64
	Histogram        map[string]int64
	Closures         int64
	ClosedByReason   map[string]int64
	Reopenings       int64
	ReopenedByReason map[string]int64
	// AsOf is when the newest event counted occurred; zero when nothing was counted.
	AsOf time.Time
}

// MeanDays is the mean time from registration to a first decision, in days; 0 without one.
func (s Statistics) MeanDays() float64 {
	if s.First.Total == 0 {
		return 0
	}
	return float64(s.DaysToDecision) / float64(s.First.Total)
}

// MedianDays approximates the median time from registration to a first decision by the last
// day of the bin that holds the middle decision, as referralstats does for response times; the
// times longer than every bin give the last bound doubled, for want of one. 0 without one.
func (s Statistics) MedianDays() int64 {
	n := s.First.Total
	if n == 0 {
		return 0
	}
	var seen int64
	for _, b := range bins {
		seen += s.Histogram[b.key]
		if 2*seen >= n {
			return b.days
		}
	}
	return 2 * bins[len(bins)-1].days
}

// Statistics sums the figures of the acts dated from..to ("YYYY-MM-DD", both inclusive, ""
// for no bound).
func (f *Figures) Statistics(ctx context.Context, from, to string) (Statistics, error) {
	buckets, err := f.p.Buckets(ctx, from, to)
	if err != nil {
		return Statistics{}, err
	}
	sum := tally.Figures{}
	var s Statistics
	for _, b := range buckets {
		sum.Add(b.Figures, 1)
		if b.LastEventAt.After(s.AsOf) {
			s.AsOf = b.LastEventAt
		}
	}
	s.First = Decisions{Total: sum[dimTotal][keyDecisions], ByStatus: sum[dimDecidedStatus], ByBody: sum[dimDecidedBody]}
	s.Revisions = Decisions{Total: sum[dimTotal][keyRevisions], ByStatus: sum[dimRevisedStatus], ByBody: sum[dimRevisedBody]}
	s.DaysToDecision, s.Histogram = sum[dimTime][keyDays], sum[dimHistogram]
	s.Closures, s.ClosedByReason = sum[dimTotal][keyClosures], sum[dimClosedReason]
	s.Reopenings, s.ReopenedByReason = sum[dimTotal][keyReopenings], sum[dimReopenedReason]
	return s, nil
}
