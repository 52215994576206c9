package datasets

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/workdays"
)

// police is a form with a cross-checked breakdown and a plain element.
var police = DataSet{Member: "ASP-ANTITRAF", Version: 3, Elements: []Element{
	identified("Potential victims identified"),
	{Code: "CRIMINAL_PROCEEDINGS", Name: "Criminal proceedings"},
}}

func pv(total int64, parts ...PartValue) Value {
	return Value{Element: "PV_IDENTIFIED", Value: total, Parts: parts}
}

func proceedings(n int64) Value { return Value{Element: "CRIMINAL_PROCEEDINGS", Value: n} }

func TestCheck(t *testing.T) {
	registry := map[CrossCheck]int64{CasesIdentified: 4}
	tests := []struct {
		name     string
		values   []Value
		registry map[CrossCheck]int64
		// fields are the violations' fields; none: accepted.
		fields   []string
		warnings []Warning
	}{
		{name: "agrees with the registry", values: []Value{pv(4), proceedings(1)}, registry: registry},
		{name: "parts adding up", values: []Value{pv(4, PartValue{"SEX_FEMALE", 3}, PartValue{"SEX_MALE", 1}), proceedings(0)}, registry: registry},
		{name: "a breakdown may leave parts out", values: []Value{pv(4, PartValue{"SEX_FEMALE", 4}), proceedings(0)}, registry: registry},
		{name: "no registry figure: nothing to compare", values: []Value{pv(9), proceedings(0)}},
		{
			name: "disagrees with the registry: a warning with both numbers", values: []Value{pv(6), proceedings(0)}, registry: registry,
			warnings: []Warning{{Element: "PV_IDENTIFIED", CrossCheck: CasesIdentified, Reported: 6, Registry: 4}},
		},
		{name: "negative value", values: []Value{pv(4), proceedings(-1)}, registry: registry, fields: []string{"values[1].value"}},
		{
			name: "negative part", values: []Value{pv(0, PartValue{"SEX_FEMALE", 1}, PartValue{"SEX_MALE", -1}), proceedings(0)},
			fields: []string{"values[0].parts[1].value"},
		},
		{
			name: "parts not adding up", values: []Value{pv(5, PartValue{"SEX_FEMALE", 3}, PartValue{"SEX_MALE", 1}), proceedings(0)},
			fields: []string{"values[0].parts"},
		},
		{name: "unknown part", values: []Value{pv(1, PartValue{"SEX_CHILD", 1}), proceedings(0)}, fields: []string{"values[0].parts[0].part"}},
		{name: "unknown element", values: []Value{pv(4), proceedings(0), {Element: "ARRESTS", Value: 2}}, fields: []string{"values[2].element"}},
		{name: "element given twice", values: []Value{pv(4), proceedings(0), proceedings(1)}, fields: []string{"values[2].element"}},
		{name: "element missing", values: []Value{pv(4)}, fields: []string{"values"}},
		{
			name: "errors are reported together, and no warning with them", values: []Value{pv(7, PartValue{"SEX_MALE", 1}), proceedings(-2)}, registry: registry,
			fields: []string{"values[0].parts", "values[1].value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warnings, err := Check(police, tt.values, tt.registry)
			if got := apierr.ViolatedFields(err); !slices.Equal(got, tt.fields) {
				t.Fatalf("violations %v (%v), want %v", got, err, tt.fields)
			}
			if err != nil && status.Code(err) != codes.InvalidArgument {
				t.Errorf("code %v, want InvalidArgument", status.Code(err))
			}
			if !slices.Equal(warnings, tt.warnings) {
				t.Errorf("warnings %v, want %v", warnings, tt.warnings)
			}
		})
	}
}

func TestWarningMessageCarriesBothNumbers(t *testing.T) {
	w := Warning{Element: "PV_IDENTIFIED", CrossCheck: CasesIdentified, Reported: 6, Registry: 4}
	if got, want := w.Message(), "PV_IDENTIFIED: reported 6, the registry counts 4 cases identified by the member in the month"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func tirana(day string, hour int) time.Time {
	d, err := time.ParseInLocation(time.DateOnly, day, workdays.Tirana)
	if err != nil {
		panic(err)
	}
	return d.Add(time.Duration(hour) * time.Hour)
}

func TestTheCalendarOfAMonth(t *testing.T) {
	cal := Calendar{DueDay: 5, LockDay: 10}
	p, err := ParsePeriod("period", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at         time.Time
		ended      bool
		locked     bool
		timeliness Timeliness
	}{
		{at: tirana("2026-11-30", 23), ended: false, locked: false, timeliness: OnTime},
		{at: tirana("2026-12-01", 0), ended: true, locked: false, timeliness: OnTime},
		{at: tirana("2026-12-05", 23), ended: true, locked: false, timeliness: OnTime},
		{at: tirana("2026-12-06", 0), ended: true, locked: false, timeliness: Late},
		{at: tirana("2026-12-10", 23), ended: true, locked: false, timeliness: Late},
		{at: tirana("2026-12-11", 0), ended: true, locked: true, timeliness: Late},
		{at: tirana("2027-03-01", 9), ended: true, locked: true, timeliness: Late},
	}
	for _, tt := range tests {
		t.Run(tt.at.Format(time.RFC3339), func(t *testing.T) {
			if got := p.Ended(tt.at); got != tt.ended {
				t.Errorf("ended %v, want %v", got, tt.ended)
			}
			if got := cal.Locked(p, tt.at); got != tt.locked {
				t.Errorf("locked %v, want %v", got, tt.locked)
			}
			if got := cal.Timeliness(p, tt.at); got != tt.timeliness {
				t.Errorf("timeliness %v, want %v", got, tt.timeliness)
			}
		})
	}
	if got := cal.Timeliness(p, time.Time{}); got != NotSubmitted {
		t.Errorf("never submitted: %v, want %v", got, NotSubmitted)
	}
	if p.First() != "2026-11-01" || p.Last() != "2026-11-30" {
		t.Errorf("days %s..%s, want 2026-11-01..2026-11-30", p.First(), p.Last())
	}
}

func TestAdmit(t *testing.T) {
	cal := Calendar{DueDay: 5, LockDay: 10}
	p, _ := ParsePeriod("period", "2026-11")
	open := Submission{Member: "KKSAT"}
	reopened := Submission{Member: "KKSAT", Reopened: true}
	tests := []struct {
		name   string
		s      Submission
		at     time.Time
		reason string // "": admitted
	}{
		{"during the month", open, tirana("2026-11-20", 12), "PERIOD_NOT_ENDED"},
		{"a reopened month still has to end", reopened, tirana("2026-11-20", 12), "PERIOD_NOT_ENDED"},
		{"on the lock day", open, tirana("2026-12-10", 20), ""},
		{"after the lock day", open, tirana("2026-12-11", 8), "PERIOD_LOCKED"},
		{"after the lock day, reopened", reopened, tirana("2027-01-15", 8), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cal.Admit(tt.s, p, tt.at)
			if got := reasonOf(err); got != tt.reason {
				t.Errorf("got %v, want reason %q", err, tt.reason)
			}
			if err != nil && status.Code(err) != codes.FailedPrecondition {
				t.Errorf("code %v, want FailedPrecondition", status.Code(err))
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	for _, s := range []string{"", "2026", "2026-13", "2026-1", "11-2026", "2026-11-01"} {
		if _, err := ParsePeriod("period", s); !slices.Equal(apierr.ViolatedFields(err), []string{"period"}) {
			t.Errorf("%q: %v, want a violation of period", s, err)
		}
	}
}
