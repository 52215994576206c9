package audit

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/pagination"
)

// Filter narrows List. Zero fields do not filter.
type Filter struct {
	// ObjectID keeps the records whose object ids include it (e.g. a case id).
	ObjectID string
	// Institution and Subject keep the records of calls by that principal, directly or on its
	// behalf: the caller or the on-behalf-of principal matches. With both, they must match the
	// same one of the two.
	Institution string
	Subject     string
	// From keeps records made at or after it; To those made before it.
	From, To time.Time
}

// List returns a page of the records of db's chain that match f, newest (highest seq) first,
// and the token of the next page ("" after the last). pageSize 0 means
// pagination.DefaultPageSize; it is capped at pagination.MaxPageSize. The token carries the seq
// of the last record returned; invalid tokens and a From after To are InvalidArgument errors
// (apierr).
//
// With an object, the records are read through the object index by exact _id (listObject): the
// cost is that object's records, whatever the size of the trail; a page may then hold fewer
// records than asked for when other filters match few of them. Without an object or a
// principal, the chain is read downward by exact _id (listRecent): a page costs its own records.
// With a principal, the query uses only what MongoDB and FerretDB both do correctly: equality on
// top-level fields, $or of such equalities, a range on time and a range on _id, sorted by _id.
// EnsureIndexes makes it an index scan on MongoDB; on FerretDB with SQLite it scans the
// collection.
func List(ctx context.Context, db *mongo.Database, f Filter, pageSize int, pageToken string) ([]Record, string, error) {
	if pageSize <= 0 {
		pageSize = pagination.DefaultPageSize
	}
	pageSize = min(pageSize, pagination.MaxPageSize)
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		return nil, "", apierr.InvalidField("from", "must not be after to")
	}
	if f.ObjectID != "" {
		return listObject(ctx, db, f, pageSize, pageToken)
	}
	before, err := decodePageToken(pageToken)
	if err != nil {
		return nil, "", err
	}
	if f.Institution == "" && f.Subject == "" {
		return listRecent(ctx, db, f, pageSize, before)
	}

	cur, err := db.Collection(Collection).Find(ctx, listFilter(f, before),
		options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(pageSize+1)).
			SetProjection(bson.D{{Key: "outbox", Value: 0}}))
	if err != nil {
		return nil, "", fmt.Errorf("list audit records: %w", classify(err))
	}
	var docs []document
	if err := cur.All(ctx, &docs); err != nil {
		return nil, "", fmt.Errorf("list audit records: %w", classify(err))
	}
	next := ""
	if len(docs) > pageSize {
		docs = docs[:pageSize]
		next = pagination.Token(docs[pageSize-1].ID)
	}
	out := make([]Record, len(docs))
	for i, d := range docs {
		out[i] = d.record()
	}
	return out, next, nil
}

// validPageToken reports whether token is one List returns for a list with (or without) an
// object: the two kinds resume at different positions.
func validPageToken(objectID, token string) bool {
	if objectID != "" {
		_, err := decodeObjectPageToken(token)
		return err == nil
	}
	_, err := decodePageToken(token)
	return err == nil
}

// decodePageToken returns the seq a page token resumes before; maxSeq+1 for no token.
func decodePageToken(token string) (int64, error) {
	if token == "" {
		return maxSeq + 1, nil
	}
	after, err := pagination.After(token)
	if err != nil {
		return 0, err
	}
	seq, ok := parseDocumentID(after)
	if !ok {
		return 0, apierr.InvalidField("page_token", "is not a token returned by this API")
	}
	return seq, nil
}

// listFilter is the query of a list without an object.
func listFilter(f Filter, before int64) bson.D {
	filter := seqRange(1, before-1)
	if f.Institution != "" || f.Subject != "" {
		var direct, onBehalf bson.D
		if f.Institution != "" {
			direct = append(direct, bson.E{Key: "institution", Value: f.Institution})
			onBehalf = append(onBehalf, bson.E{Key: "obo_institution", Value: f.Institution})
		}
		if f.Subject != "" {
			direct = append(direct, bson.E{Key: "subject", Value: f.Subject})
			onBehalf = append(onBehalf, bson.E{Key: "obo_subject", Value: f.Subject})
		}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{direct, onBehalf}})
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		var when bson.D
		if !f.From.IsZero() {
			when = append(when, bson.E{Key: "$gte", Value: f.From})
		}
		if !f.To.IsZero() {
			when = append(when, bson.E{Key: "$lt", Value: f.To})
		}
		filter = append(filter, bson.E{Key: "time", Value: when})
	}
	return filter
}
