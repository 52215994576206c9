package tally

import (
	"reflect"
	"testing"
)

func TestFiguresAdd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start Figures
		add   Figures
		sign  int64
		want  Figures
	}{
		{"into nothing", Figures{}, Figures{"by_state": {"A": 1}}, 1, Figures{"by_state": {"A": 1}}},
		{"a move", Figures{"by_state": {"A": 1}}, Figures{"by_state": {"A": 1}}, -1, Figures{}},
		{"one key of two", Figures{"by_state": {"A": 2, "B": 1}}, Figures{"by_state": {"B": 1}}, -1, Figures{"by_state": {"A": 2}}},
		{"several dimensions", Figures{"x": {"A": 1}}, Figures{"x": {"A": 2}, "y": {"B": 5}}, 1, Figures{"x": {"A": 3}, "y": {"B": 5}}},
	} {
		got := tc.start.clone()
		got.Add(tc.add, tc.sign)
		if !reflect.DeepEqual(got, tc.want) || !got.equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBucketWith(t *testing.T) {
	accepted := &Tally{Bucket: "2025-03-10", Figures: Figures{"by_state": {"ACCEPTED": 1}}}
	pending := &Tally{Bucket: "2025-03-10", Figures: Figures{"by_state": {"PENDING": 1}}}
	b1 := bucket{}.with(change{Marker: "r1@1", Add: pending})
	b2 := b1.with(change{Marker: "r1@2", Remove: pending, Add: accepted})
	if !reflect.DeepEqual(b1.Figures, pending.Figures) {
		t.Errorf("b1 changed by computing b2: %v", b1.Figures)
	}
	if !reflect.DeepEqual(b2.Figures, accepted.Figures) || !b2.applied(change{Marker: "r1@1"}) || !b2.applied(change{Marker: "r1@2"}) {
		t.Errorf("b2: %+v", b2)
	}
}
