package projection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/reporting/internal/period"
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
// Whole months are read from their month's bucket and the other days from theirs, each by _id:
// FerretDB serves an _id from its index but a range of _id (or $in) by scanning the collection,
// whose cost would grow with the whole history (docs/benchmarks.md). So a year costs twelve
// lookups, a month one, any period at most a few dozen. An open bound reads the months on that
// side by a range, which scans the month buckets: twelve a year, however many cases.
func (p *Projection) Statistics(ctx context.Context, from, to string) (Statistics, error) {
	var s Statistics
	add := func(b bucket) {
		s.Merge(b.Counts)
		if b.LastEventAt.After(s.AsOf) {
			s.AsOf = b.LastEventAt
		}
	}
	pl := period.Plan(from, to)
	for _, day := range pl.Days {
		if err := p.lookup(ctx, p.buckets, day, add); err != nil {
			return Statistics{}, err
		}
	}
	if pl.Open {
		return s, p.scanMonths(ctx, pl.FirstMonth, pl.LastMonth, add)
	}
	for _, month := range pl.Months {
		if err := p.lookup(ctx, p.monthly, month, add); err != nil {
			return Statistics{}, err
		}
	}
	return s, nil
}

// withoutMarkers leaves out of what is read the only part of a bucket that grows with its events.
var withoutMarkers = bson.D{{Key: "applied", Value: 0}}

// lookup adds the bucket id of coll, if there is one.
func (p *Projection) lookup(ctx context.Context, coll *mongo.Collection, id string, add func(bucket)) error {
	var d journal.Doc[bucket]
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(withoutMarkers)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read bucket %s: %w", id, err)
	}
	add(d.State)
	return nil
}

// scanMonths adds the month buckets first..last, "" for no bound.
func (p *Projection) scanMonths(ctx context.Context, first, last string, add func(bucket)) error {
	var bounds bson.D
	if first != "" {
		bounds = append(bounds, bson.E{Key: "$gte", Value: first})
	}
	if last != "" {
		bounds = append(bounds, bson.E{Key: "$lte", Value: last})
	}
	filter := bson.D{}
	if len(bounds) > 0 {
		filter = bson.D{{Key: "_id", Value: bounds}}
	}
	cur, err := p.monthly.Find(ctx, filter, options.Find().SetProjection(withoutMarkers))
	if err != nil {
		return fmt.Errorf("read months %q..%q: %w", first, last, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d journal.Doc[bucket]
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("decode month bucket: %w", err)
		}
		add(d.State)
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read months %q..%q: %w", first, last, err)
	}
	return nil
}
