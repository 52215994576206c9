package publication

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"

	"github.com/nrm-albania/nrm/services/reporting/internal/disclosure"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// Columns of the case-level file, after the Human Trafficking Case Data Standard's generalised
// fields.
var Columns = []string{"year_of_identification", "gender", "age_group", "citizenship_group", "type_of_exploitation", "trafficking_status"}

// QuasiIdentifiers are the columns someone who knows a victim could know too, and so match her
// row by: every combination of them must be shared by k rows before the file is released. The
// exploitation and the status are what the file tells, not how a row is found.
var QuasiIdentifiers = Columns[:4]

// CaseLevel returns the generalised row of each registered victim among cases identified in
// year, sorted, so that the order says nothing of when or by whom a case was registered.
func CaseLevel(year int, cases []projection.Facts) []disclosure.Record {
	var out []disclosure.Record
	for _, f := range cases {
		if !Registered(f) {
			continue
		}
		out = append(out, disclosure.Record{
			Columns[0]: strconv.Itoa(year),
			Columns[1]: Sex(f),
			Columns[2]: AgeGroup(f),
			Columns[3]: CitizenshipGroup(f),
			Columns[4]: strings.Join(ExploitationForms(f), "|"),
			Columns[5]: strings.TrimPrefix(f.Status, "TRAFFICKING_STATUS_"),
		})
	}
	slices.SortFunc(out, func(a, b disclosure.Record) int {
		for _, c := range Columns {
			if n := cmp.Compare(a[c], b[c]); n != 0 {
				return n
			}
		}
		return 0
	})
	return out
}

// CSV writes records under a header of Columns.
func CSV(records []disclosure.Record) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(Columns) // a bytes.Buffer does not fail
	row := make([]string, len(Columns))
	for _, r := range records {
		for i, c := range Columns {
			row[i] = r[c]
		}
		_ = w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}
