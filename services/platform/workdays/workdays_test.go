package workdays

import (
	"testing"
	"time"
)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, Tirana)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAddAndBetween(t *testing.T) {
	holidays, err := ParseHolidays("2026-11-30, 2026-12-08")
	if err != nil {
		t.Fatal(err)
	}
	c := Calendar{Holidays: holidays}
	cases := []struct {
		name     string
		from     string
		days     int
		want     string
		weekdays bool // from is a working day
	}{
		{"Monday plus five", "2026-12-14 10:00", 5, "2026-12-21 10:00", true},
		{"Friday: the weekend does not count", "2026-12-18 16:30", 5, "2026-12-25 16:30", true},
		{"Saturday", "2026-12-19 09:00", 5, "2026-12-25 09:00", false},
		{"across a public holiday", "2026-12-04 11:00", 5, "2026-12-14 11:00", true},
		{"across two", "2026-11-27 11:00", 5, "2026-12-07 11:00", true},
		{"none", "2026-12-14 10:00", 0, "2026-12-14 10:00", true},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			from := at(t, tt.from)
			got := c.Add(from, tt.days)
			if !got.Equal(at(t, tt.want)) {
				t.Errorf("Add = %s, want %s", got.In(Tirana).Format("Mon 2006-01-02 15:04"), tt.want)
			}
			if n := c.Between(from, got); n != tt.days {
				t.Errorf("Between = %d, want %d", n, tt.days)
			}
			if c.WorkingDay(from) != tt.weekdays {
				t.Errorf("WorkingDay(%s) = %v", tt.from, !tt.weekdays)
			}
		})
	}
	if n := c.Between(at(t, "2026-12-21 10:00"), at(t, "2026-12-14 10:00")); n != 0 {
		t.Errorf("Between backwards = %d, want 0", n)
	}
}

func TestParseHolidays(t *testing.T) {
	if h, err := ParseHolidays(DefaultHolidays); err != nil || !h["2026-11-28"] || !h["2027-12-25"] {
		t.Fatalf("the defaults: %v", err)
	}
	for _, bad := range []string{"2026-13-01", "28 Nov", "2026-11-28;2026-11-29"} {
		if _, err := ParseHolidays(bad); err == nil {
			t.Errorf("%q was taken for a list of dates", bad)
		}
	}
	if h, err := ParseHolidays(""); err != nil || len(h) != 0 {
		t.Errorf("no holidays: %v, %v", h, err)
	}
}
