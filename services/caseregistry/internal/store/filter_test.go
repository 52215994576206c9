package store

import (
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
)

func TestFilterMatches(t *testing.T) {
	age := func(n int32) *int32 { return &n }
	yes, no := true, false
	registered := time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC) // 00:00 on 11 March in Tirana
	// listed is the entry every case below starts from; with changes it varies one field.
	listed := func(change func(*Listed)) Listed {
		l := Listed{
			ID: "c1", Code: "VT-2026-00001", Version: 3,
			Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", State: "CASE_STATE_OPEN",
			ExploitationTypes:      []string{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_FORCED_LABOUR"},
			IdentifyingInstitution: "ISHPSHSH", Owner: "ASP-ANTITRAF", Age: age(24),
			RegisteredAt: registered, IdentifiedOn: "2026-03-05",
		}
		if change != nil {
			change(&l)
		}
		return l
	}
	withAge := func(a *int32) func(*Listed) { return func(l *Listed) { l.Age = a } }
	for _, tt := range []struct {
		name string
		f    Filter
		l    Listed
		want bool
	}{
		{"zero filter", Filter{}, listed(nil), true},
		{"zero filter, empty entry", Filter{}, Listed{}, true},

		{"status matches", Filter{Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM"}, listed(nil), true},
		{"status differs", Filter{Status: "TRAFFICKING_STATUS_VICTIM"}, listed(nil), false},

		{"state matches", Filter{State: "CASE_STATE_OPEN"}, listed(nil), true},
		{"state differs", Filter{State: "CASE_STATE_CLOSED"}, listed(nil), false},

		{"exploitation type first of the list", Filter{ExploitationType: "EXPLOITATION_TYPE_SEXUAL"}, listed(nil), true},
		{"exploitation type second of the list", Filter{ExploitationType: "EXPLOITATION_TYPE_FORCED_LABOUR"}, listed(nil), true},
		{"exploitation type not in the list", Filter{ExploitationType: "EXPLOITATION_TYPE_BEGGING"}, listed(nil), false},
		{"exploitation type, entry without any", Filter{ExploitationType: "EXPLOITATION_TYPE_SEXUAL"},
			listed(func(l *Listed) { l.ExploitationTypes = nil }), false},

		{"identifying institution matches", Filter{IdentifyingInstitution: "ISHPSHSH"}, listed(nil), true},
		{"identifying institution differs", Filter{IdentifyingInstitution: "ASP-ANTITRAF"}, listed(nil), false},

		{"owner matches", Filter{Owner: "ASP-ANTITRAF"}, listed(nil), true},
		{"owner differs", Filter{Owner: "ISHPSHSH"}, listed(nil), false},

		{"minor, 17", Filter{Minor: &yes}, listed(withAge(age(17))), true},
		{"minor, 18", Filter{Minor: &yes}, listed(withAge(age(18))), false},
		{"minor, age unknown", Filter{Minor: &yes}, listed(withAge(nil)), false},
		{"adult, 17", Filter{Minor: &no}, listed(withAge(age(17))), false},
		{"adult, 18", Filter{Minor: &no}, listed(withAge(age(18))), true},
		{"adult, age unknown", Filter{Minor: &no}, listed(withAge(nil)), false},
		{"no minor filter, age unknown", Filter{}, listed(withAge(nil)), true},

		{"registered from, the same instant", Filter{RegisteredFrom: registered}, listed(nil), true},
		{"registered from, an instant later", Filter{RegisteredFrom: registered.Add(time.Nanosecond)}, listed(nil), false},
		{"registered from, a day earlier", Filter{RegisteredFrom: registered.AddDate(0, 0, -1)}, listed(nil), true},
		{"registered from, the same instant in Tirana", Filter{RegisteredFrom: time.Date(2026, 3, 11, 0, 0, 0, 0, domain.Tirana)}, listed(nil), true},
		{"registered before, the same instant", Filter{RegisteredBefore: registered}, listed(nil), false},
		{"registered before, an instant later", Filter{RegisteredBefore: registered.Add(time.Nanosecond)}, listed(nil), true},
		{"registered before, a day earlier", Filter{RegisteredBefore: registered.AddDate(0, 0, -1)}, listed(nil), false},
		{"registered in [from, before)", Filter{RegisteredFrom: registered, RegisteredBefore: registered.Add(time.Second)}, listed(nil), true},
		{"registered in an empty range", Filter{RegisteredFrom: registered, RegisteredBefore: registered}, listed(nil), false},

		{"identified from, the same day", Filter{IdentifiedFrom: "2026-03-05"}, listed(nil), true},
		{"identified from, the day before", Filter{IdentifiedFrom: "2026-03-04"}, listed(nil), true},
		{"identified from, the day after", Filter{IdentifiedFrom: "2026-03-06"}, listed(nil), false},
		{"identified to, the same day", Filter{IdentifiedTo: "2026-03-05"}, listed(nil), true},
		{"identified to, the day after", Filter{IdentifiedTo: "2026-03-06"}, listed(nil), true},
		{"identified to, the day before", Filter{IdentifiedTo: "2026-03-04"}, listed(nil), false},
		{"identified on the one day of the range", Filter{IdentifiedFrom: "2026-03-05", IdentifiedTo: "2026-03-05"}, listed(nil), true},

		{"every filter matching", Filter{
			Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", State: "CASE_STATE_OPEN", ExploitationType: "EXPLOITATION_TYPE_FORCED_LABOUR",
			IdentifyingInstitution: "ISHPSHSH", Owner: "ASP-ANTITRAF", Minor: &no,
			RegisteredFrom: registered, RegisteredBefore: registered.AddDate(0, 0, 1),
			IdentifiedFrom: "2026-03-01", IdentifiedTo: "2026-03-05",
		}, listed(nil), true},
		{"every filter matching but one", Filter{
			Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", State: "CASE_STATE_OPEN", ExploitationType: "EXPLOITATION_TYPE_FORCED_LABOUR",
			IdentifyingInstitution: "ISHPSHSH", Owner: "ASP-ANTITRAF", Minor: &yes,
			RegisteredFrom: registered, RegisteredBefore: registered.AddDate(0, 0, 1),
			IdentifiedFrom: "2026-03-01", IdentifiedTo: "2026-03-05",
		}, listed(nil), false},
		{"a combination, one field off", Filter{Owner: "ASP-ANTITRAF", IdentifiedTo: "2026-03-04"}, listed(nil), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Matches(tt.l); got != tt.want {
				t.Errorf("%+v.Matches(%+v) = %v, want %v", tt.f, tt.l, got, tt.want)
			}
		})
	}
}
