package publication

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

func TestRegistered(t *testing.T) {
	for status, want := range map[string]bool{
		"TRAFFICKING_STATUS_VICTIM":           true,
		"TRAFFICKING_STATUS_POTENTIAL_VICTIM": true,
		"TRAFFICKING_STATUS_NOT_VICTIM":       false,
		"TRAFFICKING_STATUS_UNSPECIFIED":      false,
		"":                                    false,
	} {
		if got := Registered(projection.Facts{Status: status}); got != want {
			t.Errorf("Registered(%q) = %v; want %v", status, got, want)
		}
	}
}

func TestGroups(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		facts                 projection.Facts
		sex, age, citizenship string
	}{
		{"female child, Albanian", projection.Facts{Sex: "SEX_FEMALE", AgeBand: "AGE_BAND_CHILD", Citizenships: []string{"AL"}}, Female, Child, Albania},
		{"male adult, EU", projection.Facts{Sex: "SEX_MALE", AgeBand: "AGE_BAND_ADULT", Citizenships: []string{"IT"}}, Male, Adult, EU},
		{"other sex, no age, non-EU", projection.Facts{Sex: "SEX_OTHER", Citizenships: []string{"UA"}}, Unknown, Unknown, NonEU},
		{"nothing known", projection.Facts{}, Unknown, Unknown, Unknown},
		{"a dual citizen is a national", projection.Facts{Citizenships: []string{"DE", "AL"}}, Unknown, Unknown, Albania},
		{"EU before non-EU", projection.Facts{Citizenships: []string{"XK", "GR"}}, Unknown, Unknown, EU},
		{"an unknown age band", projection.Facts{AgeBand: "AGE_BAND_UNSPECIFIED"}, Unknown, Unknown, Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sex(tc.facts); got != tc.sex {
				t.Errorf("Sex = %q; want %q", got, tc.sex)
			}
			if got := AgeGroup(tc.facts); got != tc.age {
				t.Errorf("AgeGroup = %q; want %q", got, tc.age)
			}
			if got := CitizenshipGroup(tc.facts); got != tc.citizenship {
				t.Errorf("CitizenshipGroup = %q; want %q", got, tc.citizenship)
			}
		})
	}
}

func TestEUMembers(t *testing.T) {
	if len(EUMembers) != 27 || !slices.IsSorted(EUMembers) || len(slices.Compact(slices.Clone(EUMembers))) != 27 {
		t.Errorf("EUMembers = %v; want the 27 member states, sorted, each once", EUMembers)
	}
	if slices.Contains(EUMembers, "AL") || slices.Contains(EUMembers, "GB") {
		t.Error("EUMembers holds a country that is not a member state")
	}
}

