package projection

import (
	"strings"
	"testing"
	"time"
)

// occurred is when the sample events happened.
var occurred = time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)

// sample returns valid facts of a case identified on day: an open case of a girl, a potential
// victim; tests change what they are about.
func sample(day string) Facts {
	return Facts{
		Day: day, Sex: "SEX_FEMALE", AgeBand: "AGE_BAND_CHILD",
		ExploitationTypes:      []string{"EXPLOITATION_TYPE_SEXUAL"},
		Citizenships:           []string{"AL"},
		Status:                 "TRAFFICKING_STATUS_POTENTIAL_VICTIM",
		State:                  "CASE_STATE_OPEN",
		IdentifyingInstitution: "ASP-ANTITRAF",
		Prefecture:             "PREFECTURE_TIRANE",
		Scope:                  "TRAFFICKING_SCOPE_INTERNAL",
	}
}

// event returns the event that sets case id's facts to f at version v.
func event(id string, v int64, f Facts) Event {
	return Event{CaseID: id, Version: v, Facts: f, OccurredAt: occurred.Add(time.Duration(v) * time.Minute)}
}

func TestEventValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Event)
		want   string // part of the error; "" for valid
	}{
		{"valid", func(*Event) {}, ""},
		{"no exploitation types or citizenships", func(e *Event) { e.Facts.ExploitationTypes, e.Facts.Citizenships = nil, nil }, ""},
		{"a merge needs no facts", func(e *Event) { e.Merged, e.Facts = true, Facts{} }, ""},
		{"no case id", func(e *Event) { e.CaseID = "" }, "case id"},
		{"version zero", func(e *Event) { e.Version = 0 }, "case version"},
		{"no identification date", func(e *Event) { e.Facts.Day = "" }, "identification_date"},
		{"bad identification date", func(e *Event) { e.Facts.Day = "2025-02-30" }, "identification_date"},
		{"no institution", func(e *Event) { e.Facts.IdentifyingInstitution = "" }, "identifying_institution"},
		{"no status", func(e *Event) { e.Facts.Status = "" }, "status"},
		{"dot in a key", func(e *Event) { e.Facts.Citizenships = []string{"AL", "X.Y"} }, "citizenships"},
		{"dollar key", func(e *Event) { e.Facts.ExploitationTypes = []string{"$where"} }, "exploitation_types"},
		{"NUL in a key", func(e *Event) { e.Facts.Sex = "SEX\x00" }, "sex"},
		{"invalid UTF-8", func(e *Event) { e.Facts.AgeBand = "\xff" }, "age_band"},
		{"overlong key", func(e *Event) { e.Facts.Prefecture = strings.Repeat("A", 65) }, "prefecture"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := event("case-1", 1, sample("2025-03-09"))
			tc.change(&e)
			err := e.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestFactsEqual(t *testing.T) {
	a := sample("2025-03-09")
	b := sample("2025-03-09")
	b.Citizenships = []string{"AL"}
	if !a.equal(b) {
		t.Error("equal facts reported different")
	}
	b.ExploitationTypes = nil
	a.ExploitationTypes = []string{}
	if !a.equal(b) {
		t.Error("a nil and an empty list reported different")
	}
	b.Scope = "TRAFFICKING_SCOPE_TRANSNATIONAL"
	if a.equal(b) {
		t.Error("different scopes reported equal")
	}
}
