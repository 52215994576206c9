package domain

import (
	"reflect"
	"testing"
)

func TestCheckMerge(t *testing.T) {
	survivor := func() Case { c := stored(); c.ID = "s"; return c }
	dup := func() Case { c := stored(); c.ID = "d"; return c }
	tests := []struct {
		name   string
		change func(s, d *Case)
		want   string
	}{
		{"two open cases", func(*Case, *Case) {}, ""},
		{"a closed survivor", func(s, _ *Case) { *s = closed(); s.ID = "s" }, ""},
		{"a closed duplicate", func(_, d *Case) { *d = closed(); d.ID = "d" }, ""},
		{"a survivor of earlier merges", func(s, _ *Case) { s.MergedCaseIDs = []string{"x"} }, ""},
		{"a repeat of this merge", func(s, d *Case) { *d = MarkMerged(*d, s.ID, today) }, ""},
		{"the same case", func(s, d *Case) { d.ID = s.ID }, "invalid: duplicate_id"},
		{"a duplicate merged elsewhere", func(_, d *Case) { *d = MarkMerged(*d, "x", today) }, "precondition: CASE_MERGED"},
		{"a merged survivor", func(s, _ *Case) { *s = MarkMerged(*s, "x", today) }, "precondition: CASE_MERGED"},
		{"merging back into the duplicate's own duplicate", func(s, d *Case) { *s = MarkMerged(*s, d.ID, today) }, "precondition: CASE_MERGED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, d := survivor(), dup()
			tt.change(&s, &d)
			if got := outcome(t, CheckMerge(s, d)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMarkMerged(t *testing.T) {
	for _, base := range []func() Case{stored, closed} {
		c := base()
		before := clone(c)
		got := MarkMerged(c, "s", today)
		want := clone(c)
		want.State, want.MergedInto = "CASE_STATE_CLOSED", "s"
		want.Closure = &Closure{Reason: "CLOSURE_REASON_DUPLICATE", Date: today}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("merged\n got %+v\nwant %+v", got, want)
		}
		if !same(c, before) {
			t.Error("the input case was changed")
		}
		if CheckChangeable(got) == nil {
			t.Error("a merged case still accepts changes")
		}
	}
}

func TestAbsorb(t *testing.T) {
	c := stored()
	c.MergedCaseIDs = make([]string, 1, 4)
	c.MergedCaseIDs[0] = "a"
	before := clone(c)
	got := Absorb(c, "b")
	if !reflect.DeepEqual(got.MergedCaseIDs, []string{"a", "b"}) {
		t.Errorf("merged ids %v", got.MergedCaseIDs)
	}
	if !same(c, before) {
		t.Error("the input case was changed")
	}
	if again := Absorb(got, "b"); !reflect.DeepEqual(again.MergedCaseIDs, []string{"a", "b"}) {
		t.Errorf("absorbed twice: %v", again.MergedCaseIDs)
	}
	if first := Absorb(stored(), "a"); !reflect.DeepEqual(first.MergedCaseIDs, []string{"a"}) {
		t.Errorf("first merge: %v", first.MergedCaseIDs)
	}
}
