package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
)

// Filter selects cases. Zero fields do not filter.
type Filter struct {
	Status, State, ExploitationType  string
	IdentifyingInstitution, Owner    string
	Minor                            *bool
	RegisteredFrom, RegisteredBefore time.Time // [from, before)
	IdentifiedFrom, IdentifiedTo     string    // inclusive, YYYY-MM-DD
	AfterCode                        string    // the cursor: codes after this one
}

// List returns up to limit cases matching f in code order (codes are unique and sort as
// strings). Lists never carry identities: the sealed heading is not even read.
func (s *Store) List(ctx context.Context, f Filter, limit int) ([]domain.Case, error) {
	q := bson.D{}
	eq := func(field, v string) {
		if v != "" {
			q = append(q, bson.E{Key: field, Value: v})
		}
	}
	eq("trafficking.status", f.Status)
	eq("state", f.State)
	eq("trafficking.exploitation_types", f.ExploitationType) // an element of the array
	eq("identification.identifying_institution", f.IdentifyingInstitution)
	eq("owner_institution", f.Owner)
	if f.Minor != nil {
		op := "$gte"
		if *f.Minor {
			op = "$lt"
		}
		q = append(q, bson.E{Key: "profile.age_at_identification", Value: bson.D{{Key: op, Value: domain.AdultAge}}})
	}
	rng := func(field string, from, to any, fromSet, toSet bool, toOp string) {
		r := bson.D{}
		if fromSet {
			r = append(r, bson.E{Key: "$gte", Value: from})
		}
		if toSet {
			r = append(r, bson.E{Key: toOp, Value: to})
		}
		if len(r) > 0 {
			q = append(q, bson.E{Key: field, Value: r})
		}
	}
	rng("registered_at", f.RegisteredFrom, f.RegisteredBefore, !f.RegisteredFrom.IsZero(), !f.RegisteredBefore.IsZero(), "$lt")
	rng("identification.date", f.IdentifiedFrom, f.IdentifiedTo, f.IdentifiedFrom != "", f.IdentifiedTo != "", "$lte")
	if f.AfterCode != "" {
		q = append(q, bson.E{Key: "code", Value: bson.D{{Key: "$gt", Value: f.AfterCode}}})
	}
	cur, err := s.cases.Find(ctx, q, options.Find().
		SetSort(bson.D{{Key: "code", Value: 1}}).
		SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: "identity", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	var out []domain.Case
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	return out, nil
}
