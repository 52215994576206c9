package members

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Store keeps the composition in the secretariat's own database.
type Store struct {
	members      *mongo.Collection
	inviteeKinds *mongo.Collection
}

// NewStore returns a store over db.
func NewStore(db *mongo.Database) *Store {
	return &Store{members: db.Collection(MembersCollection), inviteeKinds: db.Collection(InviteeKindsCollection)}
}

// Seed inserts every default member and invitee kind that is not there yet. It never changes a
// document that exists, so it is safe on every start and from several replicas at once.
func (s *Store) Seed(ctx context.Context) error {
	for _, m := range DefaultMembers() {
		if err := insertNew(ctx, s.members, m); err != nil {
			return fmt.Errorf("seed member %s: %w", m.Code, err)
		}
	}
	for _, k := range DefaultInviteeKinds() {
		if err := insertNew(ctx, s.inviteeKinds, k); err != nil {
			return fmt.Errorf("seed invitee kind %s: %w", k.Code, err)
		}
	}
	return nil
}

// insertNew inserts doc unless a document with its _id exists; a duplicate key is how that is
// detected, because it is the one conflict FerretDB reports as reliably as MongoDB.
func insertNew(ctx context.Context, c *mongo.Collection, doc any) error {
	_, err := c.InsertOne(ctx, doc)
	if mongodb.IsDuplicateKey(err) {
		return nil
	}
	return classify(err)
}

// List returns up to limit members in code order, starting after the code after ("" for the
// start). The filter is a range on _id with a sort on _id, which FerretDB and MongoDB both do
// correctly.
func (s *Store) List(ctx context.Context, after string, limit int) ([]Member, error) {
	filter := bson.D{}
	if after != "" {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit))
	var ms []Member
	if err := findAll(ctx, s.members, filter, opts, &ms); err != nil {
		return nil, fmt.Errorf("list members after %q: %w", after, err)
	}
	return ms, nil
}

// InviteeKinds returns every invitee kind in code order. The collection is a short list of
// kinds of institution, not of institutions, so it is read whole.
func (s *Store) InviteeKinds(ctx context.Context) ([]InviteeKind, error) {
	var ks []InviteeKind
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	if err := findAll(ctx, s.inviteeKinds, bson.D{}, opts, &ks); err != nil {
		return nil, fmt.Errorf("list invitee kinds: %w", err)
	}
	return ks, nil
}

func findAll(ctx context.Context, c *mongo.Collection, filter bson.D, opts *options.FindOptionsBuilder, into any) error {
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return classify(err)
	}
	return classify(cur.All(ctx, into))
}

// classify marks the errors that mean the database did not answer (mongodb.ErrUnavailable).
func classify(err error) error { return mongodb.Classify(err) }
