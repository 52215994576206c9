package reports

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// XLSX writes the sections as a workbook, one sheet per section: each table its title, its
// header row and its rows, with a blank row between tables. Figures are numbers, so that they
// add up in the spreadsheet.
func XLSX(sections []Section) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	for i, s := range sections {
		sheet := SheetName(i, s.Title)
		if i == 0 {
			if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(sheet); err != nil {
			return nil, err
		}
		row := 1
		put := func(values []string, style int) error {
			cells := make([]any, len(values))
			for j, v := range values {
				cells[j] = v
				if n, err := strconv.ParseInt(v, 10, 64); err == nil && j > 0 {
					cells[j] = n
				}
			}
			start, _ := excelize.CoordinatesToCellName(1, row)
			if err := f.SetSheetRow(sheet, start, &cells); err != nil {
				return err
			}
			if style != 0 {
				end, _ := excelize.CoordinatesToCellName(max(len(values), 1), row)
				if err := f.SetCellStyle(sheet, start, end, style); err != nil {
					return err
				}
			}
			row++
			return nil
		}
		for _, t := range s.Tables {
			if err := put([]string{t.Title}, bold); err != nil {
				return nil, err
			}
			if err := put(t.Columns, bold); err != nil {
				return nil, err
			}
			for _, r := range t.Rows {
				if err := put(r, 0); err != nil {
					return nil, err
				}
			}
			row++
		}
		if err := f.SetColWidth(sheet, "A", "A", 40); err != nil {
			return nil, err
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("write the workbook: %w", err)
	}
	return b.Bytes(), nil
}

// SheetName is the sheet of the i-th section: its title, without the characters a sheet name
// may not hold, cut to Excel's 31 characters, and numbered should two titles meet there.
func SheetName(i int, title string) string {
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return ' '
		}
		return r
	}, title)
	prefix := fmt.Sprintf("%d ", i+1)
	if r := []rune(prefix + name); len(r) > 31 {
		return string(r[:31])
	}
	return prefix + name
}
