package referrals

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/keyvault"
	"github.com/nrm-albania/nrm/services/platform/lists"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// KeyCollection holds the data keys of the referrals' sealed text; "referrals" and
// "referral_revisions" are the aggregate store's.
const KeyCollection = "referral_keys"

// Store keeps the referrals: the aggregate store's Create, Get, Execute and History; the key
// vault of their sealed text; their lists; and the pending ones with their deadlines.
type Store struct {
	*aggregate.Store[Referral, Change]
	*keyvault.Vault
	lists *lists.Lists
	open  *mongo.Collection
}

// New returns the store of the referrals in db.
func New(db *mongo.Database) *Store {
	return &Store{
		Store: aggregate.New[Referral, Change](db, aggregate.Spec{Name: "referral"}),
		Vault: keyvault.New(db, KeyCollection),
		lists: lists.New(db.Collection(ListCollection)),
		open:  db.Collection(OpenCollection),
	}
}

// The referrals' lists — a case's, an institution's received and sent, all of them — are kept
// in ListCollection (package lists: every read an exact _id, so a page costs its own referrals
// however long the list). A referral is listed before it is created, so that every referral is
// in its lists; a place whose referral was then not created is skipped by readers.
const ListCollection = "referral_lists"

// The lists of a referral.
func caseList(caseID string) string { return "case/" + caseID }
func receivedBy(code string) string { return "to/" + code }
func sentBy(code string) string     { return "from/" + code }
func listsOf(r Referral) []string {
	return []string{caseList(r.CaseID), receivedBy(r.ProviderCode), sentBy(r.SenderInstitution), allList}
}

// allList is every referral.
const allList = "all"

// Enlist puts r at the end of each of its lists, unless it is there already (a retried
// creation).
func (s *Store) Enlist(ctx context.Context, r Referral) error {
	for _, list := range listsOf(r) {
		if err := s.lists.Add(ctx, list, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// collect returns a visit that loads each referral, keeps those keep takes (all when nil) in
// out, and skips those never created.
func (s *Store) collect(out *[]Referral, keep func(Referral) bool) lists.Visit {
	return func(ctx context.Context, id string) (bool, error) {
		r, err := s.Get(ctx, id)
		if errors.Is(err, aggregate.ErrNotFound) {
			return false, nil
		}
		if err != nil || (keep != nil && !keep(r)) {
			return false, err
		}
		*out = append(*out, r)
		return true, nil
	}
}

// OfCase returns up to limit referrals of the case, oldest first, from the one after place
// after, the place of the last one read, and whether the case's list goes on after it.
func (s *Store) OfCase(ctx context.Context, caseID string, after int64, limit int) ([]Referral, int64, bool, error) {
	var out []Referral
	page, err := s.lists.Oldest(ctx, caseList(caseID), after, limit, 0, s.collect(&out, nil))
	if err != nil {
		return nil, 0, false, fmt.Errorf("list the referrals of case %s: %w", caseID, err)
	}
	return out, page.Next, page.More, nil
}

// Party says whose list: referrals received by an institution, sent by one, or all of them.
type Party struct {
	ReceivedBy, SentBy string
}

func (p Party) list() string {
	switch {
	case p.ReceivedBy != "":
		return receivedBy(p.ReceivedBy)
	case p.SentBy != "":
		return sentBy(p.SentBy)
	}
	return allList
}

// ScanLimit bounds the places one page of a filtered list reads, so that a filter matching few
// referrals answers in bounded time: the page may then be short, even empty, and still have a
// next one.
const ScanLimit = 500

// Newest returns up to limit referrals of the party's list that keep says to keep, newest first,
// from the place before `before` (0: the newest), the place to resume before, and whether the
// list goes on.
func (s *Store) Newest(ctx context.Context, party Party, before int64, limit int, keep func(Referral) bool) ([]Referral, int64, bool, error) {
	var out []Referral
	page, err := s.lists.Newest(ctx, party.list(), before, limit, ScanLimit, s.collect(&out, keep))
	if err != nil {
		return nil, 0, false, fmt.Errorf("list %s: %w", party.list(), err)
	}
	return out, page.Next, page.More, nil
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
