package datasets

import (
	"time"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/workdays"
)

// Period is a reporting month, "YYYY-MM".
type Period struct{ start time.Time }

// ParsePeriod reads "YYYY-MM"; field names the request field in the error.
func ParsePeriod(field, s string) (Period, error) {
	t, err := time.ParseInLocation("2006-01", s, workdays.Tirana)
	if err != nil {
		return Period{}, apierr.InvalidField(field, "must be a month YYYY-MM; got %q", s)
	}
	return Period{start: t}, nil
}

func (p Period) String() string { return p.start.Format("2006-01") }

// PeriodBefore is the month before the one t falls in, in Tirana.
func PeriodBefore(t time.Time) Period {
	l := t.In(workdays.Tirana)
	return Period{start: time.Date(l.Year(), l.Month()-1, 1, 0, 0, 0, 0, workdays.Tirana)}
}

// First and Last are the month's first and last days, "YYYY-MM-DD", the bounds of the registry's
// statistics for it.
func (p Period) First() string { return p.start.Format(time.DateOnly) }
func (p Period) Last() string  { return p.start.AddDate(0, 1, -1).Format(time.DateOnly) }

// Ended reports whether the month is over at now: a month's figures are reported after it.
func (p Period) Ended(now time.Time) bool { return !now.Before(p.start.AddDate(0, 1, 0)) }

// Calendar is when members report a month, in days of the next month, in Tirana: by the due day
// on time, up to the lock day late, and after it only if the month is reopened.
type Calendar struct {
	DueDay  int
	LockDay int
}

// endOfDay is the end of day d of the month after p: the first instant that is past it.
func endOfDay(p Period, d int) time.Time { return p.start.AddDate(0, 1, d) }

// DueAt is the end of the due day.
func (c Calendar) DueAt(p Period) time.Time { return endOfDay(p, c.DueDay) }

// LocksAt is the end of the lock day: from then on the month is locked.
func (c Calendar) LocksAt(p Period) time.Time { return endOfDay(p, c.LockDay) }

// Locked reports whether p is locked at now.
func (c Calendar) Locked(p Period, now time.Time) bool { return !now.Before(c.LocksAt(p)) }

// Timeliness of a first submission at: on time by the end of the due day, late after it.
func (c Calendar) Timeliness(p Period, first time.Time) Timeliness {
	if first.IsZero() {
		return NotSubmitted
	}
	if first.Before(c.DueAt(p)) {
		return OnTime
	}
	return Late
}

// Timeliness is how a member's submission for a month came in.
type Timeliness string

const (
	OnTime       Timeliness = "ON_TIME"
	Late         Timeliness = "LATE"
	NotSubmitted Timeliness = "NOT_SUBMITTED"
)
