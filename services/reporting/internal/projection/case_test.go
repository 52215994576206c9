package projection

import (
	"strings"
	"testing"
	"time"
)

// sample is a valid case identified on day; tests change what they are about.
func sample(id, day string) Case {
	return Case{
		AggregateID: id, AggregateVersion: 1, Day: day,
		Sex: "SEX_FEMALE", AgeBand: "AGE_BAND_CHILD",
		ExploitationTypes:      []string{"EXPLOITATION_TYPE_SEXUAL"},
		Citizenships:           []string{"AL"},
		IdentifyingInstitution: "ASP-ANTITRAF",
		OccurredAt:             time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC),
	}
}

func TestCaseMarker(t *testing.T) {
	c := sample("case-1", "2025-03-09")
	c.AggregateVersion = 7
	if got := c.Marker(); got != "case-1@7" {
		t.Errorf("Marker() = %q, want case-1@7", got)
	}
}

func TestCaseValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Case)
		want   string // part of the error; "" for valid
	}{
		{"valid", func(*Case) {}, ""},
		{"no exploitation types or citizenships", func(c *Case) { c.ExploitationTypes, c.Citizenships = nil, nil }, ""},
		{"no aggregate id", func(c *Case) { c.AggregateID = "" }, "aggregate id"},
		{"version zero", func(c *Case) { c.AggregateVersion = 0 }, "aggregate version"},
		{"no identification date", func(c *Case) { c.Day = "" }, "identification_date"},
		{"bad identification date", func(c *Case) { c.Day = "2025-02-30" }, "identification_date"},
		{"no institution", func(c *Case) { c.IdentifyingInstitution = "" }, "identifying_institution"},
		{"dot in a key", func(c *Case) { c.Citizenships = []string{"AL", "X.Y"} }, "citizenships"},
		{"dollar key", func(c *Case) { c.ExploitationTypes = []string{"$where"} }, "exploitation_types"},
		{"NUL in a key", func(c *Case) { c.Sex = "SEX\x00" }, "sex"},
		{"invalid UTF-8", func(c *Case) { c.AgeBand = "\xff" }, "age_band"},
		{"overlong key", func(c *Case) { c.IdentifyingInstitution = strings.Repeat("A", maxKeyLen+1) }, "identifying_institution"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sample("case-1", "2025-03-09")
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate() = %v, want an error about %s", err, tc.want)
			}
		})
	}
}
