// Package backlog keeps the secretariat's agenda backlog: what waits for the Authority (a status
// decision on a case registered as a potential victim; a referral that went overdue, was declined
// or expired), filled from the registry's and the referral service's events, emptied by their
// later events or by the Authority's decisions.
//
// The backlog holds the open items only (agenda_backlog, _id the item's key), so reading it costs
// what is open, however many events have passed.
//
// Whether an event still applies depends on the events before it: JetStream redelivers, and
// replicas handle one key's events at once, so a case's registration may be applied after its
// status decision. Each key therefore has a record (agenda_backlog_seen, _id the key) of the
// highest source version applied and of the item that version left open, if any; an event applies
// only if its version is higher. The record cannot be guarded by a conditional upsert (filter
// {_id, version: {$lt: v}}): on FerretDB that matches and then writes by _id in two steps, not
// atomically (docs/decisions.md 4), and measured on the embedded store, of 40 concurrent upserts
// of versions 1 to 40 the one of version 37 was stored last, over 40, without an error. So the
// record is a journal document (services/platform/journal): each change is the insert of a
// numbered entry (agenda_backlog_seen_journal), which exactly one writer wins on every backend.
//
// The open item is a copy of its record, written by whoever changed the record, by _id alone. A
// slower writer may put back what an older version left; so every writer, once it has written,
// reads the record again and writes again if it changed meanwhile. The last write is thus always
// followed by a check, and the backlog ends as the newest version left it. A writer that stops in
// between leaves the item as it wrote it until the key's next change, or the redelivery of its
// event, writes it again.
package backlog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Collections of the backlog.
const (
	openCollection        = "agenda_backlog"
	seenCollection        = "agenda_backlog_seen"
	seenJournalCollection = "agenda_backlog_seen_journal"
)

// Kinds of items.
const (
	// KindStatusDecision: a case registered as a potential victim waits for a status decision.
	KindStatusDecision = "status_decision"
	// KindReferralFollowUp: a referral went overdue, was declined or expired.
	KindReferralFollowUp = "referral_follow_up"
	// KindReportApproval: a report was circulated and awaits the members' approval.
	KindReportApproval = "report_approval"
	// KindDataMissing: a member had not submitted a month's data by its due day.
	KindDataMissing = "data_missing"
)

// Item is one open matter of the backlog. It names cases and referrals by code and id, never a
// person.
type Item struct {
	// Key is "status/<case id>", "referral/<referral id>", "report/<report id>" or
	// "data/<member>/<period>".
	Key string `bson:"_id"`
	// Kind is KindStatusDecision or KindReferralFollowUp.
	Kind string `bson:"kind"`
	// Title says what waits, by codes and ids: "Status decision pending: VT-2026-00012".
	Title       string   `bson:"title"`
	CaseCodes   []string `bson:"case_codes"`
	ReferralIDs []string `bson:"referral_ids,omitempty"`
	ReportIDs   []string `bson:"report_ids,omitempty"`
	// Institution is the member a data_missing item concerns.
	Institution string `bson:"institution,omitempty"`
	// Since is when the event that opened the item happened: the registration, the referral
	// going overdue, being declined or expiring.
	Since time.Time `bson:"since"`
	// Version is the version of the case or referral whose event opened the item.
	Version int64 `bson:"version"`
}

// seen is what the changes applied to one key left: the highest source version, and the item
// left open, if any.
type seen struct {
	Applied int64 `bson:"applied"`
	Open    *Item `bson:"open,omitempty"`
}

// change is one journal entry: an event of source version Version that leaves Open (nil: nothing
// open), or, with Version 0, the Authority's resolution.
type change struct {
	Version int64 `bson:"version"`
	Open    *Item `bson:"open,omitempty"`
}

// after is the record after c. Which changes apply is decided before they are committed (apply,
// Resolve); replaying them must give what their writers computed, so this only records them.
func after(s seen, c change) seen {
	return seen{Applied: max(s.Applied, c.Version), Open: c.Open}
}

// maxRewrites bounds how often a writer writes an item again because its record kept changing.
const maxRewrites = 10

// Store is the backlog in the secretariat's database.
type Store struct {
	open *mongo.Collection
	seen *journal.Journal[seen, change]
}

