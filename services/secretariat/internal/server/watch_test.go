package server

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/lists"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/backlog"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
	"github.com/nrm-albania/nrm/services/secretariat/internal/members"
	"github.com/nrm-albania/nrm/services/secretariat/internal/notify"
	"github.com/nrm-albania/nrm/services/secretariat/internal/representation"
	"github.com/nrm-albania/nrm/services/secretariat/internal/rules"
)

type relay struct{}

func (relay) Notify() {}

// watched is the meetings' service on a fresh database with a clock the test sets.
func watched(t *testing.T, installed time.Time, now *time.Time) (*Meetings, *mongo.Database) {
	t.Helper()
	db := testenv.Database(t)
	rs, reps := rules.New(db), representation.New(db)
	var codes []string
	for _, m := range members.DefaultMembers() {
		codes = append(codes, m.Code)
	}
	if err := rs.Seed(t.Context(), codes, installed); err != nil {
		t.Fatal(err)
	}
	if err := reps.Seed(t.Context(), representation.DevDefaults(codes), installed); err != nil {
		t.Fatal(err)
	}
	return NewMeetings(MeetingDeps{
		Meetings: meetings.New(db), Rules: rs, Representations: reps, Backlog: backlog.New(db),
		Notifications: notify.NewStore(db), Inbox: lists.New(db.Collection(InboxCollection)), Wake: func() {},
		Months: meetings.NewMonths(db), ActionReminderDays: 3, Relay: relay{}, Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return *now },
	}), db
}

func tirana(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, workdays.Tirana)
}

