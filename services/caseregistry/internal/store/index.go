package store

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// IndexCollection holds the blind indexes of identities: one document per (index, case), _id
// "<index>|<case id>", so that the cases of an index are a range of _id, which every backend
// serves from its _id index (FerretDB on SQLite scans, see docs/decisions.md 14). The indexes are
// keyed hashes: they reveal nothing of the identity without the index key.
const IndexCollection = "case_blind_indexes"

// IndexEntry is one blind index of a case.
type IndexEntry struct {
	Index  string `bson:"index"`
	CaseID string `bson:"case_id"`
	// Match says what the index covers, e.g. "DUPLICATE_MATCH_DOCUMENT".
	Match string `bson:"match"`
}

type indexDoc struct {
	ID         string `bson:"_id"`
	IndexEntry `bson:",inline"`
}

func indexDocID(index, caseID string) string { return index + "|" + caseID }

// AddIndexes records a case's blind indexes. It runs before the case is written, so a case never
// exists without its indexes; an index of a case that was then not written is ignored by
// FindCases' callers, which load each case.
func (s *Store) AddIndexes(ctx context.Context, entries []IndexEntry) error {
	coll := s.db.Collection(IndexCollection)
	for _, e := range entries {
		if _, err := coll.InsertOne(ctx, indexDoc{ID: indexDocID(e.Index, e.CaseID), IndexEntry: e}); err != nil && !mongodb.IsDuplicateKey(err) {
			return fmt.Errorf("blind index of case %s: %w", e.CaseID, err)
		}
	}
	return nil
}

// FindIndexed returns the entries of every case that has one of the indexes.
func (s *Store) FindIndexed(ctx context.Context, indexes []string) ([]IndexEntry, error) {
	var out []IndexEntry
	for _, idx := range indexes {
		cur, err := s.db.Collection(IndexCollection).Find(ctx, bson.D{{Key: "_id", Value: bson.D{
			{Key: "$gte", Value: idx + "|"}, {Key: "$lt", Value: idx + "|~"},
		}}})
		if err != nil {
			return nil, fmt.Errorf("look up a blind index: %w", err)
		}
		var docs []indexDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, fmt.Errorf("look up a blind index: %w", err)
		}
		for _, d := range docs {
			if strings.HasPrefix(d.ID, idx+"|") {
				out = append(out, d.IndexEntry)
			}
		}
	}
	return out, nil
}

// RemoveIndexes deletes a case's blind indexes (its identity was erased: nothing may find it).
func (s *Store) RemoveIndexes(ctx context.Context, caseID string, indexes []string) error {
	for _, idx := range indexes {
		if _, err := s.db.Collection(IndexCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: indexDocID(idx, caseID)}}); err != nil {
			return fmt.Errorf("remove a blind index of case %s: %w", caseID, err)
		}
	}
	return nil
}
