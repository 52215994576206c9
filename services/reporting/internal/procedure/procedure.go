// Package procedure keeps the reporting service's copy of the rules of procedure that the
// secretariat adopts (point 14), as far as reports need them: who approves a report (every member
// of the Authority), in how many days, and whether silence counts as approval. The secretariat
// owns the rules; each version reaches this store through its rules.adopted event, and a report
// applies the version in force on the day it is circulated.
package procedure

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Rules are one version's rules of reports.
type Rules struct {
	Version int32 `bson:"version"`
	// EffectiveFrom is "YYYY-MM-DD" in Tirana.
	EffectiveFrom string `bson:"effective_from"`
	AdoptedBy     string `bson:"adopted_by"`
	// Members are the Authority's member institutions when the version was adopted: "approved by
	// all members" means their approval.
	Members []string `bson:"members"`
	// ApprovalDays are the days the members have to answer a circulated report.
	ApprovalDays int32 `bson:"approval_days"`
	// Tacit is whether a member that has not answered within ApprovalDays counts as approving.
	Tacit bool `bson:"tacit"`
}

// Validate checks a version as it arrives: an event that fails it can never be applied.
func (r Rules) Validate() error {
	var errs []error
	if r.Version < 1 {
		errs = append(errs, fmt.Errorf("version %d: must be 1 or more", r.Version))
	}
	if _, err := time.Parse(time.DateOnly, r.EffectiveFrom); err != nil {
		errs = append(errs, fmt.Errorf("effective_from %q: must be a date YYYY-MM-DD", r.EffectiveFrom))
	}
	if len(r.Members) == 0 {
		errs = append(errs, errors.New("members: none named"))
	}
	for i, m := range r.Members {
		if m == "" || slices.Contains(r.Members[:i], m) {
			errs = append(errs, fmt.Errorf("members: %q is empty or repeated", m))
		}
	}
	if r.ApprovalDays < 1 {
		errs = append(errs, fmt.Errorf("approval_days %d: must be 1 or more", r.ApprovalDays))
	}
	return errors.Join(errs...)
}

// ErrUnknown is On's answer before any version has arrived from the secretariat.
var ErrUnknown = errors.New("no rules of procedure received from the secretariat yet")

// Collection holds the versions, _id "v0001", …: a handful in decades, read whole.
const Collection = "rules_of_procedure"

// Store keeps the versions received.
type Store struct{ coll *mongo.Collection }

// New returns the store in db.
func New(db *mongo.Database) *Store { return &Store{coll: db.Collection(Collection)} }

type doc struct {
	ID    string `bson:"_id"`
	Rules `bson:",inline"`
}

// Apply records a version. A version, once adopted, never changes, so a copy delivered again
// finds its _id taken and changes nothing; it reports whether the version was new.
func (s *Store) Apply(ctx context.Context, r Rules) (bool, error) {
	switch err := mongodb.Claim(ctx, s.coll, doc{ID: fmt.Sprintf("v%04d", r.Version), Rules: r}); {
	case errors.Is(err, mongodb.ErrTaken):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("record the rules of procedure, version %d: %w", r.Version, err)
	}
	return true, nil
}

// On returns the version in force on day ("YYYY-MM-DD"): of those received, the latest whose
// effective date is not after it; the earliest when day precedes them all, since rules apply
// from the installation on. ErrUnknown before any.
func (s *Store) On(ctx context.Context, day string) (Rules, error) {
	cur, err := s.coll.Find(ctx, bson.D{})
	if err != nil {
		return Rules{}, fmt.Errorf("read the rules of procedure: %w", mongodb.Classify(err))
	}
	var docs []doc
	if err := cur.All(ctx, &docs); err != nil {
		return Rules{}, fmt.Errorf("read the rules of procedure: %w", mongodb.Classify(err))
	}
	if len(docs) == 0 {
		return Rules{}, ErrUnknown
	}
	slices.SortFunc(docs, func(a, b doc) int { return int(a.Version - b.Version) })
	in := docs[0].Rules
	for _, d := range docs[1:] {
		if d.EffectiveFrom <= day {
			in = d.Rules
		}
	}
	return in, nil
}
