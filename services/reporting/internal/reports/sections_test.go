package reports

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting/internal/datasets"
	"github.com/nrm-albania/nrm/services/reporting/internal/meetingstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/procedure"
	"github.com/nrm-albania/nrm/services/reporting/internal/referralstats"
)

var october = Period{From: "2026-10-01", To: "2026-10-31"}

func rows(r ...[]string) [][]string { return append([][]string{}, r...) }

// Each section built from a store fed with a few events or submissions, and from an empty one:
// exact figures, and zeros or empty tables when there is nothing, never a placeholder.
func TestSections(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		builder func(t *testing.T, fed bool) Builder
		fed     bool
		want    Section
	}{
		{"referrals, none", referrals, false, Section{Title: "Referrals and services", Tables: []Table{
			{Title: "Referrals made in the period", Columns: []string{"Referrals", "Number"}, Rows: rows([]string{"Made", "0"}, []string{"Overdue", "0"}, []string{"Answered", "0"})},
			{Title: "By service type", Columns: []string{"Service type", "Referrals"}, Rows: rows(), Chart: true},
			{Title: "By provider", Columns: []string{"Provider", "Referrals"}, Rows: rows()},
			{Title: "By state", Columns: []string{"State", "Referrals"}, Rows: rows(), Chart: true},
			{Title: "Time to response", Columns: []string{"Time to response", "Hours"}, Rows: rows([]string{"Mean", "0.0"}, []string{"Median (at most)", "0.0"})},
			{Title: "Services delivered by type", Columns: []string{"Service type", "Services"}, Rows: rows(), Chart: true},
		}}},
		{"referrals of October", referrals, true, Section{Title: "Referrals and services", Tables: []Table{
			{Title: "Referrals made in the period", Columns: []string{"Referrals", "Number"}, Rows: rows([]string{"Made", "2"}, []string{"Overdue", "1"}, []string{"Answered", "1"})},
			{Title: "By service type", Columns: []string{"Service type", "Referrals"}, Rows: rows([]string{"medical", "1"}, []string{"shelter", "1"}), Chart: true},
			{Title: "By provider", Columns: []string{"Provider", "Referrals"}, Rows: rows([]string{"QSUT", "1"}, []string{"SHELTER-TR", "1"})},
			{Title: "By state", Columns: []string{"State", "Referrals"}, Rows: rows([]string{"completed", "1"}, []string{"pending", "1"}), Chart: true},
			{Title: "Time to response", Columns: []string{"Time to response", "Hours"}, Rows: rows([]string{"Mean", "2.0"}, []string{"Median (at most)", "4.0"})},
			{Title: "Services delivered by type", Columns: []string{"Service type", "Services"}, Rows: rows([]string{"counselling", "1"}), Chart: true},
		}}},
		{"meetings, none", meetings, false, Section{Title: "Meetings and actions", Tables: []Table{
			{Title: "Meetings held by kind", Columns: []string{"Kind", "Meetings"}, Rows: rows()},
			{Title: "Attendance per member", Columns: []string{"Member", "Meetings attended"}, Rows: rows([]string{"KKSAT", "0"}, []string{"MAS", "0"}, []string{"SHSSH", "0"})},
			{Title: "Decisions", Columns: []string{"Decisions", "Number"}, Rows: rows([]string{"Recorded", "0"}, []string{"Adopted", "0"})},
			{Title: "Decisions by kind", Columns: []string{"Kind", "Decisions"}, Rows: rows()},
			{Title: "Action items", Columns: []string{"State", "Action items"}, Rows: rows([]string{"open", "0"}, []string{"overdue", "0"}, []string{"done", "0"})},
			{Title: "Months without a regular meeting", Columns: []string{"Month"}, Rows: rows()},
		}}},
		{"meetings of October", meetings, true, Section{Title: "Meetings and actions", Tables: []Table{
			{Title: "Meetings held by kind", Columns: []string{"Kind", "Meetings"}, Rows: rows([]string{"extraordinary", "1"}, []string{"regular", "1"})},
			{Title: "Attendance per member", Columns: []string{"Member", "Meetings attended"}, Rows: rows([]string{"KKSAT", "2"}, []string{"MAS", "1"}, []string{"SHSSH", "0"}, []string{"ASP-ANTITRAF", "1"})},
			{Title: "Decisions", Columns: []string{"Decisions", "Number"}, Rows: rows([]string{"Recorded", "2"}, []string{"Adopted", "1"})},
			{Title: "Decisions by kind", Columns: []string{"Kind", "Decisions"}, Rows: rows([]string{"other", "1"}, []string{"status recommendation", "1"})},
			{Title: "Action items", Columns: []string{"State", "Action items"}, Rows: rows([]string{"open", "1"}, []string{"overdue", "2"}, []string{"done", "0"}, []string{"cancelled", "1"})},
			{Title: "Months without a regular meeting", Columns: []string{"Month"}, Rows: rows()},
		}}},
		{"members' data, no form", membersData, false, Section{Title: "Members' data", Tables: []Table{
			{Title: "Submissions", Columns: []string{"Member", "Month", "Submitted", "Timeliness", "Warnings"}, Rows: rows()},
			{Title: "Members that have not reported", Columns: []string{"Member", "Month"}, Rows: rows()},
			{Title: "Warnings: reported figures the registry counts otherwise", Columns: []string{"Member", "Month", "Element", "Reported", "Registry"}, Rows: rows()},
		}}},
		{"members' data of October", membersData, true, Section{Title: "Members' data", Tables: []Table{
			{Title: "Submissions", Columns: []string{"Member", "Month", "Submitted", "Timeliness", "Warnings"}, Rows: rows(
				[]string{"KKSAT", "2026-10", "yes", "on time", "1"},
				[]string{"MAS", "2026-10", "yes", "late", "0"},
				[]string{"SHSSH", "2026-10", "no", "not submitted", "0"})},
			{Title: "Members that have not reported", Columns: []string{"Member", "Month"}, Rows: rows([]string{"SHSSH", "2026-10"})},
			{Title: "Warnings: reported figures the registry counts otherwise", Columns: []string{"Member", "Month", "Element", "Reported", "Registry"},
				Rows: rows([]string{"KKSAT", "2026-10", "IDENTIFIED", "4", "3"})},
			{Title: "Figures of KKSAT", Columns: []string{"Element", "2026-10"}, Rows: rows(
				[]string{"Victims identified", "4"},
				[]string{"Admissions", "3"}, []string{"Admissions: Women", "2"}, []string{"Admissions: Men", "1"})},
			{Title: "Figures of MAS", Columns: []string{"Element", "2026-10"}, Rows: rows(
				[]string{"Victims identified", "0"}, []string{"Admissions", "5"}, []string{"Admissions: Women", ""}, []string{"Admissions: Men", ""},
				[]string{"OLD_ELEMENT", "7"})},
			{Title: "Figures of SHSSH", Columns: []string{"Element", "2026-10"}, Rows: rows(
				[]string{"Victims identified", ""}, []string{"Admissions", ""}, []string{"Admissions: Women", ""}, []string{"Admissions: Men", ""})},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.builder(t, tc.fed).Build(context.Background(), october)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("section:\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// referrals is the Referrals builder over a store fed, if fed, with three referrals of October
// (r1 answered in 2 hours, then completed with a counselling delivered; r2 overdue) and one of
// November, outside the period.
func referrals(t *testing.T, fed bool) Builder {
	f := referralstats.New(testenv.Database(t))
	at := time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC)
	ev := func(id string, v int64, day, service, provider, state string, change func(*referralstats.Event)) referralstats.Event {
		e := referralstats.Event{ReferralID: id, Version: v, Day: day, ServiceType: service, Provider: provider, Sender: "ASP-ANTITRAF",
			Urgency: "REFERRAL_URGENCY_STANDARD", State: state, OccurredAt: at.Add(time.Duration(v) * time.Hour)}
		if change != nil {
			change(&e)
		}
		return e
	}
	shelter := func(v int64, state string, change func(*referralstats.Event)) referralstats.Event {
		return ev("r1", v, "2026-10-05", "SERVICE_TYPE_SHELTER", "SHELTER-TR", state, change)
	}
	if fed {
		for _, e := range []referralstats.Event{
			shelter(1, "REFERRAL_STATE_PENDING", nil),
			shelter(2, "REFERRAL_STATE_ACCEPTED", func(e *referralstats.Event) { e.Answered, e.AnsweredAfter = true, 7200 }),
			shelter(3, "REFERRAL_STATE_COMPLETED", func(e *referralstats.Event) { e.Delivered = "SERVICE_TYPE_COUNSELLING" }),
			ev("r2", 1, "2026-10-31", "SERVICE_TYPE_MEDICAL", "QSUT", "REFERRAL_STATE_PENDING", func(e *referralstats.Event) { e.Overdue = true }),
			ev("r3", 1, "2026-11-01", "SERVICE_TYPE_MEDICAL", "QSUT", "REFERRAL_STATE_PENDING", nil),
		} {
			if _, err := f.Apply(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	return Referrals{Stats: f}
}

// meetings is the Meetings builder over a store fed, if fed, with a regular and an extraordinary
// meeting held in October, one scheduled (not held, so not attended), and one of November.
func meetings(t *testing.T, fed bool) Builder {
	db := testenv.Database(t)
	f, rules := meetingstats.New(db), procedure.New(db)
	if _, err := rules.Apply(t.Context(), procedure.Rules{Version: 1, EffectiveFrom: "2023-01-01", AdoptedBy: "defaults",
		Members: []string{"KKSAT", "MAS", "SHSSH"}, ApprovalDays: 10}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 10, 12, 10, 0, 0, 0, time.UTC)
	meeting := func(id, month, kind, state string, present ...string) meetingstats.Event {
		return meetingstats.Event{DocID: id, About: meetingstats.AboutMeeting, Version: 1, Month: month, Kind: kind, State: state, Attendance: present, OccurredAt: at}
	}
	decision := func(m, id, kind string, adopted bool) meetingstats.Event {
		return meetingstats.Event{DocID: m, About: meetingstats.AboutDecision, Version: 1, DecisionID: id, DecisionKind: kind, Adopted: adopted, OccurredAt: at}
	}
	action := func(m, id, state string) meetingstats.Event {
		return meetingstats.Event{DocID: m, About: meetingstats.AboutAction, Version: 1, ActionID: id, ActionState: state, OccurredAt: at}
	}
	if fed {
		for _, e := range []meetingstats.Event{
			meeting("m1", "2026-10", "MEETING_KIND_REGULAR", "MEETING_STATE_MINUTES_APPROVED", "KKSAT", "MAS"),
			meeting("m2", "2026-10", "MEETING_KIND_EXTRAORDINARY", "MEETING_STATE_HELD", "KKSAT", "ASP-ANTITRAF"),
			meeting("m3", "2026-10", "MEETING_KIND_REGULAR", "MEETING_STATE_SCHEDULED", "SHSSH"),
			meeting("m4", "2026-11", "MEETING_KIND_REGULAR", "MEETING_STATE_HELD", "SHSSH"),
			decision("m1", "d1", "DECISION_KIND_STATUS_RECOMMENDATION", true),
			decision("m2", "d2", "DECISION_KIND_OTHER", false),
			decision("m4", "d3", "DECISION_KIND_OTHER", true),
			action("m1", "a1", "ACTION_STATE_OPEN"),
			action("m1", "a2", "ACTION_STATE_OVERDUE"),
			action("m2", "a3", "ACTION_STATE_OVERDUE"),
			action("m2", "a4", "ACTION_STATE_CANCELLED"),
			action("m4", "a5", "ACTION_STATE_DONE"),
		} {
			if _, err := f.Apply(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	return Meetings{Stats: f, Rules: rules}
}

// membersData is the MembersData builder over three members' forms (none, unless fed) and, for
// October 2026: KKSAT's on-time submission with a warning, MAS's late one (with an element its
// form no longer has), nothing from SHSSH.
func membersData(t *testing.T, fed bool) Builder {
	ctx := auth.NewContext(context.Background(), &auth.Principal{Institution: "MB-SEKRETARIATI", Subject: "sec", Roles: []auth.Role{auth.RoleSecretariat}})
	now := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	st := datasets.NewStore(testenv.Database(t), datasets.Calendar{DueDay: 5, LockDay: 10}, func() time.Time { return now })
	if !fed {
		return MembersData{Data: st}
	}
	elements := []datasets.Element{
		{Code: "IDENTIFIED", Name: "Victims identified", CrossCheck: datasets.CasesIdentified},
		{Code: "ADMISSIONS", Name: "Admissions", Parts: []datasets.Part{{Code: "WOMEN", Name: "Women"}, {Code: "MEN", Name: "Men"}}},
	}
	forms := map[string]datasets.DataSet{}
	for _, m := range []string{"KKSAT", "MAS", "SHSSH"} {
		d := datasets.DataSet{Member: m, Version: 1, UpdatedAt: now, UpdatedBy: "MB-SEKRETARIATI", Elements: elements}
		if _, err := st.DataSets.Create(ctx, d, aggregate.Change{Kind: "SEEDED"}.By("NRM", "test", now), nil); err != nil {
			t.Fatal(err)
		}
		forms[m] = d
	}
	p, _ := datasets.ParsePeriod("period", "2026-10")
	submit := func(member string, values []datasets.Value, warnings []datasets.Warning) {
		if _, _, err := st.Submit(ctx, forms[member], p, values, warnings); err != nil {
			t.Fatal(err)
		}
	}
	submit("KKSAT", []datasets.Value{{Element: "IDENTIFIED", Value: 4},
		{Element: "ADMISSIONS", Value: 3, Parts: []datasets.PartValue{{Part: "WOMEN", Value: 2}, {Part: "MEN", Value: 1}}}},
		[]datasets.Warning{{Element: "IDENTIFIED", CrossCheck: datasets.CasesIdentified, Reported: 4, Registry: 3}})
	now = now.AddDate(0, 0, 4) // past the due day
	submit("MAS", []datasets.Value{{Element: "IDENTIFIED", Value: 0}, {Element: "ADMISSIONS", Value: 5}, {Element: "OLD_ELEMENT", Value: 7}}, nil)
	return MembersData{Data: st}
}
