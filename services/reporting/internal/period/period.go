// Package period splits a period of days into what statistics read by _id: the days of its
// partial months and its whole months. FerretDB serves an _id from its index, but a range of _id
// (or $in) by scanning the collection, whose cost would grow with the whole history; so figures
// kept per day are also kept per month, and a period reads twelve month buckets a year and a few
// dozen days at most (docs/decisions.md 32).
package period

import "time"

// Reading is how a period is read: single days, whole months, and, for an open period, the
// months firstMonth..lastMonth ("" for no bound) read by a range.
type Reading struct {
	Days, Months          []string
	Open                  bool
	FirstMonth, LastMonth string
}

// Plan splits from..to into the days of its partial months and its whole months.
func Plan(from, to string) Reading {
	var r Reading
	first, last := from, to
	if from != "" && from[8:] != "01" { // from's month is partial: its days up to to or the month's end
		end := monthEnd(from)
		if to != "" && to < end {
			end = to
		}
		r.Days = append(r.Days, daysBetween(from, end)...)
		first = nextMonthStart(from)
	}
	if to != "" && (first == "" || first <= to) && to != monthEnd(to) { // to's month is partial
		start := to[:8] + "01"
		if first != "" && start < first {
			start = first
		}
		r.Days = append(r.Days, daysBetween(start, to)...)
		last = previousMonthEnd(to)
	}
	if from == "" || to == "" {
		r.Open = true
		if first != "" {
			r.FirstMonth = first[:7]
		}
		if last != "" {
			r.LastMonth = last[:7]
		}
		return r
	}
	for m := first; m != "" && m <= last; m = nextMonthStart(m) {
		r.Months = append(r.Months, m[:7])
	}
	return r
}

func parse(day string) time.Time {
	t, _ := time.Parse(time.DateOnly, day)
	return t
}

func monthEnd(day string) string {
	t := parse(day)
	return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

func nextMonthStart(day string) string {
	t := parse(day)
	return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

func previousMonthEnd(day string) string {
	t := parse(day)
	return time.Date(t.Year(), t.Month(), 0, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

func daysBetween(from, to string) []string {
	var out []string
	for d := parse(from); !d.After(parse(to)); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}