func TestExploitationForms(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{nil, []string{"EXPLOITATION_TYPE_UNKNOWN"}},
		{[]string{}, []string{"EXPLOITATION_TYPE_UNKNOWN"}},
		{[]string{"EXPLOITATION_TYPE_SEXUAL"}, []string{"EXPLOITATION_TYPE_SEXUAL"}},
		{
			[]string{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_BEGGING", "EXPLOITATION_TYPE_SEXUAL"},
			[]string{"EXPLOITATION_TYPE_BEGGING", "EXPLOITATION_TYPE_SEXUAL"},
		},
	} {
		f := projection.Facts{ExploitationTypes: slices.Clone(tc.in)}
		if got := ExploitationForms(f); !slices.Equal(got, tc.want) {
			t.Errorf("ExploitationForms(%v) = %v; want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(f.ExploitationTypes, tc.in) {
			t.Errorf("ExploitationForms changed its case's forms to %v", f.ExploitationTypes)
		}
	}
}

func TestEurostatTables(t *testing.T) {
	cases := []projection.Facts{
		{Status: "TRAFFICKING_STATUS_VICTIM", Sex: "SEX_FEMALE", AgeBand: "AGE_BAND_CHILD", Citizenships: []string{"AL"},
			ExploitationTypes: []string{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_BEGGING"}},
		{Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", Sex: "SEX_MALE", AgeBand: "AGE_BAND_ADULT", Citizenships: []string{"FR"}},
		{Status: "TRAFFICKING_STATUS_NOT_VICTIM", Sex: "SEX_FEMALE", AgeBand: "AGE_BAND_ADULT"},
	}
	got := EurostatTables(cases)
	wantCells := func(name string, cells [][]int64, want [][]int64) {
		t.Helper()
		if !slices.EqualFunc(cells, want, slices.Equal) {
			t.Errorf("%s = %v; want %v", name, cells, want)
		}
	}
	// Rows children, adults, unknown; columns female, male, unknown.
	wantCells("BySexAndAge", got.BySexAndAge.Cells, [][]int64{{1, 0, 0}, {0, 1, 0}, {0, 0, 0}})
	// Rows AL, EU, non-EU, unknown.
	wantCells("ByCitizenship", got.ByCitizenship.Cells, [][]int64{{1, 0, 0}, {0, 1, 0}, {0, 0, 0}, {0, 0, 0}})
	// A victim counts under each of her forms; the not-victim's form is not a row.
	wantRows := []string{"EXPLOITATION_TYPE_BEGGING", "EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_UNKNOWN"}
	if !slices.Equal(got.ByExploitation.Rows, wantRows) {
		t.Errorf("ByExploitation rows = %v; want %v", got.ByExploitation.Rows, wantRows)
	}
	wantCells("ByExploitation", got.ByExploitation.Cells, [][]int64{{1, 0, 0}, {1, 0, 0}, {0, 1, 0}})
}

// On random cases, the sex × age and citizenship × sex tables count every registered victim once,
// with the same count by sex, and the exploitation table at least once.
func TestEurostatTablesProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	for range 200 {
		var cases []projection.Facts
		registered := int64(0)
		for range rng.IntN(60) {
			f := projection.Facts{
				Status:  pick("TRAFFICKING_STATUS_VICTIM", "TRAFFICKING_STATUS_POTENTIAL_VICTIM", "TRAFFICKING_STATUS_NOT_VICTIM"),
				Sex:     pick("SEX_FEMALE", "SEX_MALE", "SEX_OTHER", ""),
				AgeBand: pick("AGE_BAND_CHILD", "AGE_BAND_ADULT", ""),
			}
			for range rng.IntN(3) {
				f.Citizenships = append(f.Citizenships, pick("AL", "IT", "XK", "US"))
				f.ExploitationTypes = append(f.ExploitationTypes, pick("EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_LABOUR", "EXPLOITATION_TYPE_BEGGING"))
			}
			if Registered(f) {
				registered++
			}
			cases = append(cases, f)
		}
		got := EurostatTables(cases)
		if got.BySexAndAge.Total() != registered || got.ByCitizenship.Total() != registered {
			t.Fatalf("totals %d and %d; want %d registered", got.BySexAndAge.Total(), got.ByCitizenship.Total(), registered)
		}
		if !slices.Equal(got.BySexAndAge.ColTotals(), got.ByCitizenship.ColTotals()) {
			t.Fatalf("by sex %v and %v differ", got.BySexAndAge.ColTotals(), got.ByCitizenship.ColTotals())
		}
		if got.ByExploitation.Total() < registered {
			t.Fatalf("exploitation total %d under %d registered", got.ByExploitation.Total(), registered)
		}
		if records := CaseLevel(2025, cases); int64(len(records)) != registered {
			t.Fatalf("case-level file has %d rows; want %d", len(records), registered)
		}
	}
}

func TestCaseLevel(t *testing.T) {
	cases := []projection.Facts{
		{Status: "TRAFFICKING_STATUS_VICTIM", Sex: "SEX_MALE", AgeBand: "AGE_BAND_ADULT", Citizenships: []string{"XK"},
			ExploitationTypes: []string{"EXPLOITATION_TYPE_LABOUR", "EXPLOITATION_TYPE_BEGGING"}},
		{Status: "TRAFFICKING_STATUS_NOT_VICTIM", Sex: "SEX_FEMALE"},
		{Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", Sex: "SEX_FEMALE", AgeBand: "AGE_BAND_CHILD", Citizenships: []string{"AL"},
			Day: "2025-03-01", IdentifyingInstitution: "ASP-ANTITRAF", Prefecture: "TIRANE"},
	}
	want := strings.Join([]string{
		"year_of_identification,gender,age_group,citizenship_group,type_of_exploitation,trafficking_status",
		// Sorted, so that the order says nothing of when a case was registered.
		"2025,FEMALE,CHILD,AL,EXPLOITATION_TYPE_UNKNOWN,POTENTIAL_VICTIM",
		"2025,MALE,ADULT,NON_EU,EXPLOITATION_TYPE_BEGGING|EXPLOITATION_TYPE_LABOUR,VICTIM",
		"",
	}, "\n")
	if got := string(CSV(CaseLevel(2025, cases))); got != want {
		t.Errorf("CSV(CaseLevel) =\n%s\nwant\n%s", got, want)
	}
	if !slices.Equal(QuasiIdentifiers, []string{"year_of_identification", "gender", "age_group", "citizenship_group"}) {
		t.Errorf("QuasiIdentifiers = %v", QuasiIdentifiers)
	}
}
