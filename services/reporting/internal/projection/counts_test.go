package projection

import (
	"reflect"
	"testing"
)

func TestCountsAdd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Facts)
		want   Counts
	}{
		{
			name:   "one of each",
			change: func(*Facts) {},
			want: Counts{
				Total:                    1,
				ByExploitationType:       map[string]int64{"EXPLOITATION_TYPE_SEXUAL": 1},
				BySex:                    map[string]int64{"SEX_FEMALE": 1},
				ByAgeBand:                map[string]int64{"AGE_BAND_CHILD": 1},
				ByCitizenship:            map[string]int64{"AL": 1},
				ByIdentifyingInstitution: map[string]int64{"ASP-ANTITRAF": 1},
				ByStatus:                 map[string]int64{"TRAFFICKING_STATUS_POTENTIAL_VICTIM": 1},
				ByState:                  map[string]int64{"CASE_STATE_OPEN": 1},
				ByScope:                  map[string]int64{"TRAFFICKING_SCOPE_INTERNAL": 1},
				ByPrefecture:             map[string]int64{"PREFECTURE_TIRANE": 1},
			},
		},
		{
			name: "several types and citizenships count once under each, repeats once",
			change: func(c *Facts) {
				c.ExploitationTypes = []string{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_FORCED_LABOUR", "EXPLOITATION_TYPE_SEXUAL"}
				c.Citizenships = []string{"AL", "XK", "AL"}
			},
			want: Counts{
				Total:                    1,
				ByExploitationType:       map[string]int64{"EXPLOITATION_TYPE_SEXUAL": 1, "EXPLOITATION_TYPE_FORCED_LABOUR": 1},
				BySex:                    map[string]int64{"SEX_FEMALE": 1},
				ByAgeBand:                map[string]int64{"AGE_BAND_CHILD": 1},
				ByCitizenship:            map[string]int64{"AL": 1, "XK": 1},
				ByIdentifyingInstitution: map[string]int64{"ASP-ANTITRAF": 1},
				ByStatus:                 map[string]int64{"TRAFFICKING_STATUS_POTENTIAL_VICTIM": 1},
				ByState:                  map[string]int64{"CASE_STATE_OPEN": 1},
				ByScope:                  map[string]int64{"TRAFFICKING_SCOPE_INTERNAL": 1},
				ByPrefecture:             map[string]int64{"PREFECTURE_TIRANE": 1},
			},
		},
		{
			name:   "none of the list dimensions",
			change: func(c *Facts) { c.ExploitationTypes, c.Citizenships = nil, nil },
			want: Counts{
				Total:                    1,
				BySex:                    map[string]int64{"SEX_FEMALE": 1},
				ByAgeBand:                map[string]int64{"AGE_BAND_CHILD": 1},
				ByIdentifyingInstitution: map[string]int64{"ASP-ANTITRAF": 1},
				ByStatus:                 map[string]int64{"TRAFFICKING_STATUS_POTENTIAL_VICTIM": 1},
				ByState:                  map[string]int64{"CASE_STATE_OPEN": 1},
				ByScope:                  map[string]int64{"TRAFFICKING_SCOPE_INTERNAL": 1},
				ByPrefecture:             map[string]int64{"PREFECTURE_TIRANE": 1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sample("2025-03-09")
			tc.change(&c)
			var got Counts
			got.Add(c, 1)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Add:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCountsMerge(t *testing.T) {
	a, b := sample("2025-03-09"), sample("2025-03-10")
	b.Sex, b.Citizenships, b.IdentifyingInstitution = "SEX_MALE", []string{"AL", "GR"}, "SHSSH"
	var day1, day2, sum Counts
	day1.Add(a, 1)
	day2.Add(b, 1)
	sum.Merge(day1)
	sum.Merge(day2)
	want := Counts{
		Total:                    2,
		ByExploitationType:       map[string]int64{"EXPLOITATION_TYPE_SEXUAL": 2},
		BySex:                    map[string]int64{"SEX_FEMALE": 1, "SEX_MALE": 1},
		ByAgeBand:                map[string]int64{"AGE_BAND_CHILD": 2},
		ByCitizenship:            map[string]int64{"AL": 2, "GR": 1},
		ByIdentifyingInstitution: map[string]int64{"ASP-ANTITRAF": 1, "SHSSH": 1},
		ByStatus:                 map[string]int64{"TRAFFICKING_STATUS_POTENTIAL_VICTIM": 2},
		ByState:                  map[string]int64{"CASE_STATE_OPEN": 2},
		ByScope:                  map[string]int64{"TRAFFICKING_SCOPE_INTERNAL": 2},
		ByPrefecture:             map[string]int64{"PREFECTURE_TIRANE": 2},
	}
	if !reflect.DeepEqual(sum, want) {
		t.Errorf("Merge:\n got %+v\nwant %+v", sum, want)
	}
	var empty Counts
	empty.Merge(Counts{})
	if !reflect.DeepEqual(empty, Counts{}) {
		t.Errorf("merging nothing gave %+v", empty)
	}
}

// Counting a case and then no longer leaves no trace: no value at zero, so that figures that
// followed corrections equal figures rebuilt from scratch.
func TestCountsAddThenRemove(t *testing.T) {
	var c Counts
	c.Add(sample("2025-03-09"), 1)
	c.Add(sample("2025-03-09"), -1)
	var rebuilt Counts
	rebuilt.Merge(c)
	if !reflect.DeepEqual(rebuilt, Counts{}) {
		t.Errorf("after adding and removing a case: %+v", rebuilt)
	}
}
