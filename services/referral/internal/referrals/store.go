package referrals

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/keyvault"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Collections of the referrals: the current documents ("referrals"), their revisions
// ("referral_revisions"), the data keys of their sealed text, and the index of each case's
// referrals.
const (
	KeyCollection       = "referral_keys"
	CaseIndexCollection = "referral_case_index"
)

// Store keeps the referrals: the aggregate store's Create, Get, Execute and History; the key
// vault of their sealed text; and each case's referrals in the order they were made.
type Store struct {
	*aggregate.Store[Referral, Change]
	*keyvault.Vault
	caseIndex *mongo.Collection
	open      *mongo.Collection
}

// New returns the store of the referrals in db.
func New(db *mongo.Database) *Store {
	return &Store{
		Store:     aggregate.New[Referral, Change](db, aggregate.Spec{Name: "referral"}),
		Vault:     keyvault.New(db, KeyCollection),
		caseIndex: db.Collection(CaseIndexCollection),
		open:      db.Collection(OpenCollection),
	}
}

// caseEntry is the n-th referral of a case, _id "<case id>#<n>": claimed by insert, read by
// exact _id (mongodb.Follow), so that a case's list costs its own referrals.
type caseEntry struct {
	ID         string `bson:"_id"`
	ReferralID string `bson:"referral_id"`
}

func caseEntryID(caseID string, n int64) string { return caseID + "#" + strconv.FormatInt(n, 10) }

// maxPerCase bounds the referrals one case's index holds; a person is referred a few dozen
// times over years of assistance.
const maxPerCase = 10_000

// IndexUnderCase records referralID as the case's next referral, unless it is there already (a
// retried creation). It runs before the referral is created, so that every referral is in its
// case's list; an entry whose referral was then not created is skipped by OfCase.
func (s *Store) IndexUnderCase(ctx context.Context, caseID, referralID string) error {
	id := func(n int64) string { return caseEntryID(caseID, n) }
	for range maxPerCase {
		indexed := false
		last, err := mongodb.Follow(ctx, s.caseIndex, id, 0, func(_ int64, doc bson.Raw) (bool, error) {
			var e caseEntry
			if err := bson.Unmarshal(doc, &e); err != nil {
				return false, err
			}
			indexed = e.ReferralID == referralID
			return !indexed, nil
		})
		switch {
		case err != nil:
			return fmt.Errorf("index a referral of case %s: %w", caseID, err)
		case indexed:
			return nil
		case last >= maxPerCase:
			return fmt.Errorf("case %s has %d referrals, the most one case can hold", caseID, maxPerCase)
		}
		err = mongodb.Claim(ctx, s.caseIndex, caseEntry{ID: id(last + 1), ReferralID: referralID})
		if !errors.Is(err, mongodb.ErrTaken) {
			return err
		}
		// Another referral of the case took the place: look again.
	}
	return fmt.Errorf("index a referral of case %s: %w", caseID, mongodb.ErrTaken)
}

// OfCase returns up to limit referrals of the case, oldest first, from the one after position
// after, the position of the last one read, and whether the case's index goes on after it.
func (s *Store) OfCase(ctx context.Context, caseID string, after int64, limit int) ([]Referral, int64, bool, error) {
	var out []Referral
	id := func(n int64) string { return caseEntryID(caseID, n) }
	last, err := mongodb.Follow(ctx, s.caseIndex, id, after, func(_ int64, doc bson.Raw) (bool, error) {
		var e caseEntry
		if err := bson.Unmarshal(doc, &e); err != nil {
			return false, err
		}
		r, err := s.Get(ctx, e.ReferralID)
		switch {
		case errors.Is(err, aggregate.ErrNotFound):
			// A creation that stopped after indexing: there is no referral.
		case err != nil:
			return false, err
		default:
			out = append(out, r)
		}
		return len(out) < limit, nil
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("list the referrals of case %s: %w", caseID, err)
	}
	more, err := mongodb.Follow(ctx, s.caseIndex, id, last, func(int64, bson.Raw) (bool, error) { return false, nil })
	if err != nil {
		return nil, 0, false, fmt.Errorf("list the referrals of case %s: %w", caseID, err)
	}
	return out, last, more > last, nil
}

// OpenCollection holds one entry per pending referral, with its deadline: the few referrals the
// deadline sweep must look at, however many referrals there have been.
const OpenCollection = "referral_open"

// OpenEntry is a pending referral and its deadline.
type OpenEntry struct {
	ID        string    `bson:"_id"`
	DueAt     time.Time `bson:"due_at"`
	CreatedAt time.Time `bson:"created_at"`
}

// MarkOpen records r as pending. It runs before r is created, so that no pending referral
// escapes the sweep; an entry whose referral was then not created is dropped by the sweep.
func (s *Store) MarkOpen(ctx context.Context, r Referral) error {
	err := mongodb.Claim(ctx, s.open, OpenEntry{ID: r.ID, DueAt: r.DueAt, CreatedAt: r.CreatedAt})
	if err != nil && !errors.Is(err, mongodb.ErrTaken) {
		return fmt.Errorf("record referral %s as pending: %w", r.ID, err)
	}
	return nil
}

// MarkAnswered drops r's entry: it is no longer pending. Should it fail, the sweep drops it.
func (s *Store) MarkAnswered(ctx context.Context, id string) error {
	if _, err := s.open.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("drop the pending entry of referral %s: %w", id, err)
	}
	return nil
}

// Pending returns every pending entry. They are few: referrals wait days at most.
func (s *Store) Pending(ctx context.Context) ([]OpenEntry, error) {
	cur, err := s.open.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read the pending referrals: %w", err)
	}
	var out []OpenEntry
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read the pending referrals: %w", err)
	}
	return out, nil
}
