package projection

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/journal"
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
// The range filter on _id is not a pure _id lookup, so FerretDB on SQLite scans the bucket
// collection to serve it. That collection holds one small document per day on which cases were
// identified (a few hundred a year), so the scan stays small however many cases there are; the
// markers, the only part that grows with the cases, are left out of what is read.
func (p *Projection) Statistics(ctx context.Context, from, to string) (Statistics, error) {
	var bounds bson.D
	if from != "" {
		bounds = append(bounds, bson.E{Key: "$gte", Value: from})
	}
	if to != "" {
		bounds = append(bounds, bson.E{Key: "$lte", Value: to})
	}
	filter := bson.D{}
	if len(bounds) > 0 {
		filter = bson.D{{Key: "_id", Value: bounds}}
	}
	cur, err := p.buckets.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "applied", Value: 0}}))
	if err != nil {
		return Statistics{}, fmt.Errorf("read buckets %q..%q: %w", from, to, err)
	}
	defer cur.Close(ctx)
	var s Statistics
	for cur.Next(ctx) {
		var d journal.Doc[bucket]
		if err := cur.Decode(&d); err != nil {
			return Statistics{}, fmt.Errorf("decode bucket: %w", err)
		}
		s.Merge(d.State.Counts)
		if d.State.LastEventAt.After(s.AsOf) {
			s.AsOf = d.State.LastEventAt
		}
	}
	if err := cur.Err(); err != nil {
		return Statistics{}, fmt.Errorf("read buckets %q..%q: %w", from, to, err)
	}
	return s, nil
}
