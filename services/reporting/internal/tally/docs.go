package tally

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/journal"
)

// stateField is where a document keeps its kind's state: doc.State, inline in journal.Doc.
const stateField = "state"

// States calls visit with the state of every document that filter matches, in no particular
// order, and stops at visit's first error. filter names fields of the state S as they are stored
// (e.g. "facts.day"); only the states are read, not the moves kept for crash recovery. It scans
// the documents unless filter names _id: for what is asked for rarely, such as a year's
// publications, where an index that every event would keep up costs more.
func (p *Projection[S, E]) States(ctx context.Context, filter bson.D, visit func(id string, s S) error) error {
	inState := make(bson.D, len(filter))
	for i, e := range filter {
		if e.Key != "_id" {
			e.Key = stateField + "." + e.Key
		}
		inState[i] = e
	}
	cur, err := p.docColl.Find(ctx, inState, options.Find().SetProjection(bson.D{{Key: stateField, Value: 1}}))
	if err != nil {
		return fmt.Errorf("read %s: %w", p.kind.Docs, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d journal.Doc[doc[S]]
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("decode a document of %s: %w", p.kind.Docs, err)
		}
		if err := visit(d.ID, d.State.State); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read %s: %w", p.kind.Docs, err)
	}
	return nil
}

// Load stores, in bulk, what Apply would store after applying each event of first once, as the
// first event of its document (keyed by id), into collections that hold nothing yet: the
// documents and the buckets, computed in memory through the kind's own functions (the journals'
// entries are left out; nothing but Apply reads them). It loads a history far faster than
// applying it event by event, for benchmarks; counting there already would count twice.
func (p *Projection[S, E]) Load(ctx context.Context, first map[string]E) error {
	var docs []any
	days, months := map[string]*journal.Doc[bucket]{}, map[string]*journal.Doc[bucket]{}
	fold := func(in map[string]*journal.Doc[bucket], id string, c change) {
		b := in[id]
		if b == nil {
			b = &journal.Doc[bucket]{ID: id}
			in[id] = b
		}
		b.Version++
		b.State = b.State.with(c)
	}
	for id, e := range first {
		d := journal.Doc[doc[S]]{ID: id, Version: 1, State: p.kind.apply(doc[S]{}, e)}
		docs = append(docs, d)
		for _, c := range moveOf(d) {
			fold(days, c.bucket(), c)
			if p.months != nil {
				mc := c
				mc.Marker += "/" + c.bucket()
				fold(months, c.bucket()[:7], mc)
			}
		}
	}
	if err := insert(ctx, p.docColl, docs); err != nil {
		return err
	}
	if err := insert(ctx, p.buckets, values(days)); err != nil {
		return err
	}
	if p.months == nil {
		return nil
	}
	return insert(ctx, p.monthly, values(months))
}

func values(m map[string]*journal.Doc[bucket]) []any {
	out := make([]any, 0, len(m))
	for _, b := range m {
		out = append(out, *b)
	}
	return out
}

// insert inserts docs into coll, a thousand at a time.
func insert(ctx context.Context, coll *mongo.Collection, docs []any) error {
	for len(docs) > 0 {
		n := min(len(docs), 1000)
		if _, err := coll.InsertMany(ctx, docs[:n]); err != nil {
			return fmt.Errorf("load %s: %w", coll.Name(), err)
		}
		docs = docs[n:]
	}
	return nil
}
