package publication

import (
	"slices"

	"github.com/nrm-albania/nrm/services/reporting/internal/disclosure"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// Eurostat are the crim_thb tables of one year's registered victims.
type Eurostat struct {
	// BySexAndAge: rows AgeGroups, columns Sexes.
	BySexAndAge disclosure.Table
	// ByCitizenship: rows CitizenshipGroups, columns Sexes.
	ByCitizenship disclosure.Table
	// ByExploitation: rows the forms present, sorted, columns Sexes. A victim counts under each
	// of its forms.
	ByExploitation disclosure.Table
}

// EurostatTables counts the registered victims among cases.
func EurostatTables(cases []projection.Facts) Eurostat {
	var forms []string
	for _, f := range cases {
		if Registered(f) {
			forms = append(forms, ExploitationForms(f)...)
		}
	}
	slices.Sort(forms)
	forms = slices.Compact(forms)
	out := Eurostat{
		BySexAndAge:    newTable(AgeGroups, Sexes),
		ByCitizenship:  newTable(CitizenshipGroups, Sexes),
		ByExploitation: newTable(forms, Sexes),
	}
	for _, f := range cases {
		if !Registered(f) {
			continue
		}
		sex := slices.Index(Sexes, Sex(f))
		out.BySexAndAge.Cells[slices.Index(AgeGroups, AgeGroup(f))][sex]++
		out.ByCitizenship.Cells[slices.Index(CitizenshipGroups, CitizenshipGroup(f))][sex]++
		for _, form := range ExploitationForms(f) {
			out.ByExploitation.Cells[slices.Index(forms, form)][sex]++
		}
	}
	return out
}

func newTable(rows, cols []string) disclosure.Table {
	t := disclosure.Table{Rows: rows, Cols: cols, Cells: make([][]int64, len(rows))}
	for r := range t.Cells {
		t.Cells[r] = make([]int64, len(cols))
	}
	return t
}
