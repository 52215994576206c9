package projection

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Cases calls visit with the latest facts of every case identified from..to (both inclusive,
// YYYY-MM-DD), merged duplicates left out, in no particular order; it stops at visit's first
// error and returns it.
//
// It scans the cases' documents: the publications it serves are yearly, asked for a few times a
// year, and a year holds some hundreds of cases, so the scan costs less than an index on the
// facts' day that every event would have to keep.
func (p *Projection) Cases(ctx context.Context, from, to string, visit func(Facts) error) error {
	filter := bson.D{
		{Key: "facts.day", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lte", Value: to}}},
		{Key: "merged", Value: bson.D{{Key: "$ne", Value: true}}},
	}
	return p.p.States(ctx, filter, func(_ string, c Case) error {
		if !c.Counted() {
			return nil
		}
		return visit(c.Facts)
	})
}
