package projection

import (
	"context"
	"time"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Statistics are the counts of the cases identified in a period.
type Statistics struct {
	Counts
	// AsOf is when the newest event counted occurred; zero when nothing was counted.
	AsOf time.Time
}

// Statistics sums the buckets of the identification days from..to, both inclusive, valid
// YYYY-MM-DD or "" for no bound. The period is by identification date, not by when the case was
// registered or the event arrived.
//
// Whole months are read from their month's bucket and the other days from theirs, each by _id
// (tally.Projection.Buckets): FerretDB serves an _id from its index but a range of _id (or $in)
// by scanning the collection, whose cost would grow with the whole history
// (docs/benchmarks.md). So a year costs twelve lookups, a month one, any period at most a few
// dozen.
func (p *Projection) Statistics(ctx context.Context, from, to string) (Statistics, error) {
	buckets, err := p.p.Buckets(ctx, from, to)
	if err != nil {
		return Statistics{}, err
	}
	sum := tally.Figures{}
	var asOf time.Time
	for _, b := range buckets {
		sum.Add(b.Figures, 1)
		if b.LastEventAt.After(asOf) {
			asOf = b.LastEventAt
		}
	}
	return Statistics{Counts: countsOf(sum), AsOf: asOf}, nil
}
