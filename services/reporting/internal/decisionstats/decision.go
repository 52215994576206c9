// Package decisionstats keeps the figures of the case registry's acts over a period, each in
// the day it bears: status decisions by outcome and deciding body, revisions apart, the time
// from registration to a first decision; closures and reopenings by reason. Built only from the
// case events, through package tally.
//
// Unlike the case statistics (package projection), which count each case once as it stands
// now, these count acts: a case decided in March and revised in June counts a decision in
// March and a revision in June. So the documents are the acts, not the cases: one per event,
// "<case id>:<case version>", immutable once written. An act is never corrected (a changed
// decision is a revision, a new act), so the first delivery of an event is its only state and
// every later one is a duplicate; the order of delivery changes nothing.
//
// A merged duplicate keeps its acts: its decisions and closures were taken, by the bodies that
// took them, on the days they bear, and the figures count acts, not persons. Dropping them would
// also make a period's figures change after the fact, months later, when a merge is found.
package decisionstats

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Collections of the figures.
const (
	DocCollection           = "case_acts"
	DocJournalCollection    = "case_acts_journal"
	BucketCollection        = "case_acts_days"
	BucketJournalCollection = "case_acts_days_journal"
	MonthCollection         = "case_acts_months"
	MonthJournalCollection  = "case_acts_months_journal"
)

// Kinds of act.
const (
	Decision  = "decision"
	Closure   = "closure"
	Reopening = "reopening"
)

// Act is what one case event tells the figures: a status decision, a closure or a reopening.
// It is also the state of the act's document, so its time is UTC to the millisecond, as the
// store keeps it.
type Act struct {
	CaseID string `bson:"case_id"`
	// Version is the case's version after the event: with CaseID, the act's identity.
	Version int64  `bson:"version"`
	Kind    string `bson:"kind"`
	// Day is the act's own date, "YYYY-MM-DD": its bucket.
	Day string `bson:"day"`
	// Status and Body are a decision's outcome and deciding body; Revision tells a decision that
	// revises an earlier one.
	Status   string `bson:"status,omitempty"`
	Body     string `bson:"body,omitempty"`
	Revision bool   `bson:"revision,omitempty"`
	// Registered is the case's registration day, for a decision's time to decision.
	Registered string `bson:"registered,omitempty"`
	// Reason is a closure's or a reopening's.
	Reason     string    `bson:"reason,omitempty"`
	OccurredAt time.Time `bson:"occurred_at"`
}

// ID is the id of a's document.
func (a Act) ID() string { return a.CaseID + ":" + strconv.FormatInt(a.Version, 10) }

// Validate reports what makes a impossible to count.
func (a Act) Validate() error {
	var errs []error
	if a.CaseID == "" {
		errs = append(errs, errors.New("case id is missing"))
	}
	if a.Version <= 0 {
		errs = append(errs, fmt.Errorf("case version %d is not positive", a.Version))
	}
	if _, err := time.Parse(time.DateOnly, a.Day); err != nil {
		errs = append(errs, fmt.Errorf("%s gives no day: %q", a.Kind, a.Day))
	}
	var keys []struct{ name, v string }
	switch a.Kind {
	case Decision:
		if _, err := time.Parse(time.DateOnly, a.Registered); err != nil {
			errs = append(errs, fmt.Errorf("registration_date is not a day: %q", a.Registered))
		}
		keys = append(keys, struct{ name, v string }{"status", a.Status}, struct{ name, v string }{"deciding_body", a.Body})
	case Closure, Reopening:
		keys = append(keys, struct{ name, v string }{"reason", a.Reason})
	default:
		errs = append(errs, fmt.Errorf("unknown kind of act %q", a.Kind))
	}
	for _, k := range keys {
		if err := tally.CheckKey(k.v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", k.name, k.v, err))
		}
	}
	return errors.Join(errs...)
}

// daysToDecision is the number of days from registration to a's decision. A decision dated
// before its case was registered (the joint interview may precede the record) counts as taken
// on the day of registration: 0 days, not a negative time no histogram could hold.
func (a Act) daysToDecision() int64 {
	decided, _ := time.Parse(time.DateOnly, a.Day)
	registered, _ := time.Parse(time.DateOnly, a.Registered)
	return max(0, int64(decided.Sub(registered)/(24*time.Hour)))
}

// Dimensions and keys of the figures.
const (
	dimTotal          = "total"
	dimDecidedStatus  = "decided_by_status"
	dimDecidedBody    = "decided_by_body"
	dimRevisedStatus  = "revised_by_status"
	dimRevisedBody    = "revised_by_body"
	dimTime           = "time_to_decision"
	dimHistogram      = "time_to_decision_histogram"
	dimClosedReason   = "closed_by_reason"
	dimReopenedReason = "reopened_by_reason"

	keyDecisions  = "decisions"
	keyRevisions  = "revisions"
	keyClosures   = "closures"
	keyReopenings = "reopenings"
	keyDays       = "days"
)

// bins are the time-to-decision histogram's bins, by their last day; a longer time is
// "gt_180d". Coarse, as referralstats' response times are: a median within a bin is what the
// Authority reads, and an exact one would need every time of the period.
var bins = []struct {
	key  string
	days int64
}{
	{"le_7d", 7},
	{"le_14d", 14},
	{"le_30d", 30},
	{"le_60d", 60},
	{"le_90d", 90},
	{"le_180d", 180},
}

// overflowBin holds the times longer than every bin.
const overflowBin = "gt_180d"

// binOf is the bin of a time to decision of days.
func binOf(days int64) string {
	for _, b := range bins {
		if days <= b.days {
			return b.key
		}
	}
	return overflowBin
}

// tallyOf is what a counts, in the bucket of its day; nothing before it is known. The time to
// decision is that of first decisions only: a revision's time from registration measures how
// long the case lived, not how long deciding took.
func tallyOf(a Act) *tally.Tally {
	f := tally.Figures{}
	switch a.Kind {
	case Decision:
		if a.Revision {
			f.Set(dimTotal, keyRevisions, 1)
			f.Set(dimRevisedStatus, a.Status, 1)
			f.Set(dimRevisedBody, a.Body, 1)
			break
		}
		days := a.daysToDecision()
		f.Set(dimTotal, keyDecisions, 1)
		f.Set(dimDecidedStatus, a.Status, 1)
		f.Set(dimDecidedBody, a.Body, 1)
		f.Set(dimTime, keyDays, days)
		f.Set(dimHistogram, binOf(days), 1)
	case Closure:
		f.Set(dimTotal, keyClosures, 1)
		f.Set(dimClosedReason, a.Reason, 1)
	case Reopening:
		f.Set(dimTotal, keyReopenings, 1)
		f.Set(dimReopenedReason, a.Reason, 1)
	default: // the empty document, before its act
		return nil
	}
	return &tally.Tally{Bucket: a.Day, Figures: f}
}

// kind is the acts' Kind: an act's document moves once, from nothing to the act.
var kind = tally.Kind[Act, Act]{
	Docs: DocCollection, DocJournal: DocJournalCollection,
	Buckets: BucketCollection, BucketJournal: BucketJournalCollection,
	Months: MonthCollection, MonthJournal: MonthJournalCollection,
	Moves:      func(s, _ Act) bool { return s.Kind == "" },
	With:       func(_, a Act) Act { return a },
	Tally:      tallyOf,
	OccurredAt: func(a Act) time.Time { return a.OccurredAt },
}
