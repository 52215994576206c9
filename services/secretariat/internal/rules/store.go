package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// Collection holds the versions, _id "v0001", "v0002", …: a handful in decades, read whole.
const Collection = "rules_of_procedure"

// AggregateID names the versions as one aggregate on the bus: their rules.adopted events leave
// in version order.
const AggregateID = "rules-of-procedure"

// EventAdopted is the event of each version: the rules and the composition, for the services
// that apply them elsewhere (the reporting service approves reports by them).
const EventAdopted = "rules.adopted"

// Store keeps the versions.
type Store struct {
	db   *mongo.Database
	coll *mongo.Collection
}

// New returns the store in db.
func New(db *mongo.Database) *Store { return &Store{db: db, coll: db.Collection(Collection)} }

// doc is a version as stored: the insert that claims its _id commits it with its event.
type doc struct {
	ID     string `bson:"_id"`
	Rules  `bson:",inline"`
	Outbox map[string]outbox.Event `bson:"outbox,omitempty"`
}

func id(v int32) string { return fmt.Sprintf("v%04d", v) }

// Seed records the defaults as version 1 on a fresh installation, with its event, and publishes
// the versions an earlier release stored without one; idempotent. members is the composition
// the rules apply to.
func (s *Store) Seed(ctx context.Context, members []string, now time.Time) error {
	d := Defaults()
	d.AdoptedAt = now.UTC().Truncate(time.Millisecond)
	if err := s.commit(ctx, d, members); err != nil && !errors.Is(err, mongodb.ErrTaken) {
		return fmt.Errorf("seed the rules of procedure: %w", err)
	}
	return s.announceEarlier(ctx, members)
}

// announceEarlier publishes the versions stored before each version carried its event
// (docs/decisions.md 37), so that an upgraded installation needs nothing. The event is
// announced, then put in the document as a commit would have put it: a crash between the two
// leaves the document without it, and the next start announces it again under the same id.
func (s *Store) announceEarlier(ctx context.Context, members []string) error {
	cur, err := s.coll.Find(ctx, bson.D{{Key: outbox.Field, Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil {
		return fmt.Errorf("read the rules of procedure never published: %w", mongodb.Classify(err))
	}
	var docs []doc
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("read the rules of procedure never published: %w", mongodb.Classify(err))
	}
	for _, d := range docs {
		events, err := adopted(ctx, d.Rules, members)
		if err != nil {
			return err
		}
		announced, err := outbox.AnnounceIn(ctx, s.db, Collection, d.ID, AggregateID, events, d.AdoptedAt)
		if err != nil {
			return err
		}
		if _, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: outbox.Field, Value: outbox.Map(events)}}}}); err != nil {
			return fmt.Errorf("publish the rules of procedure, version %d: %w", d.Version, mongodb.Classify(err))
		}
		_ = announced.Confirm(ctx)
	}
	return nil
}

// adopted is version r's event.
func adopted(ctx context.Context, r Rules, members []string) ([]outbox.Pending, error) {
	event, err := outbox.NewEvent(ctx, EventAdopted, AggregateID, int64(r.Version), 0,
		&secretariatv1.RulesAdopted{Rules: r.Proto(), Members: members}, r.AdoptedAt)
	if err != nil {
		return nil, err
	}
	return []outbox.Pending{event}, nil
}

// commit inserts version r with its rules.adopted event, atomically: the insert claims the
// version's _id and holds the event (package outbox); mongodb.ErrTaken when the version exists.
// A lost race leaves its announcement to the relay, which finds the winner's event under the
// same id (outbox.Announcement.Withdraw).
func (s *Store) commit(ctx context.Context, r Rules, members []string) error {
	events, err := adopted(ctx, r, members)
	if err != nil {
		return err
	}
	d := doc{ID: id(r.Version), Rules: r, Outbox: outbox.Map(events)}
	announced, err := outbox.Commit(ctx, s.db, Collection, d.ID, AggregateID, d, events, r.AdoptedAt)
	if err != nil {
		return err
	}
	// Unconfirmed, the event still leaves: the relay finds it in the document after its grace.
	_ = announced.Confirm(ctx)
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

// Adopt records r as the next version, with its event, for members (the composition). Its
// effective date may not precede the latest version's, so that a day's rules, once in force, are
// never rewritten behind a meeting that applied them.
func (s *Store) Adopt(ctx context.Context, r Rules, members []string, now time.Time) (Rules, error) {
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
		err = s.commit(ctx, r, members)
		if !errors.Is(err, mongodb.ErrTaken) { // taken: another adoption won the number; look again
			if err != nil {
				return Rules{}, fmt.Errorf("adopt the rules of procedure: %w", err)
			}
			return r, nil
		}
	}
}
