package projection

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/journal"
)

// Cases calls visit with the latest facts of every case identified from..to (both inclusive,
// YYYY-MM-DD), merged duplicates left out, in no particular order; it stops at visit's first
// error and returns it.
//
// It scans CaseCollection: the publications it serves are yearly, asked for a few times a year,
// and a year holds some hundreds of cases, so the scan costs less than an index on the facts'
// day that every event would have to keep. Only the facts are read, not the transition kept for
// crash recovery.
func (p *Projection) Cases(ctx context.Context, from, to string, visit func(Facts) error) error {
	filter := bson.D{
		{Key: "facts.day", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lte", Value: to}}},
		{Key: "merged", Value: bson.D{{Key: "$ne", Value: true}}},
	}
	cur, err := p.caseDocs.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "facts", Value: 1}, {Key: "merged", Value: 1}}))
	if err != nil {
		return fmt.Errorf("read cases %s..%s: %w", from, to, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d journal.Doc[caseDoc]
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("decode case: %w", err)
		}
		if d.State.Counted == nil || d.State.Merged {
			continue
		}
		if err := visit(*d.State.Counted); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read cases %s..%s: %w", from, to, err)
	}
	return nil
}
