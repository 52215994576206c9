package reports

import (
	"bytes"
	"encoding/csv"
)

// CSVHeader is the first line of a report's CSV.
var CSVHeader = []string{"section", "table", "row", "column", "value"}

// CSV writes every figure of the sections as one line: section, table, row label, column,
// value. One long table rather than one CSV per table, so that a spreadsheet or a script reads
// the whole report with one header and filters it by its first columns.
func CSV(sections []Section) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(CSVHeader); err != nil {
		return nil, err
	}
	for _, s := range sections {
		for _, t := range s.Tables {
			for _, row := range t.Rows {
				for j := 1; j < len(row) && j < len(t.Columns); j++ {
					if err := w.Write([]string{s.Title, t.Title, row[0], t.Columns[j], row[j]}); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}
