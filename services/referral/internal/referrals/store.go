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

// KeyCollection holds the data keys of the referrals' sealed text; "referrals" and
// "referral_revisions" are the aggregate store's.
const KeyCollection = "referral_keys"

// Store keeps the referrals: the aggregate store's Create, Get, Execute and History; the key
// vault of their sealed text; their lists; and the pending ones with their deadlines.
type Store struct {
	*aggregate.Store[Referral, Change]
	*keyvault.Vault
	lists *mongo.Collection
	open  *mongo.Collection
}

// New returns the store of the referrals in db.
func New(db *mongo.Database) *Store {
	return &Store{
		Store: aggregate.New[Referral, Change](db, aggregate.Spec{Name: "referral"}),
		Vault: keyvault.New(db, KeyCollection),
		lists: db.Collection(ListCollection),
		open:  db.Collection(OpenCollection),
	}
}

// The referrals' lists — a case's, an institution's received and sent, all of them — are kept
// in ListCollection as claims "<list>#<n>" (n = 1, 2, …, in the order the referrals were made),
// each naming a referral, and a membership claim "<list>@<referral id>" naming its place: every
// read is an exact _id, so a page costs its own referrals however long the list. The place is
// claimed before the membership; a creation retried after stopping in between claims a second
// place, which readers skip because the membership names the other.
const ListCollection = "referral_lists"

// The lists of a referral.
func caseList(caseID string) string { return "case/" + caseID }
func receivedBy(code string) string { return "to/" + code }
func sentBy(code string) string     { return "from/" + code }
func listsOf(r Referral) []string {
	return []string{caseList(r.CaseID), receivedBy(r.ProviderCode), sentBy(r.SenderInstitution), allList}
}
func placeID(list string, n int64) string     { return list + "#" + strconv.FormatInt(n, 10) }
func memberID(list, referralID string) string { return list + "@" + referralID }

// allList is every referral.
const allList = "all"

type place struct {
	ID         string `bson:"_id"`
	ReferralID string `bson:"referral_id"`
}

type membership struct {
	ID string `bson:"_id"`
	N  int64  `bson:"n"`
}

// maxList bounds a list's places (a few thousand referrals a year, for decades).
const maxList = 1 << 40

// Enlist puts r at the end of each of its lists, unless it is there already (a retried
// creation). It runs before r is created, so that every referral is in its lists; a place whose
// referral was then not created is skipped by readers.
func (s *Store) Enlist(ctx context.Context, r Referral) error {
	for _, list := range listsOf(r) {
		if err := s.enlist(ctx, list, r.ID); err != nil {
			return fmt.Errorf("list referral %s under %s: %w", r.ID, list, err)
		}
	}
	return nil
}

func (s *Store) enlist(ctx context.Context, list, referralID string) error {
	var m membership
	if found, err := mongodb.FindByID(ctx, s.lists, memberID(list, referralID), &m); err != nil || found {
		return err
	}
	last, err := s.last(ctx, list)
	if err != nil {
		return err
	}
	for {
		n := last + 1
		err := mongodb.Claim(ctx, s.lists, place{ID: placeID(list, n), ReferralID: referralID})
		if err == nil {
			err = mongodb.Claim(ctx, s.lists, membership{ID: memberID(list, referralID), N: n})
			if errors.Is(err, mongodb.ErrTaken) {
				return nil // a concurrent retry placed it too; readers follow the membership
			}
			return err
		}
		if !errors.Is(err, mongodb.ErrTaken) {
			return err
		}
		if last, err = s.last(ctx, list); err != nil { // another referral took the place
			return err
		}
	}
}

// last is the number of places of a list: a few lookups (mongodb.LastPresent).
func (s *Store) last(ctx context.Context, list string) (int64, error) {
	return mongodb.LastPresent(ctx, 0, maxList, func(ctx context.Context, n int64) (bool, error) {
		return mongodb.FindByID(ctx, s.lists, placeID(list, n), &struct{}{})
	})
}

// listed returns the referral at place n of list, and false for a place to skip: one whose
// referral's membership names another place, or that was never created.
func (s *Store) listed(ctx context.Context, list string, n int64) (Referral, bool, error) {
	var p place
	if found, err := mongodb.FindByID(ctx, s.lists, placeID(list, n), &p); err != nil || !found {
		return Referral{}, false, err
	}
	var m membership
	if found, err := mongodb.FindByID(ctx, s.lists, memberID(list, p.ReferralID), &m); err != nil || !found || m.N != n {
		return Referral{}, false, err
	}
	r, err := s.Get(ctx, p.ReferralID)
	if errors.Is(err, aggregate.ErrNotFound) {
		return Referral{}, false, nil
	}
	return r, err == nil, err
}

// OfCase returns up to limit referrals of the case, oldest first, from the one after place
// after, the place of the last one read, and whether the case's list goes on after it.
func (s *Store) OfCase(ctx context.Context, caseID string, after int64, limit int) ([]Referral, int64, bool, error) {
	list := caseList(caseID)
	last, err := s.last(ctx, list)
	if err != nil {
		return nil, 0, false, err
	}
	var out []Referral
	n := after
	for n < last && len(out) < limit {
		n++
		r, ok, err := s.listed(ctx, list, n)
		if err != nil {
			return nil, 0, false, fmt.Errorf("list the referrals of case %s: %w", caseID, err)
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, n, n < last, nil
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
	list := party.list()
	if before <= 0 {
		last, err := s.last(ctx, list)
		if err != nil {
			return nil, 0, false, err
		}
		before = last + 1
	}
	var out []Referral
	n := before
	for scanned := 0; n > 1 && len(out) < limit && scanned < ScanLimit; scanned++ {
		n--
		r, ok, err := s.listed(ctx, list, n)
		if err != nil {
			return nil, 0, false, fmt.Errorf("list %s: %w", list, err)
		}
		if ok && keep(r) {
			out = append(out, r)
		}
	}
	return out, n, n > 1, nil
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
