package reports

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting/internal/decisionstats"
)

// The decisions' section counts the acts dated in the period, by their own dates: a first
// decision 10 days after registration, a revision, a closure and a reopening in October, and a
// decision of November left out.
func TestDecisionsSection(t *testing.T) {
	t.Parallel()
	f := decisionstats.New(testenv.Database(t))
	at := time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC)
	for _, a := range []decisionstats.Act{
		{CaseID: "c1", Version: 2, Kind: decisionstats.Decision, Day: "2026-10-11", Status: "TRAFFICKING_STATUS_VICTIM",
			Body: "DECIDING_BODY_JOINT_INTERVIEW", Registered: "2026-10-01", OccurredAt: at},
		{CaseID: "c1", Version: 3, Kind: decisionstats.Decision, Day: "2026-10-25", Status: "TRAFFICKING_STATUS_NOT_A_VICTIM",
			Body: "DECIDING_BODY_JOINT_INTERVIEW", Revision: true, Registered: "2026-10-01", OccurredAt: at},
		{CaseID: "c2", Version: 4, Kind: decisionstats.Closure, Day: "2026-10-12", Reason: "CLOSURE_REASON_REINTEGRATED", OccurredAt: at},
		{CaseID: "c2", Version: 5, Kind: decisionstats.Reopening, Day: "2026-10-30", Reason: "REOPEN_REASON_RE_TRAFFICKING", OccurredAt: at},
		{CaseID: "c3", Version: 2, Kind: decisionstats.Decision, Day: "2026-11-02", Status: "TRAFFICKING_STATUS_VICTIM",
			Body: "DECIDING_BODY_JOINT_INTERVIEW", Registered: "2026-10-20", OccurredAt: at},
	} {
		if _, err := f.Apply(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Decisions{Stats: f}.Build(context.Background(), october)
	if err != nil {
		t.Fatal(err)
	}
	want := Section{Title: "Status decisions and closures", Tables: []Table{
		{Title: "Acts in the period", Columns: []string{"Acts", "Number"}, Rows: rows(
			[]string{"First status decisions", "1"}, []string{"Revisions of a status", "1"}, []string{"Closures", "1"}, []string{"Reopenings", "1"})},
		{Title: "First decisions by outcome", Columns: []string{"Status", "Decisions"}, Rows: rows([]string{"victim", "1"}), Chart: true},
		{Title: "First decisions by deciding body", Columns: []string{"Deciding body", "Decisions"}, Rows: rows([]string{"joint interview", "1"})},
		{Title: "Revisions by outcome", Columns: []string{"Status", "Revisions"}, Rows: rows([]string{"not a victim", "1"})},
		{Title: "Time from registration to a first decision", Columns: []string{"Time to decision", "Days"}, Rows: rows(
			[]string{"Mean", "10.0"}, []string{"Median (at most)", "14"})},
		{Title: "Closures by reason", Columns: []string{"Reason", "Closures"}, Rows: rows([]string{"reintegrated", "1"}), Chart: true},
		{Title: "Reopenings by reason", Columns: []string{"Reason", "Reopenings"}, Rows: rows([]string{"re trafficking", "1"})},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("section:\n got %+v\nwant %+v", got, want)
	}
}
