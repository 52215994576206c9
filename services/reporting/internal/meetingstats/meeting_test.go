package meetingstats

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

var at = time.Date(2025, 3, 12, 10, 0, 0, 0, time.UTC)

const (
	regular       = "MEETING_KIND_REGULAR"
	extraordinary = "MEETING_KIND_EXTRAORDINARY"
	scheduled     = "MEETING_STATE_SCHEDULED"
	inSession     = "MEETING_STATE_IN_SESSION"
	held          = "MEETING_STATE_HELD"
	approved      = "MEETING_STATE_MINUTES_APPROVED"
	cancelled     = "MEETING_STATE_CANCELLED"
	open          = "ACTION_STATE_OPEN"
	overdue       = "ACTION_STATE_OVERDUE"
	done          = "ACTION_STATE_DONE"
	recommend     = "DECISION_KIND_STATUS_RECOMMENDATION"
)

func meeting(id string, v int64, month, kind, state string, present ...string) Event {
	return Event{DocID: id, About: AboutMeeting, Version: v, Month: month, Kind: kind, State: state, Attendance: present,
		OccurredAt: at.Add(time.Duration(v) * time.Minute)}
}

func decision(meetingID string, v int64, id, kind string, adopted bool) Event {
	return Event{DocID: meetingID, About: AboutDecision, Version: v, DecisionID: id, DecisionKind: kind, Adopted: adopted, OccurredAt: at}
}

func action(meetingID string, v int64, id, state string) Event {
	return Event{DocID: meetingID, About: AboutAction, Version: v, ActionID: id, ActionState: state, OccurredAt: at}
}

func missed(month string) Event {
	return Event{DocID: "month:" + month, About: AboutMissedMonth, Month: month, OccurredAt: at}
}

func TestFiguresFollowEachMeeting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		events []Event
		want   Statistics
	}{
		{
			name: "a regular meeting held, attendance as closed, counted once however often delivered",
			events: []Event{
				meeting("m1", 1, "2025-03", regular, scheduled),
				meeting("m1", 4, "2025-03", regular, inSession, "ASP", "MSHMS"),
				meeting("m1", 6, "2025-03", regular, held, "ASP", "MSHMS", "SHSSH"),
				meeting("m1", 6, "2025-03", regular, held, "ASP", "MSHMS", "SHSSH"),
				meeting("m1", 5, "2025-03", regular, inSession, "ASP"),
			},
			want: Statistics{HeldByKind: map[string]int64{regular: 1}, Attendance: map[string]int64{"ASP": 1, "MSHMS": 1, "SHSSH": 1},
				Months: []Month{{Month: "2025-03", HeldByKind: map[string]int64{regular: 1}}}},
		},
		{
			name: "decisions and actions before the meeting's own events, the actions' newest state winning",
			events: []Event{
				decision("m1", 5, "d1", recommend, true),
				action("m1", 5, "a1", open),
				action("m1", 5, "a2", open),
				action("m1", 9, "a1", done),
				action("m1", 8, "a1", overdue), // late: done stands
				action("m1", 8, "a2", overdue),
				decision("m1", 5, "d1", recommend, true),
				decision("m1", 6, "d2", "DECISION_KIND_OTHER", false),
				meeting("m1", 7, "2025-04", extraordinary, approved, "ASP"),
			},
			want: Statistics{HeldByKind: map[string]int64{extraordinary: 1}, Attendance: map[string]int64{"ASP": 1},
				DecisionsByKind: map[string]int64{recommend: 1, "DECISION_KIND_OTHER": 1}, DecisionsAdopted: 1,
				ActionsByState: map[string]int64{done: 1, overdue: 1},
				Months:         []Month{{Month: "2025-04", HeldByKind: map[string]int64{extraordinary: 1}}}},
		},
		{
			name: "cancelled, postponed into another month, a month missed",
			events: []Event{
				meeting("m1", 1, "2025-03", regular, scheduled),
				meeting("m1", 2, "2025-04", regular, scheduled),
				meeting("m1", 3, "2025-04", regular, cancelled),
				missed("2025-03"), missed("2025-03"),
			},
			want: Statistics{MissedMonths: []string{"2025-03"}, Months: []Month{{Month: "2025-03", Missed: true}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := New(testenv.Database(t))
			ctx := context.Background()
			for _, e := range tc.events {
				if err := e.Validate(); err != nil {
					t.Fatal(err)
				}
				if _, err := f.Apply(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			got, err := f.Statistics(ctx, "", "")
			if err != nil {
				t.Fatal(err)
			}
			got.AsOf = time.Time{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("figures:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// A period counts whole months.
func TestStatisticsMonths(t *testing.T) {
	t.Parallel()
	f := New(testenv.Database(t))
	ctx := context.Background()
	for _, e := range []Event{
		meeting("m1", 2, "2025-02", regular, held, "ASP"),
		meeting("m2", 2, "2025-03", regular, held, "ASP", "MSHMS"),
		meeting("m3", 2, "2025-03", extraordinary, held, "MSHMS"),
		meeting("m4", 2, "2025-04", regular, held, "ASP"),
	} {
		if _, err := f.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.Statistics(ctx, "2025-03", "2025-04")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int64{regular: 2, extraordinary: 1}; !reflect.DeepEqual(got.HeldByKind, want) {
		t.Errorf("held %v, want %v", got.HeldByKind, want)
	}
	if want := map[string]int64{"ASP": 2, "MSHMS": 2}; !reflect.DeepEqual(got.Attendance, want) {
		t.Errorf("attendance %v, want %v", got.Attendance, want)
	}
	if len(got.Months) != 2 || got.Months[0].Month != "2025-03" || got.Months[1].Month != "2025-04" {
		t.Errorf("months %+v", got.Months)
	}
}

func TestEventValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		e     Event
		valid bool
	}{
		{"a meeting", meeting("m1", 1, "2025-03", regular, scheduled, "ASP"), true},
		{"a decision", decision("m1", 1, "d1", recommend, true), true},
		{"an action", action("m1", 1, "a1", open), true},
		{"a month missed", missed("2025-03"), true},
		{"a meeting without month", meeting("m1", 1, "", regular, scheduled), false},
		{"a meeting at version 0", meeting("m1", 0, "2025-03", regular, scheduled), false},
		{"an attendee with a dot", meeting("m1", 1, "2025-03", regular, held, "A.B"), false},
		{"a decision without id", decision("m1", 1, "", recommend, true), false},
		{"an action without state", action("m1", 1, "a1", ""), false},
		{"a month missed, no month", missed(""), false},
		{"no meeting id", Event{About: AboutMeeting, Version: 1, Month: "2025-03", Kind: regular, State: held}, false},
		{"about nothing known", Event{DocID: "m1", About: "minutes", Version: 1}, false},
	} {
		if err := tc.e.Validate(); (err == nil) != tc.valid {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}
