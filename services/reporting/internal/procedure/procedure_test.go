package procedure

import (
	"errors"
	"slices"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func version(v int32, from string, members ...string) Rules {
	return Rules{Version: v, EffectiveFrom: from, AdoptedBy: "test", Members: members, ApprovalDays: 10}
}

// The version in force on a day is the latest received in force by then, whatever order the
// versions arrived in; a version delivered again changes nothing.
func TestTheVersionInForce(t *testing.T) {
	ctx := t.Context()
	s := New(testenv.Database(t))
	if _, err := s.On(ctx, "2026-12-01"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("before any version: %v", err)
	}
	for _, r := range []Rules{version(3, "2028-01-01", "MAS"), version(1, "2023-01-01", "MAS", "KKSAT"), version(2, "2027-01-01", "KKSAT")} {
		if fresh, err := s.Apply(ctx, r); err != nil || !fresh {
			t.Fatalf("Apply(%d) = %v, %v", r.Version, fresh, err)
		}
	}
	again := version(2, "2027-01-01", "SHSSH")
	if fresh, err := s.Apply(ctx, again); err != nil || fresh {
		t.Errorf("version 2 again: %v, %v", fresh, err)
	}
	for _, tc := range []struct {
		day     string
		version int32
		members []string
	}{
		{"2020-01-01", 1, []string{"MAS", "KKSAT"}}, // before the first: the first
		{"2026-12-31", 1, []string{"MAS", "KKSAT"}},
		{"2027-01-01", 2, []string{"KKSAT"}}, // not SHSSH: a version once received does not change
		{"2027-12-31", 2, []string{"KKSAT"}},
		{"2030-06-01", 3, []string{"MAS"}},
	} {
		r, err := s.On(ctx, tc.day)
		if err != nil || r.Version != tc.version || !slices.Equal(r.Members, tc.members) {
			t.Errorf("On(%s) = version %d %v, %v; want %d %v", tc.day, r.Version, r.Members, err, tc.version, tc.members)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules Rules
		ok    bool
	}{
		{"valid", version(1, "2023-01-01", "MAS", "KKSAT"), true},
		{"version 0", version(0, "2023-01-01", "MAS"), false},
		{"no date", version(1, "", "MAS"), false},
		{"not a date", version(1, "2023-02-30", "MAS"), false},
		{"no members", version(1, "2023-01-01"), false},
		{"an empty member", version(1, "2023-01-01", "MAS", ""), false},
		{"a member twice", version(1, "2023-01-01", "MAS", "MAS"), false},
		{"no approval days", Rules{Version: 1, EffectiveFrom: "2023-01-01", Members: []string{"MAS"}}, false},
	} {
		if err := tc.rules.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
