package mongodb

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The services commit without multi-document transactions, which FerretDB lacks, and without
// compare-and-set updates, which FerretDB does not make atomic (docs/decisions.md 4). What every
// backend makes atomic is an insert, guarded by the unique _id. So each commit is a claim: a
// document whose _id names what it takes — version 7 of a case ("<id>@7"), the next number of a
// sequence, a slot of an index — inserted once, by exactly one writer. Numbered claims are then
// read back one exact _id at a time (Follow), the lookup FerretDB serves from an index on both
// of its backends; a range of _id would scan there.

// ErrTaken means another writer claimed the _id first: nothing was written.
var ErrTaken = errors.New("already claimed by another writer")

// Claim inserts doc, whose _id names what it claims. It returns ErrTaken when the _id exists.
func Claim(ctx context.Context, coll *mongo.Collection, doc any) error {
	_, err := coll.InsertOne(ctx, doc)
	if IsDuplicateKey(err) {
		return ErrTaken
	}
	return err
}

// FindByID decodes the document of coll whose _id is id into v; false when there is none. A
// lookup by exact _id is the cheapest read on every backend, and how claims are read.
func FindByID(ctx context.Context, coll *mongo.Collection, id string, v any, opts ...options.Lister[options.FindOneOptions]) (bool, error) {
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, opts...).Decode(v)
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	}
	return false, Classify(err)
}

// VersionID is the _id of the claim on version v of document id: "<id>@<v>".
func VersionID(id string, v int64) string { return id + "@" + strconv.FormatInt(v, 10) }

// Follow reads the claims numbered after from, id(from+1), id(from+2), …, one exact _id at a
// time, and hands each to visit until one is missing or visit returns false. It returns the
// number of the last claim visited (from when none). Numbers are dense: a claim is only ever
// made on the number after one that exists.
func Follow(ctx context.Context, coll *mongo.Collection, id func(n int64) string, from int64,
	visit func(n int64, doc bson.Raw) (bool, error), opts ...options.Lister[options.FindOneOptions]) (int64, error) {
	n := from
	for {
		raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id(n + 1)}}, opts...).Raw()
		if IsNotFound(err) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read %s: %w", id(n+1), err)
		}
		more, err := visit(n+1, raw)
		if err != nil {
			return n, err
		}
		n++
		if !more {
			return n, nil
		}
	}
}

// LastPresent returns the last of the positions from, from+1, … up to limit that is present,
// positions being present up to some point and absent after it; from is taken as present. It
// looks at from+1, from+2, from+4… until one is absent, then bisects: a few exact lookups
// whatever the distance. The audit chain's head, each object's last index entry and the end of
// a list of claims are found so.
func LastPresent(ctx context.Context, from, limit int64, present func(context.Context, int64) (bool, error)) (int64, error) {
	lo := from
	var hi int64 // the first position known to be absent
	for step := int64(1); ; step *= 2 {
		s := lo + step
		if s > limit {
			hi = limit + 1
			break
		}
		ok, err := present(ctx, s)
		if err != nil {
			return 0, err
		}
		if !ok {
			hi = s
			break
		}
		lo = s
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := present(ctx, mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}
