package deadlines

import (
	"testing"
	"time"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
)

func TestDue(t *testing.T) {
	holidays, err := ParseHolidays("2026-11-30, 2026-12-08")
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Emergency: 24 * time.Hour, StandardDays: 5, Holidays: holidays}
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

func TestServiceTypesHaveTheirOwnDeadlines(t *testing.T) {
	overrides, err := ParseOverrides("SERVICE_TYPE_MEDICAL:emergency=4h, SERVICE_TYPE_LEGAL:standard=10")
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Emergency: 24 * time.Hour, StandardDays: 5, ByService: overrides}
	created := time.Date(2026, 12, 7, 9, 0, 0, 0, Tirana) // a Monday
	for _, c := range []struct {
		service referralv1.ServiceType
		urgency referralv1.ReferralUrgency
		due     time.Time
	}{
		{referralv1.ServiceType_SERVICE_TYPE_MEDICAL, referralv1.ReferralUrgency_REFERRAL_URGENCY_EMERGENCY, created.Add(4 * time.Hour)},
		{referralv1.ServiceType_SERVICE_TYPE_MEDICAL, referralv1.ReferralUrgency_REFERRAL_URGENCY_STANDARD, created.AddDate(0, 0, 7)},
		{referralv1.ServiceType_SERVICE_TYPE_LEGAL, referralv1.ReferralUrgency_REFERRAL_URGENCY_STANDARD, created.AddDate(0, 0, 14)},
		{referralv1.ServiceType_SERVICE_TYPE_LEGAL, referralv1.ReferralUrgency_REFERRAL_URGENCY_EMERGENCY, created.Add(24 * time.Hour)},
	} {
		if got := p.Due(created, c.service, c.urgency); !got.Equal(c.due) {
			t.Errorf("%s %s: due %s, want %s", c.service, c.urgency, got.In(Tirana), c.due)
		}
	}
	for _, bad := range []string{"SHELTER:emergency=4h", "SERVICE_TYPE_MEDICAL:soon=4h", "SERVICE_TYPE_MEDICAL:emergency=-1h",
		"SERVICE_TYPE_MEDICAL:standard=0", "SERVICE_TYPE_MEDICAL:standard=ten", "SERVICE_TYPE_MEDICAL"} {
		if _, err := ParseOverrides(bad); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
}
