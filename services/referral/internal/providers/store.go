package providers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"google.golang.org/protobuf/types/known/timestamppb"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
)

// Collection holds the providers, each at its latest version; provider_revisions their history.
const Collection = "providers"

// EventChanged is the event of every change of a provider, on nrm.referral.provider_changed.
const EventChanged = "referral.provider_changed"

// Store keeps the providers: the aggregate store's Create, Get, Execute and History, and All.
type Store struct {
	*aggregate.Store[Provider, Change]
}

// New returns the store of the providers in db.
func New(db *mongo.Database) *Store {
	return &Store{aggregate.New[Provider, Change](db, aggregate.Spec{Name: "provider"})}
}

// All returns every provider in code order. The directory holds dozens of providers, a few
// hundred at most, and does not grow with cases or referrals: reading it whole is cheaper than
// any index on the embedded store.
func (s *Store) All(ctx context.Context) ([]Provider, error) {
	cur, err := s.Collection().Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	var out []Provider
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	return out, nil
}

// Changed is the event of p's change.
func Changed(p Provider) aggregate.Event {
	e := &referralv1.ProviderChanged{
		Code: p.Code, Version: p.Version, Kind: referralv1.ProviderKind(referralv1.ProviderKind_value[p.Kind]),
		ServiceTypes: ServiceTypes(p.ServiceTypes), Active: p.Active, Capacity: CapacityProto(p.Capacity),
	}
	return aggregate.Event{Type: EventChanged, Payload: e}
}

// Seed registers each of the defaults that the directory does not hold yet, as registered by
// the system: a fresh installation starts with them, and a provider the Authority has changed
// or deactivated since is left as it is.
func (s *Store) Seed(ctx context.Context, defaults []Provider, now time.Time) error {
	now = now.UTC().Truncate(time.Millisecond)
	for _, p := range defaults {
		_, err := s.Get(ctx, p.Code)
		if err == nil {
			continue
		}
		if !errors.Is(err, aggregate.ErrNotFound) {
			return err
		}
		p = p.AtVersion(1, now)
		events, err := aggregate.Envelop(ctx, p.Code, 1, []aggregate.Event{Changed(p)}, now)
		if err != nil {
			return err
		}
		change := Change{Kind: ChangeRegistered}.By(SystemInstitution, "seed", now)
		if _, err := s.Create(ctx, p, change, events); err != nil && !errors.Is(err, aggregate.ErrExists) {
			return fmt.Errorf("seed provider %s: %w", p.Code, err)
		}
	}
	return nil
}

// SystemInstitution names the system itself in the history of what it did on its own.
const SystemInstitution = "NRM"

// ServiceTypes converts stored service types to the enum.
func ServiceTypes(names []string) []referralv1.ServiceType {
	out := make([]referralv1.ServiceType, len(names))
	for i, n := range names {
		out[i] = referralv1.ServiceType(referralv1.ServiceType_value[n])
	}
	return out
}

// CapacityProto renders a stored capacity; nil for none.
func CapacityProto(c *Capacity) *referralv1.ProviderCapacity {
	if c == nil {
		return nil
	}
	return &referralv1.ProviderCapacity{PlacesTotal: c.Total, PlacesFree: c.Free, UpdatedAt: timestamppb.New(c.UpdatedAt)}
}
