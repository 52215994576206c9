// Package workdays is the Albanian working calendar: days in Tirana, weekends and public
// holidays off, the holidays as data. Referral deadlines and meeting notice periods count on it.
package workdays

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Tirane must resolve in minimal containers too.
)

// Tirana is the calendar's time zone: a working day is a day in Albania.
var Tirana = mustLoad("Europe/Tirane")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is linked in above; this cannot happen.
	}
	return loc
}

// Calendar is the working calendar with its public holidays, "YYYY-MM-DD".
type Calendar struct {
	Holidays map[string]bool
}

// WorkingDay reports whether the day of t (in Tirana) is a working day.
func (c Calendar) WorkingDay(t time.Time) bool {
	t = t.In(Tirana)
	switch t.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !c.Holidays[t.Format(time.DateOnly)]
}

// Add is t moved days working days later, at the same time of day in Tirana.
func (c Calendar) Add(t time.Time, days int) time.Time {
	d := t.In(Tirana)
	for n := 0; n < days; {
		d = d.AddDate(0, 0, 1)
		if c.WorkingDay(d) {
			n++
		}
	}
	return d.UTC()
}

// Between is the number of working days after the day of from up to and including the day of
// to (0 when to's day is not after from's).
func (c Calendar) Between(from, to time.Time) int {
	d, end := day(from), day(to)
	n := 0
	for d.Before(end) {
		d = d.AddDate(0, 0, 1)
		if c.WorkingDay(d) {
			n++
		}
	}
	return n
}

func day(t time.Time) time.Time {
	y, m, d := t.In(Tirana).Date()
	return time.Date(y, m, d, 12, 0, 0, 0, Tirana)
}

// ParseHolidays reads a list of dates, "YYYY-MM-DD[,YYYY-MM-DD…]".
func ParseHolidays(list string) (map[string]bool, error) {
	out := map[string]bool{}
	for d := range strings.SplitSeq(list, ",") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("public holiday %q is not a date YYYY-MM-DD", d)
		}
		out[d] = true
	}
	return out, nil
}

// DefaultHolidays are Albania's public holidays of 2026 and 2027 (Law 7651/1992 as amended): New
// Year (two days), Summer Day, Nevruz, Catholic and Orthodox Easter and the Mondays after, Labour
// Day, Eid al-Fitr and Eid al-Adha (as expected; the Council of Ministers confirms them), Mother
// Teresa Day, Independence and Liberation Days, Youth Day and Christmas, with the Mondays the
// government gives for holidays on a weekend. They are data: NRM_PUBLIC_HOLIDAYS replaces them,
// and the list must be extended each year.
const DefaultHolidays = "" +
	"2026-01-01,2026-01-02,2026-03-14,2026-03-16,2026-03-20,2026-03-23,2026-04-05,2026-04-06,2026-04-12,2026-04-13," +
	"2026-05-01,2026-05-27,2026-10-19,2026-11-28,2026-11-29,2026-11-30,2026-12-08,2026-12-25," +
	"2027-01-01,2027-01-02,2027-01-04,2027-03-10,2027-03-14,2027-03-15,2027-03-22,2027-03-28,2027-03-29,2027-05-01," +
	"2027-05-02,2027-05-03,2027-05-17,2027-10-19,2027-11-28,2027-11-29,2027-11-30,2027-12-08,2027-12-25,2027-12-27"
