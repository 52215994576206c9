// Package referralstats keeps the referral figures: referrals by the day they were created (in
// Tirana), by service type, provider, sender, urgency and state, the overdue ones, the time the
// recipients took to answer, and the services delivered under them. Built only from the referral
// events, through package tally.
package referralstats

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Collections of the figures.
const (
	DocCollection           = "referral_facts"
	DocJournalCollection    = "referral_facts_journal"
	BucketCollection        = "referral_stats_days"
	BucketJournalCollection = "referral_stats_days_journal"
	MonthCollection         = "referral_stats_months"
	MonthJournalCollection  = "referral_stats_months_journal"
)

// Event is what one referral event tells the figures. It is also what the journal of the
// referral's document stores, so its times are UTC to the millisecond, as the store keeps them.
type Event struct {
	ReferralID string `bson:"referral_id"`
	// Version is the referral's version after the event: the newest tells its state.
	Version int64 `bson:"version"`
	// Day is the day the referral was created, "YYYY-MM-DD" in Tirana: its bucket.
	Day         string `bson:"day"`
	ServiceType string `bson:"service_type"`
	Provider    string `bson:"provider"`
	Sender      string `bson:"sender"`
	Urgency     string `bson:"urgency"`
	State       string `bson:"state"`
	Overdue     bool   `bson:"overdue"`
	// Answered is set by the recipient's answer (accepted or declined), with the seconds from the
	// referral's creation to the event. An answer is given once, so it counts whenever it
	// arrives, even after newer events.
	Answered      bool  `bson:"answered"`
	AnsweredAfter int64 `bson:"answered_after"`
	// Delivered is the service type of a service recorded as delivered by this event.
	Delivered  string    `bson:"delivered"`
	OccurredAt time.Time `bson:"occurred_at"`
}

// Validate reports what makes e impossible to count.
func (e Event) Validate() error {
	var errs []error
	if e.ReferralID == "" {
		errs = append(errs, errors.New("referral id is missing"))
	}
	if e.Version <= 0 {
		errs = append(errs, fmt.Errorf("referral version %d is not positive", e.Version))
	}
	if _, err := time.Parse(time.DateOnly, e.Day); err != nil {
		errs = append(errs, fmt.Errorf("created_at gives no day: %q", e.Day))
	}
	for _, f := range []struct{ name, v string }{{"service_type", e.ServiceType}, {"provider_code", e.Provider},
		{"sender_institution", e.Sender}, {"urgency", e.Urgency}, {"state", e.State}} {
		if err := tally.CheckKey(f.v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", f.name, f.v, err))
		}
	}
	if e.Delivered != "" {
		if err := tally.CheckKey(e.Delivered); err != nil {
			errs = append(errs, fmt.Errorf("service %q: %w", e.Delivered, err))
		}
	}
	if e.AnsweredAfter < 0 {
		errs = append(errs, fmt.Errorf("answered %d seconds before it was created", -e.AnsweredAfter))
	}
	return errors.Join(errs...)
}

// Referral is one referral as the figures know it.
type Referral struct {
	// Version is the version of the newest event applied; the fields up to Overdue are its.
	Version     int64  `bson:"version"`
	Day         string `bson:"day"`
	ServiceType string `bson:"service_type"`
	Provider    string `bson:"provider"`
	Sender      string `bson:"sender"`
	Urgency     string `bson:"urgency"`
	State       string `bson:"state"`
	Overdue     bool   `bson:"overdue"`
	// Answered and AnsweredAfter come from the answer's event, whenever it arrived.
	Answered      bool  `bson:"answered"`
	AnsweredAfter int64 `bson:"answered_after"`
	// Delivered are the services recorded, by the version of their event: each counts once.
	Delivered map[string]string `bson:"delivered"`
}

// moves reports whether e changes r: newer, or an answer or a delivery r does not hold yet.
func moves(r Referral, e Event) bool {
	return e.Version > r.Version || e.Answered && !r.Answered ||
		e.Delivered != "" && r.Delivered[versionKey(e.Version)] == ""
}

