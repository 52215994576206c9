package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Store keeps the reports: the aggregate store's Create, Get and Execute, and the list of all.
type Store struct {
	*aggregate.Store[Report, aggregate.Change]
}

// NewStore returns the store of the reports in db (collections reports, report_revisions).
func NewStore(db *mongo.Database) *Store {
	return &Store{Store: aggregate.New[Report, aggregate.Change](db, aggregate.Spec{Name: "report"})}
}

// periodNamespace derives a report's id from its period.
var periodNamespace = uuid.MustParse("0c6f3b9e-4d7a-4e21-8f35-9a1d2b7c5e60")

// ID is the id of the report of p: one report per period, so that drafting a period again
// reaches the same report, however many times and from wherever it is asked.
func ID(p Period) string { return uuid.NewSHA1(periodNamespace, []byte(p.Key())).String() }

// All returns every report, the most recently created first, without their PDFs. The Authority
// reports monthly, plus a few periods on request: a few dozen reports a year, read whole rather
// than through a list index.
func (s *Store) All(ctx context.Context) ([]Report, error) {
	cur, err := s.Collection().Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "pdf", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("list the reports: %w", mongodb.Classify(err))
	}
	var out []Report
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list the reports: %w", mongodb.Classify(err))
	}
	slices.SortFunc(out, func(a, b Report) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.ID, b.ID)) })
	return out, nil
}
