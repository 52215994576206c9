package projection

import (
	"reflect"
	"testing"
)

func TestCaseDocChanges(t *testing.T) {
	march, april := sample("2025-03-09"), sample("2025-04-01")
	male := sample("2025-03-09")
	male.Sex = "SEX_MALE"
	ref := func(f Facts) *Facts { return &f }

	for _, tc := range []struct {
		name string
		doc  caseDoc
		want []change
	}{
		{"never seen", caseDoc{}, nil},
		{"first facts", caseDoc{CaseVersion: 1, Counted: ref(march)},
			[]change{{CaseID: "c", Version: 1, Add: ref(march)}}},
		{"same day: one change", caseDoc{CaseVersion: 2, Counted: ref(male), Previous: ref(march), PreviousVersion: 1},
			[]change{{CaseID: "c", Version: 2, Remove: ref(march), Add: ref(male)}}},
		{"another day: one change each", caseDoc{CaseVersion: 2, Counted: ref(april), Previous: ref(march), PreviousVersion: 1},
			[]change{{CaseID: "c", Version: 2, Remove: ref(march)}, {CaseID: "c", Version: 2, Add: ref(april)}}},
		{"nothing counted changed", caseDoc{CaseVersion: 2, Counted: ref(march), Previous: ref(march), PreviousVersion: 1}, nil},
		{"merged", caseDoc{CaseVersion: 2, Merged: true, Previous: ref(march), PreviousVersion: 1},
			[]change{{CaseID: "c", Version: 2, Remove: ref(march)}}},
		{"merged long ago", caseDoc{CaseVersion: 5, Merged: true, PreviousVersion: 4}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.doc.changes("c"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("changes:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCaseDocWith(t *testing.T) {
	march, april := sample("2025-03-09"), sample("2025-04-01")
	d1 := caseDoc{}.with(event("c", 1, march))
	d2 := d1.with(event("c", 2, april))
	if d1.Counted.Day != "2025-03-09" || d1.Previous != nil || d1.CaseVersion != 1 {
		t.Errorf("after the first event: %+v", d1)
	}
	if d2.Counted.Day != "2025-04-01" || d2.Previous.Day != "2025-03-09" || d2.PreviousVersion != 1 || d2.CaseVersion != 2 {
		t.Errorf("after the second event: %+v", d2)
	}
	merged := d2.with(Event{CaseID: "c", Version: 3, Merged: true})
	after := merged.with(event("c", 4, march))
	if merged.Counted != nil || merged.Previous.Day != "2025-04-01" || after.Counted != nil || after.Previous != nil || !after.Merged {
		t.Errorf("a merged case counts again: %+v, then %+v", merged, after)
	}
}

func TestCaseDocMoves(t *testing.T) {
	at3 := caseDoc{}.with(event("c", 3, sample("2025-03-09")))
	mergedAt2 := at3.with(Event{CaseID: "c", Version: 2, Merged: true})
	for _, tc := range []struct {
		name string
		doc  caseDoc
		e    Event
		want bool
	}{
		{"newer", at3, event("c", 4, sample("2025-03-09")), true},
		{"the same version", at3, event("c", 3, sample("2025-03-09")), false},
		{"older", at3, event("c", 2, sample("2025-03-09")), false},
		{"a merge older than the facts", at3, Event{CaseID: "c", Version: 2, Merged: true}, true},
		{"the merge again", mergedAt2, Event{CaseID: "c", Version: 2, Merged: true}, false},
		{"older than a merge", mergedAt2, event("c", 1, sample("2025-03-09")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.doc.moves(tc.e); got != tc.want {
				t.Errorf("moves = %v, want %v", got, tc.want)
			}
		})
	}
}
