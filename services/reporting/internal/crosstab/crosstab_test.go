package crosstab

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// facts of a girl identified on day, a potential victim of sexual exploitation, changed by change.
func facts(day string, change func(*projection.Facts)) projection.Facts {
	f := projection.Facts{Day: day, Sex: "SEX_FEMALE", AgeBand: "AGE_BAND_CHILD", ExploitationTypes: []string{"EXPLOITATION_TYPE_SEXUAL"},
		Citizenships: []string{"AL"}, Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", State: "CASE_STATE_OPEN",
		IdentifyingInstitution: "ASP-ANTITRAF", Prefecture: "PREFECTURE_TIRANE", Scope: "TRAFFICKING_SCOPE_INTERNAL"}
	if change != nil {
		change(&f)
	}
	return f
}

var at = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

func ev(id string, v int64, f projection.Facts) projection.Event {
	return projection.Event{CaseID: id, Version: v, Facts: f, OccurredAt: at.Add(time.Duration(v) * time.Minute)}
}

func merged(id string, v int64) projection.Event {
	return projection.Event{CaseID: id, Version: v, Merged: true, OccurredAt: at}
}

func TestTablesFollowEachCase(t *testing.T) {
	t.Parallel()
	male := func(f *projection.Facts) { f.Sex = "SEX_MALE" }
	victim := func(f *projection.Facts) { f.Status = "TRAFFICKING_STATUS_VICTIM" }
	twoTypes := func(f *projection.Facts) {
		f.ExploitationTypes = []string{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_FORCED_LABOUR", "EXPLOITATION_TYPE_SEXUAL"}
	}
	for _, tc := range []struct {
		name          string
		events        []projection.Event
		rows, columns string
		want          Table
	}{
		{
			name:   "a status decided moves the case to another cell once, delivered twice and late",
			events: []projection.Event{ev("c1", 1, facts("2025-03-09", nil)), ev("c1", 2, facts("2025-03-09", victim)), ev("c1", 2, facts("2025-03-09", victim)), ev("c1", 1, facts("2025-03-09", nil))},
			rows:   "sex", columns: "status",
			want: Table{Total: 1, Cells: []Cell{{"SEX_FEMALE", "TRAFFICKING_STATUS_VICTIM", 1}}},
		},
		{
			name:   "rows after columns in the order of the dimensions",
			events: []projection.Event{ev("c1", 1, facts("2025-03-09", nil)), ev("c2", 1, facts("2025-03-09", male))},
			rows:   "status", columns: "sex",
			want: Table{Total: 2, Cells: []Cell{{"TRAFFICKING_STATUS_POTENTIAL_VICTIM", "SEX_FEMALE", 1}, {"TRAFFICKING_STATUS_POTENTIAL_VICTIM", "SEX_MALE", 1}}},
		},
		{
			name:   "several exploitation types: once in each cell, a repeat once",
			events: []projection.Event{ev("c1", 1, facts("2025-03-09", twoTypes))},
			rows:   "exploitation_type", columns: "age_band",
			want: Table{Total: 1, Cells: []Cell{{"EXPLOITATION_TYPE_FORCED_LABOUR", "AGE_BAND_CHILD", 1}, {"EXPLOITATION_TYPE_SEXUAL", "AGE_BAND_CHILD", 1}}},
		},
		{
			name:   "a merged duplicate counts nowhere, even when its merge arrives first",
			events: []projection.Event{merged("c2", 2), ev("c1", 1, facts("2025-03-09", nil)), ev("c2", 1, facts("2025-03-09", male)), ev("c2", 3, facts("2025-03-09", male))},
			rows:   "sex", columns: "state",
			want: Table{Total: 1, Cells: []Cell{{"SEX_FEMALE", "CASE_STATE_OPEN", 1}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tabs := New(testenv.Database(t))
			ctx := context.Background()
			for _, e := range tc.events {
				if _, err := tabs.Apply(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			got, err := tabs.Table(ctx, tc.rows, tc.columns, "", "")
			if err != nil {
				t.Fatal(err)
			}
			got.AsOf = time.Time{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s by %s:\n got %+v\nwant %+v", tc.rows, tc.columns, got, tc.want)
			}
		})
	}
}

// A period counts the cases identified in it; a correction of the date moves the case out.
func TestTablePeriod(t *testing.T) {
	t.Parallel()
	tabs := New(testenv.Database(t))
	ctx := context.Background()
	for _, e := range []projection.Event{
		ev("c1", 1, facts("2025-03-09", nil)),
		ev("c2", 1, facts("2025-03-10", nil)),
		ev("c2", 2, facts("2025-04-01", nil)),
	} {
		if _, err := tabs.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := tabs.Table(ctx, "sex", "prefecture", "2025-03-01", "2025-03-31")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Cell{{"SEX_FEMALE", "PREFECTURE_TIRANE", 1}}; got.Total != 1 || !reflect.DeepEqual(got.Cells, want) {
		t.Errorf("March: %+v", got)
	}
}

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		rows, columns string
		want          bool
	}{
		{"sex", "status", true},
		{"prefecture", "citizenship", true},
		{"sex", "sex", false},
		{"sex", "", false},
		{"name", "sex", false},
	} {
		if got := Valid(tc.rows, tc.columns); got != tc.want {
			t.Errorf("Valid(%q, %q) = %v", tc.rows, tc.columns, got)
		}
	}
}
