package projection

import (
	"reflect"
	"testing"

	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
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

// The figures of cases, summed as the buckets sum them, read back as their counts.
func TestFiguresOfCasesSumToTheirCounts(t *testing.T) {
	a, b := sample("2025-03-09"), sample("2025-03-10")
	b.Sex, b.Citizenships, b.IdentifyingInstitution = "SEX_MALE", []string{"AL", "GR", "GR"}, "SHSSH"
	sum := tally.Figures{}
	sum.Add(figuresOf(a), 1)
	sum.Add(figuresOf(b), 1)
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
	if got := countsOf(sum); !reflect.DeepEqual(got, want) {
		t.Errorf("counts:\n got %+v\nwant %+v", got, want)
	}
	if got := countsOf(tally.Figures{}); !reflect.DeepEqual(got, Counts{}) {
		t.Errorf("the counts of nothing: %+v", got)
	}
}

// Counting a case and then no longer leaves no trace: no value at zero, so that figures that
// followed corrections equal figures rebuilt from scratch.
func TestCountsAddThenRemove(t *testing.T) {
	sum := tally.Figures{}
	sum.Add(figuresOf(sample("2025-03-09")), 1)
	sum.Add(figuresOf(sample("2025-03-09")), -1)
	if len(sum) != 0 || !reflect.DeepEqual(countsOf(sum), Counts{}) {
		t.Errorf("after adding and removing a case: %v", sum)
	}
}
