package period

import (
	"slices"
	"testing"
)

func TestPlanReadsWholeMonthsAndOtherDays(t *testing.T) {
	for _, tc := range []struct {
		from, to   string
		days       int
		months     []string
		open       bool
		first, end string
	}{
		{"2025-01-01", "2025-12-31", 0, []string{"2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12"}, false, "", ""},
		{"2025-02-01", "2025-02-28", 0, []string{"2025-02"}, false, "", ""},
		{"2025-02-10", "2025-02-20", 11, nil, false, "", ""},
		{"2025-01-15", "2025-03-10", 17 + 10, []string{"2025-02"}, false, "", ""},
		{"2025-01-31", "2025-02-01", 2, nil, false, "", ""},
		{"2024-02-29", "2024-03-31", 1, []string{"2024-03"}, false, "", ""},
		{"", "", 0, nil, true, "", ""},
		{"2025-01-15", "", 17, nil, true, "2025-02", ""},
		{"", "2025-03-10", 10, nil, true, "", "2025-02"},
	} {
		r := Plan(tc.from, tc.to)
		if len(r.Days) != tc.days || !slices.Equal(r.Months, tc.months) || r.Open != tc.open || r.FirstMonth != tc.first || r.LastMonth != tc.end {
			t.Errorf("Plan(%q, %q) = %d days %v open %v %q..%q", tc.from, tc.to, len(r.Days), r.Months, r.Open, r.FirstMonth, r.LastMonth)
		}
	}
}
