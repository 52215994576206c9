package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Collection holds the versions, _id "v0001", "v0002", …: a handful in decades, read whole.
const Collection = "rules_of_procedure"

// Store keeps the versions.
type Store struct{ coll *mongo.Collection }

// New returns the store in db.
func New(db *mongo.Database) *Store { return &Store{coll: db.Collection(Collection)} }

type doc struct {
	ID    string `bson:"_id"`
	Rules `bson:",inline"`
}

func id(v int32) string { return fmt.Sprintf("v%04d", v) }

// Seed records the defaults as version 1 on a fresh installation; idempotent.
func (s *Store) Seed(ctx context.Context, now time.Time) error {
	d := Defaults()
	d.AdoptedAt = now.UTC().Truncate(time.Millisecond)
	if err := mongodb.Claim(ctx, s.coll, doc{ID: id(1), Rules: d}); err != nil && !errors.Is(err, mongodb.ErrTaken) {
		return fmt.Errorf("seed the rules of procedure: %w", err)
	}
	return nil
}

// All returns every version, oldest first.
func (s *Store) All(ctx context.Context) ([]Rules, error) {
	cur, err := s.coll.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read the rules of procedure: %w", mongodb.Classify(err))
	}
	var docs []doc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read the rules of procedure: %w", mongodb.Classify(err))
	}
	out := make([]Rules, len(docs))
	for i, d := range docs {
		out[i] = d.Rules
	}
	slices.SortFunc(out, func(a, b Rules) int { return int(a.Version - b.Version) })
	return out, nil
}

// On returns the version in force on day ("YYYY-MM-DD"): the latest adopted whose effective
// date is not after it; the defaults before any.
func (s *Store) On(ctx context.Context, day string) (Rules, error) {
	all, err := s.All(ctx)
	if err != nil {
		return Rules{}, err
	}
	in := Defaults()
	for _, r := range all { // oldest first: a later adoption wins from its date
		if r.EffectiveFrom <= day {
			in = r
		}
	}
	return in, nil
}

// Adopt records r as the next version. Its effective date may not precede the latest version's,
// so that a day's rules, once in force, are never rewritten behind a meeting that applied them.
func (s *Store) Adopt(ctx context.Context, r Rules, now time.Time) (Rules, error) {
	if err := r.Validate("rules."); err != nil {
		return Rules{}, err
	}
	for {
		all, err := s.All(ctx)
		if err != nil {
			return Rules{}, err
		}
		last := Defaults()
		if len(all) > 0 {
			last = all[len(all)-1]
		}
		if r.EffectiveFrom < last.EffectiveFrom {
			return Rules{}, apierr.FailedPrecondition("EFFECTIVE_BEFORE_LATEST",
				fmt.Sprintf("version %d is in force from %s: a new version cannot take effect before it", last.Version, last.EffectiveFrom),
				map[string]string{"latest_version": fmt.Sprint(last.Version), "latest_effective_from": last.EffectiveFrom})
		}
		r.Version, r.AdoptedAt = last.Version+1, now.UTC().Truncate(time.Millisecond)
		err = mongodb.Claim(ctx, s.coll, doc{ID: id(r.Version), Rules: r})
		if !errors.Is(err, mongodb.ErrTaken) { // taken: another adoption won the number; look again
			if err != nil {
				return Rules{}, fmt.Errorf("adopt the rules of procedure: %w", err)
			}
			return r, nil
		}
	}
}
