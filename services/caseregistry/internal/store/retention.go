package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ClosedWithIdentityBefore returns the ids of up to limit cases closed before date (YYYY-MM-DD)
// that still hold an identity: those whose retention period is over. It is the retention
// sweep's query, run rarely; it reads ids only.
func (s *Store) ClosedWithIdentityBefore(ctx context.Context, date string, limit int) ([]string, error) {
	cur, err := s.cases.Find(ctx, bson.D{
		{Key: "state", Value: "CASE_STATE_CLOSED"},
		{Key: "closure.date", Value: bson.D{{Key: "$lt", Value: date}}},
		{Key: "identity", Value: bson.D{{Key: "$exists", Value: true}}},
	}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("find cases past retention: %w", err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("find cases past retention: %w", err)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}
