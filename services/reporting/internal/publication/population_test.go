package publication

import (
	"reflect"
	"testing"
)

func TestParsePopulations(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Populations // nil: an error
	}{
		{"the default", DefaultPopulation, Populations{2024: {2402113, 1211000, 1191113, 466000, 1936113}}},
		{
			"two years, any order of figures, spaces and a trailing separator",
			" 2023:adult=4,child=5,male=3,female=2,total=1 ; 2024:total=10,female=20,male=30,child=40,adult=50;",
			Populations{2023: {1, 2, 3, 5, 4}, 2024: {10, 20, 30, 40, 50}},
		},
		{"empty", "", nil},
		{"only separators", " ; ;", nil},
		{"no year", "total=1,female=1,male=1,child=1,adult=1", nil},
		{"a year out of range", "1899:total=1,female=1,male=1,child=1,adult=1", nil},
		{"a year given twice", "2024:total=1,female=1,male=1,child=1,adult=1;2024:total=1,female=1,male=1,child=1,adult=1", nil},
		{"a figure missing", "2024:total=1,female=1,male=1,child=1", nil},
		{"a figure twice", "2024:total=1,total=2,female=1,male=1,child=1,adult=1", nil},
		{"an unknown figure", "2024:total=1,female=1,male=1,child=1,adult=1,other=1", nil},
		{"zero", "2024:total=0,female=1,male=1,child=1,adult=1", nil},
		{"negative", "2024:total=-1,female=1,male=1,child=1,adult=1", nil},
		{"not a number", "2024:total=many,female=1,male=1,child=1,adult=1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePopulations(tc.in)
			if tc.want == nil {
				if err == nil {
					t.Errorf("ParsePopulations(%q) = %v; want an error", tc.in, got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParsePopulations(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

// For takes the latest figures up to the year: estimates come out a year or two late.
func TestPopulationsFor(t *testing.T) {
	ps := Populations{2020: {Total: 20}, 2022: {Total: 22}}
	for _, tc := range []struct {
		year, wantYear int
		wantTotal      int64
		ok             bool
	}{
		{2019, 0, 0, false},
		{2020, 2020, 20, true},
		{2021, 2020, 20, true},
		{2022, 2022, 22, true},
		{2030, 2022, 22, true},
	} {
		p, year, ok := ps.For(tc.year)
		if ok != tc.ok || (ok && (year != tc.wantYear || p.Total != tc.wantTotal)) {
			t.Errorf("For(%d) = %v, %d, %v; want total %d of %d, %v", tc.year, p, year, ok, tc.wantTotal, tc.wantYear, tc.ok)
		}
	}
}