// New returns the backlog kept in db. It needs no index: it is read whole, and otherwise only by
// _id.
func New(db *mongo.Database) *Store {
	return &Store{
		open: db.Collection(openCollection),
		seen: journal.New(db, seenCollection, seenJournalCollection, after),
	}
}

// Open returns the open items, the oldest first. It reads the whole collection: it holds only
// what is open, a few hundred items at most, and FerretDB would sort in memory anyway.
func (s *Store) Open(ctx context.Context) ([]Item, error) {
	cur, err := s.open.Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read the agenda backlog: %w", mongodb.Classify(err))
	}
	var items []Item
	if err := cur.All(ctx, &items); err != nil {
		return nil, fmt.Errorf("read the agenda backlog: %w", mongodb.Classify(err))
	}
	slices.SortFunc(items, func(a, b Item) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.Key, b.Key))
	})
	return items, nil
}

// Resolve closes the items of keys, which a decision of the Authority settled. The closure goes
// into the items' records, so that a redelivered event cannot open them again; their source
// versions stay, so that a later event of the case or referral can.
func (s *Store) Resolve(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		_, err := s.seen.Append(ctx, key, func(d journal.Doc[seen]) (change, bool) {
			return change{}, d.State.Open != nil
		})
		if err == nil {
			err = s.copyOut(ctx, key)
		}
		if err != nil {
			return fmt.Errorf("resolve %s: %w", key, err)
		}
	}
	return nil
}

// ResolveConcerning closes the status items of caseCodes and the follow-ups of referralIDs. A
// decision on a case's status leaves its referrals' follow-ups open. It picks them from the whole
// backlog, which is small enough to need no index on case_codes or referral_ids.
func (s *Store) ResolveConcerning(ctx context.Context, caseCodes, referralIDs []string) error {
	items, err := s.Open(ctx)
	if err != nil {
		return err
	}
	var keys []string
	for _, it := range items {
		switch {
		case it.Kind == KindStatusDecision && containsAny(it.CaseCodes, caseCodes),
			it.Kind == KindReferralFollowUp && containsAny(it.ReferralIDs, referralIDs):
			keys = append(keys, it.Key)
		}
	}
	return s.Resolve(ctx, keys...)
}

func containsAny(have, want []string) bool {
	return slices.ContainsFunc(have, func(h string) bool { return slices.Contains(want, h) })
}

// apply commits c to key's record unless an event of its version or a later one is in already,
// then copies the record out, even when c was a duplicate: its first delivery may have stopped
// before doing so.
func (s *Store) apply(ctx context.Context, key string, c change) error {
	_, err := s.seen.Append(ctx, key, func(d journal.Doc[seen]) (change, bool) {
		return c, c.Version > d.State.Applied
	})
	if err != nil {
		return err
	}
	return s.copyOut(ctx, key)
}

// copyOut makes key's open item what its record says, and again while the record changes under
// it (see the package comment).
func (s *Store) copyOut(ctx context.Context, key string) error {
	d, err := s.seen.Settled(ctx, key)
	if err != nil {
		return err
	}
	for range maxRewrites {
		if err := s.write(ctx, key, d.State.Open); err != nil {
			return err
		}
		now, err := s.seen.Settled(ctx, key)
		if err != nil {
			return err
		}
		if now.Version == d.Version {
			return nil
		}
		d = now
	}
	return fmt.Errorf("%w: %s kept changing while written", journal.ErrBusy, key)
}

// write stores it as key's open item, or deletes key's item when it is nil. A replace that
// matches nothing is followed by an insert rather than done as an upsert, because FerretDB does
// not report an upsert that lost a race as a duplicate key; when the insert loses one, the
// document exists and the replace is made again.
func (s *Store) write(ctx context.Context, key string, it *Item) error {
	byID := bson.D{{Key: "_id", Value: key}}
	var err error
	if it == nil {
		_, err = s.open.DeleteOne(ctx, byID)
	} else {
		var r *mongo.UpdateResult
		r, err = s.open.ReplaceOne(ctx, byID, it)
		if err == nil && r.MatchedCount == 0 {
			_, err = s.open.InsertOne(ctx, it)
			if mongodb.IsDuplicateKey(err) {
				_, err = s.open.ReplaceOne(ctx, byID, it)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("write the backlog's item %s: %w", key, mongodb.Classify(err))
	}
	return nil
}
