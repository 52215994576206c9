package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// IndexCollection holds the blind indexes of identities. The cases under one index sit in slots,
// _id "<index>#1", "<index>#2", …: every lookup is an exact _id, the one query FerretDB on
// PostgreSQL serves from an index (a range of _id is a scan there, docs/decisions.md 14), and
// claiming a slot is an insert (mongodb.Claim), safe with concurrent registrations; reading an
// index follows its slots from the first (mongodb.Follow), as versions are followed. The
// indexes are keyed hashes: they reveal nothing of the identity without the index key.
const IndexCollection = "case_blind_indexes"

// maxSlots bounds the cases one index can hold; a real person is registered a handful of times.
const maxSlots = 1000

// IndexEntry is one blind index of a case.
type IndexEntry struct {
	Index  string `bson:"index"`
	CaseID string `bson:"case_id"` // "" once the case's identity is erased
	// Match says what the index covers, e.g. "DUPLICATE_MATCH_DOCUMENT".
	Match string `bson:"match"`
}

type indexDoc struct {
	ID         string `bson:"_id"`
	IndexEntry `bson:",inline"`
}

func slotID(index string, slot int) string { return fmt.Sprintf("%s#%d", index, slot) }

// AddIndexes records a case's blind indexes, each in the first free slot of its index. It runs
// before the case is written, so a case never exists without its indexes; the entries of a case
// that was then not written are skipped by those who load the case.
func (s *Store) AddIndexes(ctx context.Context, entries []IndexEntry) error {
	coll := s.db.Collection(IndexCollection)
	for _, e := range entries {
		for slot := 1; ; slot++ {
			if slot > maxSlots {
				return fmt.Errorf("blind index of case %s: all %d slots taken", e.CaseID, maxSlots)
			}
			err := mongodb.Claim(ctx, coll, indexDoc{ID: slotID(e.Index, slot), IndexEntry: e})
			if err == nil {
				break
			}
			if !errors.Is(err, mongodb.ErrTaken) {
				return fmt.Errorf("blind index of case %s: %w", e.CaseID, err)
			}
			var taken indexDoc
			if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: slotID(e.Index, slot)}}).Decode(&taken); err == nil && taken.CaseID == e.CaseID {
				break // a retried registration: already indexed
			}
		}
	}
	return nil
}

// FindIndexed returns the entries of every case that has one of the indexes.
func (s *Store) FindIndexed(ctx context.Context, indexes []string) ([]IndexEntry, error) {
	var out []IndexEntry
	for _, idx := range indexes {
		err := s.slots(ctx, idx, func(d indexDoc) bool {
			if d.CaseID != "" {
				out = append(out, d.IndexEntry)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RemoveIndexes clears a case's slots (its identity was erased: nothing may find it). A slot is
// emptied rather than deleted, since a lookup stops at the first missing slot.
func (s *Store) RemoveIndexes(ctx context.Context, caseID string, indexes []string) error {
	coll := s.db.Collection(IndexCollection)
	for _, idx := range indexes {
		var failed error
		err := s.slots(ctx, idx, func(d indexDoc) bool {
			if d.CaseID != caseID {
				return true
			}
			_, failed = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "case_id", Value: ""}}}})
			return false
		})
		if err = errors.Join(err, failed); err != nil {
			return fmt.Errorf("remove a blind index of case %s: %w", caseID, err)
		}
	}
	return nil
}

// slots visits an index's slots in order until visit returns false or a slot is missing.
func (s *Store) slots(ctx context.Context, index string, visit func(indexDoc) bool) error {
	_, err := mongodb.Follow(ctx, s.db.Collection(IndexCollection), func(slot int64) string { return slotID(index, int(slot)) }, 0,
		func(slot int64, raw bson.Raw) (bool, error) {
			var d indexDoc
			if err := bson.Unmarshal(raw, &d); err != nil {
				return false, err
			}
			return visit(d) && slot < maxSlots, nil
		})
	if err != nil {
		return fmt.Errorf("look up a blind index: %w", err)
	}
	return nil
}
