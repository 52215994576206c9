// Package deadlines says when a referral's recipient must have answered: a number of hours for an
// emergency, a number of working days on the Albanian calendar (weekends and public holidays
// off, the holidays as data) for a standard referral.
package deadlines

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Tirane must resolve in minimal containers too.

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
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

// Policy is how long a recipient has to answer.
type Policy struct {
	// Emergency is the time to answer an emergency referral, in hours of the clock.
	Emergency time.Duration
	// StandardDays is the number of working days to answer a standard referral.
	StandardDays int
	// Holidays are the public holidays, "YYYY-MM-DD".
	Holidays map[string]bool
	// ByService are the deadlines of particular service types, replacing the ones above.
	ByService map[referralv1.ServiceType]Override
}

// Override is a service type's own deadlines; a zero field keeps the general one.
type Override struct {
	Emergency    time.Duration
	StandardDays int
}

// Due is when a referral for the service of the urgency made at created must be answered. A
// standard referral's answer is due at the same time of day, that many working days later.
func (p Policy) Due(created time.Time, service referralv1.ServiceType, urgency referralv1.ReferralUrgency) time.Time {
	emergency, days := p.Emergency, p.StandardDays
	if o, ok := p.ByService[service]; ok {
		emergency, days = cmp.Or(o.Emergency, emergency), cmp.Or(o.StandardDays, days)
	}
	if urgency == referralv1.ReferralUrgency_REFERRAL_URGENCY_EMERGENCY {
		return created.Add(emergency)
	}
	d := created.In(Tirana)
	for n := 0; n < days; {
		d = d.AddDate(0, 0, 1)
		if p.WorkingDay(d) {
			n++
		}
	}
	return d.UTC()
}

// WorkingDay reports whether the day of t (in Tirana) is a working day.
func (p Policy) WorkingDay(t time.Time) bool {
	t = t.In(Tirana)
	switch t.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !p.Holidays[t.Format(time.DateOnly)]
}

// ParseOverrides reads service types' own deadlines: "SERVICE_TYPE_X:emergency=12h" and
// "SERVICE_TYPE_X:standard=3" (working days), comma-separated.
func ParseOverrides(list string) (map[referralv1.ServiceType]Override, error) {
	out := map[referralv1.ServiceType]Override{}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		service, rule, ok := strings.Cut(item, ":")
		urgency, value, ok2 := strings.Cut(rule, "=")
		t, known := referralv1.ServiceType_value[service]
		if !ok || !ok2 || !known || t == 0 {
			return nil, fmt.Errorf("%q is not SERVICE_TYPE_…:emergency=DURATION or SERVICE_TYPE_…:standard=DAYS", item)
		}
		o := out[referralv1.ServiceType(t)]
		switch urgency {
		case "emergency":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("%q: the emergency deadline must be a positive duration such as 12h", item)
			}
			o.Emergency = d
		case "standard":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 || n > 60 {
				return nil, fmt.Errorf("%q: the standard deadline must be 1 to 60 working days", item)
			}
			o.StandardDays = n
		default:
			return nil, fmt.Errorf("%q: the urgency is emergency or standard", item)
		}
		out[referralv1.ServiceType(t)] = o
	}
	return out, nil
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
