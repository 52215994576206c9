package deadlines

import (
	"testing"
	"time"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/workdays"
)

func TestDue(t *testing.T) {
	holidays, err := workdays.ParseHolidays("2026-11-30, 2026-12-08")
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Emergency: 24 * time.Hour, StandardDays: 5, Calendar: workdays.Calendar{Holidays: holidays}}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, Tirana)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	standard, emergency := referralv1.ReferralUrgency_REFERRAL_URGENCY_STANDARD, referralv1.ReferralUrgency_REFERRAL_URGENCY_EMERGENCY
	cases := []struct {
		name    string
		created string
		urgency referralv1.ReferralUrgency
		due     string
	}{
		{"an emergency: a day of the clock, weekend or not", "2026-12-05 22:00", emergency, "2026-12-06 22:00"},
		{"a standard referral on a Monday", "2026-12-14 10:00", standard, "2026-12-21 10:00"},
		{"on a Friday: the weekend does not count", "2026-12-18 16:30", standard, "2026-12-25 16:30"},
		{"on a Saturday", "2026-12-19 09:00", standard, "2026-12-25 09:00"},
		{"across a public holiday", "2026-12-04 11:00", standard, "2026-12-14 11:00"},
		{"across two", "2026-11-27 11:00", standard, "2026-12-07 11:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := p.Due(at(c.created), referralv1.ServiceType_SERVICE_TYPE_SHELTER, c.urgency); !got.Equal(at(c.due)) {
				t.Errorf("due %s, want %s", got.In(Tirana).Format("Mon 2006-01-02 15:04"), c.due)
			}
		})
	}
}