func count(t *testing.T, db *mongo.Database, coll string, filter bson.D) int64 {
	t.Helper()
	n, err := db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// held puts a meeting in the store as the API would have left it.
func held(t *testing.T, s *Meetings, id string, kind, state string, start time.Time, actions ...meetings.Action) {
	t.Helper()
	m := meetings.Meeting{ID: id, Version: 1, Kind: kind, State: state, Start: start.UTC(), End: start.Add(2 * time.Hour).UTC(),
		Place: "room 3", Actions: actions, CreatedAt: start.UTC(), UpdatedAt: start.UTC()}
	if err := s.Meetings.Enlist(t.Context(), m, meetings.Month(start, workdays.Tirana)); err != nil {
		t.Fatal(err)
	}
	if err := s.Meetings.MarkOpen(t.Context(), id, actions); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Meetings.Create(t.Context(), m, meetings.Change{Kind: "scheduled"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestTheChairIsRemindedOnceWhenTheMonthHasNoMeeting(t *testing.T) {
	now := tirana(2026, 12, 9, 10)
	s, db := watched(t, tirana(2026, 12, 1, 9), &now)
	if err := s.Watch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, notify.NotificationsCollection, bson.D{}); n != 0 {
		t.Fatalf("%d notifications before the rules' day 10", n)
	}
	now = tirana(2026, 12, 10, 10)
	for range 2 {
		if err := s.Watch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Notifications.Get(t.Context(), "reminder/meeting/2026-12")
	if err != nil || len(n.Institutions) != 1 || n.Institutions[0] != s.Chair || len(n.Recipients) != 2 {
		t.Fatalf("the chair's reminder: %+v %v", n, err)
	}
	if c := count(t, db, notify.NotificationsCollection, bson.D{}); c != 1 {
		t.Errorf("%d notifications after two rounds, want 1", c)
	}

	// Once a regular meeting is scheduled for the month, no one is reminded of it.
	now2 := tirana(2027, 1, 15, 10)
	s2, _ := watched(t, tirana(2026, 12, 1, 9), &now2)
	held(t, s2, "7b0c8f0a-0000-4000-8000-000000000001", meetings.Regular, meetings.Scheduled, tirana(2027, 1, 20, 10))
	if err := s2.Watch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Notifications.Get(t.Context(), "reminder/meeting/2027-01"); err == nil {
		t.Error("reminded of a month with its meeting scheduled")
	}
}

func TestClosedMonthsAreRecordedOnceAndAMissedOneIsPublished(t *testing.T) {
	now := tirana(2026, 12, 2, 10)
	s, db := watched(t, tirana(2026, 9, 15, 9), &now)
	held(t, s, "7b0c8f0a-0000-4000-8000-000000000010", meetings.Regular, meetings.MinutesApproved, tirana(2026, 10, 20, 10))
	held(t, s, "7b0c8f0a-0000-4000-8000-000000000011", meetings.Extraordinary, meetings.Held, tirana(2026, 11, 5, 10))
	held(t, s, "7b0c8f0a-0000-4000-8000-000000000012", meetings.Regular, meetings.Cancelled, tirana(2026, 11, 25, 10))
	for range 2 {
		if err := s.Watch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{"2026-09": false, "2026-10": true, "2026-11": false}
	for month, compliant := range want {
		rec, err := s.Months.Get(t.Context(), month)
		if err != nil || rec.Compliant != compliant || rec.Version != 1 {
			t.Errorf("%s: %+v %v, want compliant %v at version 1", month, rec, err, compliant)
		}
		raw, err := db.Collection("month_revisions").FindOne(t.Context(), bson.D{{Key: "_id", Value: month + "@1"}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		if published := bytes.Contains(raw, []byte("meeting.month_missed")); published == compliant {
			t.Errorf("%s: meeting.month_missed published %v, want %v", month, published, !compliant)
		}
	}
	if n := count(t, db, "months", bson.D{}); n != 3 {
		t.Errorf("%d months recorded, want September to November (installed in September; December is open)", n)
	}
}

func TestActionItemsAreRemindedAndMarkedOverdueOnce(t *testing.T) {
	now := tirana(2026, 12, 14, 10)
	s, db := watched(t, tirana(2026, 12, 1, 9), &now)
	late := meetings.Action{ID: "a-late", DecisionID: "d", Owner: "KKSAT", Title: "Answer the referral", Due: "2026-12-11"}
	soon := meetings.Action{ID: "a-soon", DecisionID: "d", Owner: "MAS", Title: "Find a school place", Due: "2026-12-16"}
	later := meetings.Action{ID: "a-later", DecisionID: "d", Owner: "AKPA", Title: "Training offer", Due: "2027-01-30"}
	id := "7b0c8f0a-0000-4000-8000-000000000020"
	held(t, s, id, meetings.Regular, meetings.Held, tirana(2026, 12, 3, 10), late, soon, later)
	for range 2 {
		if err := s.Watch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.Meetings.Get(t.Context(), id)
	if err != nil || m.Version != 2 || !m.Actions[0].Overdue || m.Actions[1].Overdue {
		t.Fatalf("after two rounds: version %d, actions %+v, %v; want one change marking a-late overdue", m.Version, m.Actions, err)
	}
	overdue, err := s.Notifications.Get(t.Context(), "reminder/action/a-late/overdue")
	if err != nil || len(overdue.Institutions) != 2 {
		t.Errorf("the overdue notice to KKSAT and the chair: %+v %v", overdue.Institutions, err)
	}
	if _, err := s.Notifications.Get(t.Context(), "reminder/action/a-soon/due"); err != nil {
		t.Errorf("the reminder of an item due in two days: %v", err)
	}
	if c := count(t, db, notify.NotificationsCollection, bson.D{}); c != 2 { // December has its meeting: no reminder of it
		t.Errorf("%d notifications, want 2", c)
	}
	raw, err := db.Collection("meeting_revisions").FindOne(t.Context(), bson.D{{Key: "_id", Value: id + "@2"}}).Raw()
	if err != nil || !bytes.Contains(raw, []byte("action.overdue")) {
		t.Errorf("action.overdue not committed with the change: %v", err)
	}
}

func TestMembersWithMissingDataAreRemindedOnce(t *testing.T) {
	now := tirana(2026, 12, 7, 10)
	s, db := watched(t, tirana(2026, 12, 1, 9), &now)
	a, err := anypb.New(&reportingv1.DataMissing{Member: "AKPA", Period: "2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	env := &eventsv1.Envelope{Id: "e1", Type: "report.data_missing", AggregateVersion: 1, OccurredAt: timestamppb.New(now), Payload: a}
	if err := s.Backlog.ReportEvents()(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Watch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Notifications.Get(t.Context(), "reminder/data/AKPA/2026-11")
	if err != nil || len(n.Institutions) != 1 || n.Institutions[0] != "AKPA" {
		t.Fatalf("AKPA's reminder: %+v %v", n.Institutions, err)
	}
	if c := count(t, db, notify.NotificationsCollection, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^reminder/data/"}}}}); c != 1 {
		t.Errorf("%d data reminders after two rounds, want 1", c)
	}
}

func TestMembersAreRemindedOfAReportBeforeTheApprovalPeriodEnds(t *testing.T) {
	circulated := tirana(2026, 12, 2, 10)
	now := circulated.AddDate(0, 0, 7) // the default rules give 10 days; the reminder comes 2 before
	s, db := watched(t, tirana(2026, 11, 1, 9), &now)
	a, err := anypb.New(&reportingv1.ReportChanged{ReportId: "2026-11", Period: "2026-11", Version: 3})
	if err != nil {
		t.Fatal(err)
	}
	env := &eventsv1.Envelope{Id: "e1", Type: "report.circulated", AggregateVersion: 3, OccurredAt: timestamppb.New(circulated), Payload: a}
	if err := s.Backlog.ReportEvents()(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	if err := s.Watch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Notifications.Get(t.Context(), "reminder/report/2026-11/approval"); err == nil {
		t.Fatal("reminded three days before the end of the approval period")
	}
	now = circulated.AddDate(0, 0, 8)
	for range 2 {
		if err := s.Watch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Notifications.Get(t.Context(), "reminder/report/2026-11/approval")
	if err != nil || len(n.Institutions) != 13 {
		t.Fatalf("the members' reminder: %d institutions, %v", len(n.Institutions), err)
	}
	if c := count(t, db, notify.NotificationsCollection, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^reminder/report/"}}}}); c != 1 {
		t.Errorf("%d report reminders after two rounds, want 1", c)
	}
}
