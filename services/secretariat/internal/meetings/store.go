package meetings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/lists"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Store keeps the meetings: the aggregate store's Create, Get, Execute and History; their lists
// (all of them, and each month's, for the compliance view); and the open action items.
type Store struct {
	*aggregate.Store[Meeting, Change]
	lists *lists.Lists
	open  *mongo.Collection
	refs  *mongo.Collection
}

// ListCollection holds the meetings' lists (package lists); OpenActionCollection one entry per
// open action item, the few the backlog and the reminders look at, however many meetings have
// been held.
// ReferenceCollection one claim per reference given ("MB-2026-12-R"), naming its meeting.
const (
	ListCollection       = "meeting_lists"
	OpenActionCollection = "meeting_actions_open"
	ReferenceCollection  = "meeting_references"
)

// New returns the store of the meetings in db.
func New(db *mongo.Database) *Store {
	return &Store{
		Store: aggregate.New[Meeting, Change](db, aggregate.Spec{Name: "meeting"}),
		lists: lists.New(db.Collection(ListCollection)),
		open:  db.Collection(OpenActionCollection),
		refs:  db.Collection(ReferenceCollection),
	}
}

type reference struct {
	ID        string `bson:"_id"`
	MeetingID string `bson:"meeting_id"`
}

// ClaimReference claims ref for the meeting, and reports whether it is the meeting's: claimed
// now, or before by the same meeting (a retried scheduling). A reference claimed by a meeting
// that was then not created stays unused: references may skip, never repeat.
func (s *Store) ClaimReference(ctx context.Context, ref, meetingID string) (bool, error) {
	err := mongodb.Claim(ctx, s.refs, reference{ID: ref, MeetingID: meetingID})
	if !errors.Is(err, mongodb.ErrTaken) {
		return err == nil, wrapRef(err, ref)
	}
	var r reference
	if _, err := mongodb.FindByID(ctx, s.refs, ref, &r); err != nil {
		return false, wrapRef(err, ref)
	}
	return r.MeetingID == meetingID, nil
}

func wrapRef(err error, ref string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("claim the reference %s: %w", ref, err)
}

const allList = "all"

func monthList(month string) string { return "month/" + month }

// Enlist puts m in the list of all meetings and in its month's. It runs before m is created, so
// that no meeting escapes its lists; a place whose meeting was then not created is skipped.
func (s *Store) Enlist(ctx context.Context, m Meeting, month string) error {
	for _, list := range []string{allList, monthList(month)} {
		if err := s.lists.Add(ctx, list, m.ID); err != nil {
			return err
		}
	}
	return nil
}

// EnlistMonth adds m to another month's list (a meeting postponed across a month's end); the
// compliance view checks each listed meeting's own month.
func (s *Store) EnlistMonth(ctx context.Context, m Meeting, month string) error {
	return s.lists.Add(ctx, monthList(month), m.ID)
}

func (s *Store) collect(out *[]Meeting) lists.Visit {
	return func(ctx context.Context, id string) (bool, error) {
		m, err := s.Get(ctx, id)
		if errors.Is(err, aggregate.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		*out = append(*out, m)
		return true, nil
	}
}

// Newest returns up to limit meetings, the most recently scheduled first, from the place before
// `before` (0: the newest), the place to resume before, and whether the list goes on.
func (s *Store) Newest(ctx context.Context, before int64, limit int) ([]Meeting, int64, bool, error) {
	var out []Meeting
	page, err := s.lists.Newest(ctx, allList, before, limit, 0, s.collect(&out))
	if err != nil {
		return nil, 0, false, fmt.Errorf("list the meetings: %w", err)
	}
	return out, page.Next, page.More, nil
}

// OfMonth returns the meetings listed under a month ("YYYY-MM"): a few.
func (s *Store) OfMonth(ctx context.Context, month string) ([]Meeting, error) {
	var out []Meeting
	if _, err := s.lists.Oldest(ctx, monthList(month), 0, 1000, 0, s.collect(&out)); err != nil {
		return nil, fmt.Errorf("list the meetings of %s: %w", month, err)
	}
	return out, nil
}

// OpenAction is an open action item and its due date.
type OpenAction struct {
	ID        string `bson:"_id"`
	MeetingID string `bson:"meeting_id"`
	Owner     string `bson:"owner"`
	Due       string `bson:"due"`
}

// MarkOpen records action items as open. It runs before their decision commits, so that no open
// item escapes the backlog; an entry whose decision then did not commit is dropped by readers
// (Actions).
func (s *Store) MarkOpen(ctx context.Context, meetingID string, as []Action) error {
	for _, a := range as {
		err := mongodb.Claim(ctx, s.open, OpenAction{ID: a.ID, MeetingID: meetingID, Owner: a.Owner, Due: a.Due})
		if err != nil && !errors.Is(err, mongodb.ErrTaken) {
			return fmt.Errorf("record action item %s as open: %w", a.ID, err)
		}
	}
	return nil
}

// MarkDone drops an action item's entry. Should it fail, readers drop it.
func (s *Store) MarkDone(ctx context.Context, actionID string) error {
	if _, err := s.open.DeleteOne(ctx, bson.D{{Key: "_id", Value: actionID}}); err != nil {
		return fmt.Errorf("drop the open entry of action item %s: %w", actionID, mongodb.Classify(err))
	}
	return nil
}

// OpenActions returns the open action items (of owner, when given) with their meetings, soonest
// due first. Entries whose item is done, or whose decision never committed, are dropped.
func (s *Store) OpenActions(ctx context.Context, owner string) ([]Action, map[string]string, error) {
	filter := bson.D{}
	if owner != "" {
		filter = bson.D{{Key: "owner", Value: owner}}
	}
	cur, err := s.open.Find(ctx, filter)
	if err != nil {
		return nil, nil, fmt.Errorf("read the open action items: %w", mongodb.Classify(err))
	}
	var entries []OpenAction
	if err := cur.All(ctx, &entries); err != nil {
		return nil, nil, fmt.Errorf("read the open action items: %w", mongodb.Classify(err))
	}
	var out []Action
	meetingOf := map[string]string{}
	loaded := map[string]Meeting{}
	for _, e := range entries {
		m, ok := loaded[e.MeetingID]
		if !ok {
			if m, err = s.Get(ctx, e.MeetingID); err != nil && !errors.Is(err, aggregate.ErrNotFound) {
				return nil, nil, err
			}
			loaded[e.MeetingID] = m
		}
		i := slices.IndexFunc(m.Actions, func(a Action) bool { return a.ID == e.ID })
		if i < 0 || m.Actions[i].Done {
			if i >= 0 { // done, and the entry outlived it: drop it now
				_ = s.MarkDone(ctx, e.ID)
			}
			continue // not committed (yet, or ever): skipped; a later reader sees it once it is
		}
		out = append(out, m.Actions[i])
		meetingOf[e.ID] = e.MeetingID
	}
	slices.SortFunc(out, func(a, b Action) int { return strings.Compare(a.Due+a.ID, b.Due+b.ID) })
	return out, meetingOf, nil
}
