package referralstats

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Figures are the referral figures over the reporting service's own database.
type Figures struct {
	p *tally.Projection[Referral, Event]
}

// New returns the figures stored in db.
func New(db *mongo.Database) *Figures { return &Figures{p: tally.New(db, kind)} }

// Apply counts e, each once and the newest state winning; it reports whether e changed the
// referral. e must be valid (Event.Validate).
func (f *Figures) Apply(ctx context.Context, e Event) (bool, error) {
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Millisecond)
	return f.p.Apply(ctx, e.ReferralID, e)
}

// Statistics are the figures of the referrals created in a period.
type Statistics struct {
	Total, Overdue                     int64
	ByServiceType, ByProvider, ByState map[string]int64
	BySender, ByUrgency                map[string]int64
	// Answered referrals, and the seconds from creation to answer, summed.
	Answered, ResponseSeconds int64
	// ResponseHistogram counts the answers per bin, keyed by the bin's upper bound.
	ResponseHistogram map[string]int64
	DeliveredByType   map[string]int64
	// AsOf is when the newest event counted occurred; zero when nothing was counted.
	AsOf time.Time
}

// MeanResponse is the mean time to answer, in seconds; 0 when nothing was answered.
func (s Statistics) MeanResponse() int64 {
	if s.Answered == 0 {
		return 0
	}
	return s.ResponseSeconds / s.Answered
}

// MedianResponse approximates the median time to answer, in seconds, by the upper bound of the
// bin that holds the middle answer; the answers later than every bin give the last bound doubled,
// for want of one. 0 when nothing was answered.
func (s Statistics) MedianResponse() int64 {
	var seen int64
	for _, b := range bins {
		seen += s.ResponseHistogram[b.key]
		if 2*seen >= s.Answered && s.Answered > 0 {
			return int64(b.max / time.Second)
		}
	}
	if s.Answered == 0 {
		return 0
	}
	return int64(2 * bins[len(bins)-1].max / time.Second)
}

// Statistics sums the figures of the referrals created from..to (days in Tirana, both
// inclusive, "" for no bound).
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
	s.Total, s.Overdue = sum[dimTotal][keyReferrals], sum[dimTotal][keyOverdue]
	s.ByServiceType, s.ByProvider, s.ByState = sum[dimServiceType], sum[dimProvider], sum[dimState]
	s.BySender, s.ByUrgency = sum[dimSender], sum[dimUrgency]
	s.Answered, s.ResponseSeconds = sum[dimResponse][keyAnswered], sum[dimResponse][keySeconds]
	s.ResponseHistogram, s.DeliveredByType = sum[dimHistogram], sum[dimDelivered]
	return s, nil
}
