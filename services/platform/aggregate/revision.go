package aggregate

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// Revision is one committed version of an aggregate: one entry of its history.
type Revision[T, C any] struct {
	ID          string
	AggregateID string
	Version     int64
	// State is the aggregate as the change left it; History leaves it out.
	State  T
	Change C
}

// RevisionID is the _id of version v of aggregate id.
func RevisionID(id string, v int64) string { return mongodb.VersionID(id, v) }

// revisionDoc is the stored form of a revision. The fields that name and hold the aggregate are
// named for its type ("case_id", "case"), so that a revision reads as what it is in the database.
func (s *Store[T, C]) revisionDoc(a T, change C, events []outbox.Pending) bson.D {
	id, v := a.AggregateID(), a.AggregateVersion()
	doc := bson.D{
		{Key: "_id", Value: RevisionID(id, v)},
		{Key: s.name + "_id", Value: id},
		{Key: "version", Value: v},
		{Key: s.name, Value: a},
		{Key: "change", Value: change},
	}
	if len(events) > 0 {
		doc = append(doc, bson.E{Key: outbox.Field, Value: outbox.Map(events)})
	}
	return doc
}

// state decodes the aggregate a stored revision holds.
func (s *Store[T, C]) state(raw bson.Raw) (T, error) {
	var a T
	v, err := raw.LookupErr(s.name)
	if err != nil {
		return a, fmt.Errorf("revision without its %s: %w", s.name, err)
	}
	if err := v.Unmarshal(&a); err != nil {
		return a, fmt.Errorf("decode the revision's %s: %w", s.name, err)
	}
	return a, nil
}

// stateOnly reads no more of a revision than the aggregate it holds.
func stateOnly(name string) options.Lister[options.FindOneOptions] {
	return options.FindOne().SetProjection(bson.D{{Key: name, Value: 1}})
}

// History returns up to limit revisions of aggregate id after version after, oldest first,
// without their states. The versions are dense, so it reads them one exact _id at a time until
// the first that does not exist: a page costs what its own entries cost, however long the
// history and however many aggregates there are.
func (s *Store[T, C]) History(ctx context.Context, id string, after int64, limit int) ([]Revision[T, C], error) {
	var out []Revision[T, C]
	if limit <= 0 {
		return out, nil
	}
	_, err := mongodb.Follow(ctx, s.revisions, func(v int64) string { return RevisionID(id, v) }, after,
		func(v int64, raw bson.Raw) (bool, error) {
			r := Revision[T, C]{ID: RevisionID(id, v), AggregateID: id, Version: v}
			change, err := raw.LookupErr("change")
			if err != nil {
				return false, fmt.Errorf("revision %s without its change: %w", r.ID, err)
			}
			if err := change.Unmarshal(&r.Change); err != nil {
				return false, fmt.Errorf("decode the change of revision %s: %w", r.ID, err)
			}
			out = append(out, r)
			return len(out) < limit, nil
		}, options.FindOne().SetProjection(bson.D{{Key: s.name, Value: 0}, {Key: outbox.Field, Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("read the history of %s %s: %w", s.name, id, err)
	}
	return out, nil
}
