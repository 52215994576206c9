package projection

import (
	"reflect"
	"testing"
)

func TestCountsAdd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Case)
		want   Counts
	}{
		{
			name:   "one of each",
			change: func(*Case) {},
			want: Counts{
				Total:                    1,
				ByExploitationType:       map[string]int64{"EXPLOITATION_TYPE_SEXUAL": 1},
				BySex:                    map[string]int64{"SEX_FEMALE": 1},
				ByAgeBand:                map[string]int64{"AGE_BAND_CHILD": 1},
				ByCitizenship:            map[string]int64{"AL": 1},
				ByIdentifyingInstitution: map[string]int64{"ASP-ANTITRAF": 1},
			},
		},
		{
			name: "several types and citizenships count once under each, repeats once",
			change: func(c *Case) {
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
			},
		},
		{
			name:   "none of the list dimensions",
			change: func(c *Case) { c.ExploitationTypes, c.Citizenships = nil, nil },
			want: Counts{
				Total:                    1,
				BySex:                    map[string]int64{"SEX_FEMALE": 1},
				ByAgeBand:                map[string]int64{"AGE_BAND_CHILD": 1},
				ByIdentifyingInstitution: map[string]int64{"ASP-ANTITRAF": 1},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := sample("case-1", "2025-03-09")
			tc.change(&c)
			var got Counts
			got.Add(c)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Add:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCountsMerge(t *testing.T) {
	a, b := sample("case-1", "2025-03-09"), sample("case-2", "2025-03-10")
	b.Sex, b.Citizenships, b.IdentifyingInstitution = "SEX_MALE", []string{"AL", "GR"}, "SHSSH"
	var day1, day2, sum Counts
	day1.Add(a)
	day2.Add(b)
	sum.Merge(day1)
	sum.Merge(day2)
	want := Counts{
		Total:                    2,
		ByExploitationType:       map[string]int64{"EXPLOITATION_TYPE_SEXUAL": 2},
		BySex:                    map[string]int64{"SEX_FEMALE": 1, "SEX_MALE": 1},
		ByAgeBand:                map[string]int64{"AGE_BAND_CHILD": 2},
		ByCitizenship:            map[string]int64{"AL": 2, "GR": 1},
		ByIdentifyingInstitution: map[string]int64{"ASP-ANTITRAF": 1, "SHSSH": 1},
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
