// Package deadlines says when a referral's recipient must have answered: a number of hours for an
// emergency, a number of working days on the Albanian calendar (package workdays) for a
// standard referral.
package deadlines

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/workdays"
)

// Tirana is the calendar's time zone.
var Tirana = workdays.Tirana

// Policy is how long a recipient has to answer.
type Policy struct {
	// Emergency is the time to answer an emergency referral, in hours of the clock.
	Emergency time.Duration
	// StandardDays is the number of working days to answer a standard referral.
	StandardDays int
	// Calendar says which days are working days.
	Calendar workdays.Calendar
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
	return p.Calendar.Add(created, days)
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
