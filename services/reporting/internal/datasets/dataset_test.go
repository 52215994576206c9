package datasets

import (
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// reasonOf is the ErrorInfo reason of err, "" when it has none.
func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.GetReason()
		}
	}
	return ""
}

func TestValidateElements(t *testing.T) {
	ok := Element{Code: "ADMISSIONS", Name: "Admissions", Parts: bySex}
	tests := []struct {
		name     string
		elements []Element
		fields   []string
	}{
		{"a valid form", []Element{ok, {Code: "EXITS", Name: "Exits", CrossCheck: CasesIdentified}}, nil},
		{"empty", nil, []string{"elements"}},
		{"bad code", []Element{{Code: "admissions", Name: "x"}}, []string{"elements[0].code"}},
		{"repeated code", []Element{ok, ok}, []string{"elements[1].code"}},
		{"no name", []Element{{Code: "EXITS"}}, []string{"elements[0].name"}},
		{"unknown cross-check", []Element{{Code: "EXITS", Name: "Exits", CrossCheck: "VIBES"}}, []string{"elements[0].cross_check"}},
		{"a breakdown of one part", []Element{{Code: "EXITS", Name: "Exits", Parts: bySex[:1]}}, []string{"elements[0].parts"}},
		{
			"bad and repeated parts", []Element{{Code: "EXITS", Name: "Exits", Parts: []Part{{"SEX_MALE", "Male"}, {"SEX_MALE", "Male"}, {"x", ""}}}},
			[]string{"elements[0].parts[1].code", "elements[0].parts[2].code", "elements[0].parts[2].name"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateElements("elements", tt.elements)
			if got := apierr.ViolatedFields(err); !slices.Equal(got, tt.fields) {
				t.Errorf("violations %v (%v), want %v", got, err, tt.fields)
			}
		})
	}
}

// Every member has a valid default form, and the front-line institutions' identifications are
// cross-checked against the registry.
func TestDefaults(t *testing.T) {
	defaults := Defaults()
	if len(defaults) != 13 || !slices.IsSorted(Members) {
		t.Fatalf("%d defaults, members sorted %v; want 13 in code order", len(defaults), slices.IsSorted(Members))
	}
	for _, d := range defaults {
		if err := ValidateElements("elements", d.Elements); err != nil {
			t.Errorf("%s: %v", d.Member, err)
		}
	}
	checked := map[string]bool{}
	for _, d := range defaults {
		for _, e := range d.Elements {
			if e.CrossCheck != "" {
				checked[d.Member] = true
			}
		}
	}
	for _, m := range []string{"ASP-ANTITRAF", "ASP-KUFIRI", "ASP-DHF-MINORE", "ASP-KIBERNETIK", "ISHPSHSH"} {
		if !checked[m] {
			t.Errorf("%s identifies victims but nothing of its form is cross-checked", m)
		}
	}
	shelters := defaults[slices.IndexFunc(defaults, func(d DataSet) bool { return d.Member == "KKSAT" })]
	if e, _ := shelters.Element("ADMISSIONS"); len(e.Parts) != len(bySex) {
		t.Errorf("shelter admissions %+v, want a breakdown by sex", e)
	}
}
