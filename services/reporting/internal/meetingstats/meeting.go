// Package meetingstats keeps the meeting figures of the Authority: meetings held by kind per
// month, attendance per member institution, decisions by kind, action items by their current
// state, and the months closed without a regular meeting. Built only from the meeting events,
// through package tally: one document per meeting (its decisions and action items with it,
// since their events name the meeting, not the month) and one per month missed, counted in the
// bucket of the meeting's month, "YYYY-MM".
package meetingstats

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Collections of the figures.
const (
	DocCollection           = "meeting_facts"
	DocJournalCollection    = "meeting_facts_journal"
	BucketCollection        = "meeting_stats_months"
	BucketJournalCollection = "meeting_stats_months_journal"
)

// What an event is about.
const (
	// AboutMeeting: the meeting's kind, state, month and attendance as of Version.
	AboutMeeting = "meeting"
	// AboutDecision: a decision recorded at the meeting; recorded once, it counts once.
	AboutDecision = "decision"
	// AboutAction: an action item's state as of Version (the meeting's version).
	AboutAction = "action"
	// AboutMissedMonth: Month closed without a regular meeting held.
	AboutMissedMonth = "missed_month"
)

// Event is what one meeting event tells the figures; also what the journal of its document
// stores, so its time is UTC to the millisecond.
type Event struct {
	// DocID is the meeting's id, or "month:YYYY-MM" for a month missed.
	DocID   string `bson:"doc_id"`
	About   string `bson:"about"`
	Version int64  `bson:"version"`
	// For AboutMeeting (Month for AboutMissedMonth too).
	Month      string   `bson:"month"`
	Kind       string   `bson:"kind"`
	State      string   `bson:"state"`
	Attendance []string `bson:"attendance"`
	// For AboutDecision.
	DecisionID   string `bson:"decision_id"`
	DecisionKind string `bson:"decision_kind"`
	Adopted      bool   `bson:"adopted"`
	// For AboutAction.
	ActionID    string    `bson:"action_id"`
	ActionState string    `bson:"action_state"`
	OccurredAt  time.Time `bson:"occurred_at"`
}

// Validate reports what makes e impossible to count.
func (e Event) Validate() error {
	var errs []error
	key := func(field, v string) {
		if err := tally.CheckKey(v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", field, v, err))
		}
	}
	if e.DocID == "" {
		errs = append(errs, errors.New("meeting id is missing"))
	}
	month := func() {
		if _, err := time.Parse("2006-01", e.Month); err != nil {
			errs = append(errs, fmt.Errorf("month %q is not YYYY-MM", e.Month))
		}
	}
	switch e.About {
	case AboutMeeting:
		month()
		key("kind", e.Kind)
		key("state", e.State)
		for _, inst := range e.Attendance {
			key("attendance", inst)
		}
	case AboutDecision:
		key("decision_id", e.DecisionID)
		key("decision kind", e.DecisionKind)
	case AboutAction:
		key("action_id", e.ActionID)
		key("action state", e.ActionState)
	case AboutMissedMonth:
		month()
	default:
		errs = append(errs, fmt.Errorf("unknown subject %q", e.About))
	}
	if e.About != AboutMissedMonth && e.Version <= 0 {
		errs = append(errs, fmt.Errorf("meeting version %d is not positive", e.Version))
	}
	return errors.Join(errs...)
}

// Decision is a decision as the figures count it.
type Decision struct {
	Kind    string `bson:"kind"`
	Adopted bool   `bson:"adopted"`
}

// Action is an action item's state as of the meeting version of its event.
type Action struct {
	State   string `bson:"state"`
	Version int64  `bson:"version"`
}

// Meeting is one meeting, or one month missed, as the figures know it.
type Meeting struct {
	// Version is the version of the newest meeting event applied; the fields up to Attendance
	// are its.
	Version    int64    `bson:"version"`
	Month      string   `bson:"month"`
	Kind       string   `bson:"kind"`
	State      string   `bson:"state"`
	Attendance []string `bson:"attendance"`
	// Decisions and Actions, by id, whenever their events arrived.
	Decisions map[string]Decision `bson:"decisions"`
	Actions   map[string]Action   `bson:"actions"`
	Missed    bool                `bson:"missed"`
}

// moves reports whether e changes m.
func moves(m Meeting, e Event) bool {
	switch e.About {
	case AboutMeeting:
		return e.Version > m.Version
	case AboutDecision:
		_, ok := m.Decisions[e.DecisionID]
		return !ok
	case AboutAction:
		a, ok := m.Actions[e.ActionID]
		return !ok || e.Version > a.Version
	case AboutMissedMonth:
		return !m.Missed
	}
	return false
}

// with returns m after e.
func with(m Meeting, e Event) Meeting {
	next := m
	next.Decisions, next.Actions = maps.Clone(m.Decisions), maps.Clone(m.Actions)
	switch e.About {
	case AboutMeeting:
		next.Version, next.Month, next.Kind, next.State = e.Version, e.Month, e.Kind, e.State
		next.Attendance = slices.Clone(e.Attendance)
	case AboutDecision:
		if next.Decisions == nil {
			next.Decisions = make(map[string]Decision)
		}
		next.Decisions[e.DecisionID] = Decision{Kind: e.DecisionKind, Adopted: e.Adopted}
	case AboutAction:
		if next.Actions == nil {
			next.Actions = make(map[string]Action)
		}
		next.Actions[e.ActionID] = Action{State: e.ActionState, Version: e.Version}
	case AboutMissedMonth:
		next.Month, next.Missed = e.Month, true
	}
	return next
}

// held are the states of a meeting that took place.
var heldStates = []string{"MEETING_STATE_HELD", "MEETING_STATE_MINUTES_DRAFTED", "MEETING_STATE_MINUTES_CIRCULATED", "MEETING_STATE_MINUTES_APPROVED"}

// Dimensions and keys of the figures.
const (
	dimHeld       = "held_by_kind"
	dimAttendance = "attendance"
	dimDecisions  = "decisions_by_kind"
	dimAdopted    = "decisions_adopted"
	dimActions    = "actions_by_state"
	dimMissed     = "missed"

	keyAll = "all"
)

// tallyOf is what m counts, in its month; nothing before its month is known (its decisions or
// action items arrived first).
func tallyOf(m Meeting) *tally.Tally {
	if m.Month == "" {
		return nil
	}
	f := tally.Figures{}
	if m.Missed {
		f.Set(dimMissed, keyAll, 1)
	}
	if slices.Contains(heldStates, m.State) {
		f.Set(dimHeld, m.Kind, 1)
		for _, inst := range m.Attendance {
			f.Set(dimAttendance, inst, 1)
		}
	}
	for _, d := range m.Decisions {
		f.Add(tally.Figures{dimDecisions: {d.Kind: 1}}, 1)
		if d.Adopted {
			f.Add(tally.Figures{dimAdopted: {keyAll: 1}}, 1)
		}
	}
	for _, a := range m.Actions {
		f.Add(tally.Figures{dimActions: {a.State: 1}}, 1)
	}
	return &tally.Tally{Bucket: m.Month, Figures: f}
}

var kind = tally.Kind[Meeting, Event]{
	Docs: DocCollection, DocJournal: DocJournalCollection,
	Buckets: BucketCollection, BucketJournal: BucketJournalCollection,
	Moves: moves, With: with, Tally: tallyOf,
	OccurredAt: func(e Event) time.Time { return e.OccurredAt },
}