// with returns r after e.
func with(r Referral, e Event) Referral {
	next := r
	next.Delivered = maps.Clone(r.Delivered)
	if e.Version > r.Version {
		next.Version, next.Day, next.ServiceType, next.Provider = e.Version, e.Day, e.ServiceType, e.Provider
		next.Sender, next.Urgency, next.State, next.Overdue = e.Sender, e.Urgency, e.State, e.Overdue
	}
	if e.Answered && !r.Answered {
		next.Answered, next.AnsweredAfter = true, e.AnsweredAfter
	}
	if e.Delivered != "" {
		if next.Delivered == nil {
			next.Delivered = make(map[string]string)
		}
		next.Delivered[versionKey(e.Version)] = e.Delivered
	}
	return next
}

func versionKey(v int64) string { return "v" + strconv.FormatInt(v, 10) }

// Dimensions and keys of the figures.
const (
	dimTotal       = "total"
	dimServiceType = "by_service_type"
	dimProvider    = "by_provider"
	dimSender      = "by_sender_institution"
	dimUrgency     = "by_urgency"
	dimState       = "by_state"
	dimResponse    = "response"
	dimHistogram   = "response_histogram"
	dimDelivered   = "delivered_by_type"

	keyReferrals = "referrals"
	keyOverdue   = "overdue"
	keyAnswered  = "answered"
	keySeconds   = "seconds"
)

// bins are the response histogram's bins, by upper bound; an answer later than the last is
// "gt_7d". Coarse on purpose: the deadlines are 24 hours and 5 working days, and a median
// within a bin is what the Authority reads.
var bins = []struct {
	key string
	max time.Duration
}{
	{"le_1h", time.Hour},
	{"le_4h", 4 * time.Hour},
	{"le_24h", 24 * time.Hour},
	{"le_3d", 72 * time.Hour},
	{"le_7d", 7 * 24 * time.Hour},
}

// overflowBin holds the answers later than every bin.
const overflowBin = "gt_7d"

// binOf is the bin of an answer after seconds.
func binOf(seconds int64) string {
	for _, b := range bins {
		if time.Duration(seconds)*time.Second <= b.max {
			return b.key
		}
	}
	return overflowBin
}

// tallyOf is what r counts, in the bucket of its creation day.
func tallyOf(r Referral) *tally.Tally {
	if r.Version == 0 {
		return nil
	}
	f := tally.Figures{}
	f.Set(dimTotal, keyReferrals, 1)
	f.Set(dimServiceType, r.ServiceType, 1)
	f.Set(dimProvider, r.Provider, 1)
	f.Set(dimSender, r.Sender, 1)
	f.Set(dimUrgency, r.Urgency, 1)
	f.Set(dimState, r.State, 1)
	if r.Overdue {
		f.Set(dimTotal, keyOverdue, 1)
	}
	if r.Answered {
		f.Set(dimResponse, keyAnswered, 1)
		f.Set(dimResponse, keySeconds, r.AnsweredAfter)
		f.Set(dimHistogram, binOf(r.AnsweredAfter), 1)
	}
	delivered := tally.Figures{}
	for _, typ := range r.Delivered {
		delivered.Add(tally.Figures{dimDelivered: {typ: 1}}, 1)
	}
	f.Add(delivered, 1)
	return &tally.Tally{Bucket: r.Day, Figures: f}
}

// kind is the referral documents' Kind.
var kind = tally.Kind[Referral, Event]{
	Docs: DocCollection, DocJournal: DocJournalCollection,
	Buckets: BucketCollection, BucketJournal: BucketJournalCollection,
	Months: MonthCollection, MonthJournal: MonthJournalCollection,
	Moves: moves, With: with, Tally: tallyOf,
	OccurredAt: func(e Event) time.Time { return e.OccurredAt },
}
