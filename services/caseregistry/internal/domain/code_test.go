package domain

import "testing"

func TestCode(t *testing.T) {
	for _, tt := range []struct {
		year int
		seq  int64
		want string
	}{
		{2026, 1, "VT-2026-00001"},
		{2026, 42, "VT-2026-00042"},
		{2027, MaxCodeSequence, "VT-2027-99999"},
	} {
		if got := Code(tt.year, tt.seq); got != tt.want {
			t.Errorf("Code(%d, %d) = %q, want %q", tt.year, tt.seq, got, tt.want)
		}
	}
	if CodePrefix(2026) != "VT-2026-" {
		t.Errorf("prefix %q", CodePrefix(2026))
	}
}
