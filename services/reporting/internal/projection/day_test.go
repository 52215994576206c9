package projection

import "testing"

func TestValidDay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"2025-03-09", true},
		{"2024-02-29", true}, // leap day
		{"2025-02-29", false},
		{"2025-13-01", false},
		{"2025-00-10", false},
		{"2025-3-9", false},
		{"25-03-09", false},
		{"2025-03-09T00:00:00Z", false},
		{" 2025-03-09", false},
		{"2025/03/09", false},
		{"", false},
	} {
		if got := ValidDay(tc.in); got != tc.want {
			t.Errorf("ValidDay(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
