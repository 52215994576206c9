package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// stats answers every period with the same counts, and a month's with its own total.
type stats struct{ perMonth map[string]int64 }

func (s stats) Statistics(_ context.Context, from, to string) (projection.Statistics, error) {
	if n, ok := s.perMonth[from[:7]]; ok && from[:7] == to[:7] {
		return projection.Statistics{Counts: projection.Counts{Total: n}}, nil
	}
	return projection.Statistics{Counts: projection.Counts{
		Total:              7,
		BySex:              map[string]int64{"SEX_FEMALE": 5, "SEX_MALE": 2},
		ByExploitationType: map[string]int64{"EXPLOITATION_TYPE_SEXUAL": 4, "EXPLOITATION_TYPE_FORCED_LABOUR": 3, "EXPLOITATION_TYPE_BEGGING": 1},
		ByStatus:           map[string]int64{"TRAFFICKING_STATUS_POTENTIAL_VICTIM": 6, "TRAFFICKING_STATUS_VICTIM": 1},
		ByAgeBand:          map[string]int64{"AGE_BAND_CHILD": 3, "AGE_BAND_ADULT": 4},
		ByCitizenship:      map[string]int64{"AL": 6, "XK": 1},
		ByPrefecture:       map[string]int64{"PREFECTURE_UNSPECIFIED": 7},
	}}, nil
}

func build(t *testing.T, p Period) []Section {
	t.Helper()
	s, err := Compose(context.Background(), []Builder{Cases{Stats: stats{perMonth: map[string]int64{"2026-07": 2, "2026-08": 0, "2026-09": 5}}}}, p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func table(t *testing.T, s Section, title string) Table {
	t.Helper()
	i := slices.IndexFunc(s.Tables, func(x Table) bool { return x.Title == title })
	if i < 0 {
		t.Fatalf("no table %q in %q", title, s.Title)
	}
	return s.Tables[i]
}

func TestTheCasesSection(t *testing.T) {
	month, _ := Month("2026-10")
	s := build(t, month)[0]
	if got := table(t, s, "Total").Rows; !slices.Equal(got[0], []string{"Identified in the period", "7"}) {
		t.Errorf("total: %v", got)
	}
	want := [][]string{{"sexual", "4"}, {"forced labour", "3"}, {"begging", "1"}}
	if got := table(t, s, "By exploitation type"); !slices.EqualFunc(got.Rows, want, slices.Equal) || !got.Chart {
		t.Errorf("by exploitation type: %+v", got)
	}
	if got := table(t, s, "By prefecture of residence").Rows; !slices.Equal(got[0], []string{"not recorded", "7"}) {
		t.Errorf("by prefecture: %v", got)
	}
	if slices.ContainsFunc(s.Tables, func(x Table) bool { return x.Title == "By month of identification" }) {
		t.Error("a month's report has a table by month")
	}
	quarter, _ := Days("2026-07-01", "2026-09-30")
	byMonth := table(t, build(t, quarter)[0], "By month of identification")
	if want := [][]string{{"2026-07", "2"}, {"2026-08", "0"}, {"2026-09", "5"}}; !slices.EqualFunc(byMonth.Rows, want, slices.Equal) || !byMonth.Chart {
		t.Errorf("by month: %+v", byMonth)
	}
}

func TestTheXLSXHoldsTheFigures(t *testing.T) {
	p, _ := Days("2026-07-01", "2026-09-30")
	b, err := XLSX(build(t, p))
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); !slices.Equal(sheets, []string{"1 Cases identified"}) {
		t.Fatalf("sheets %v", sheets)
	}
	rows, err := f.GetRows("1 Cases identified")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{{"Total"}, {"Identified in the period", "7"}, {"female", "5"}, {"forced labour", "3"}, {"2026-09", "5"}} {
		if !slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("no row %v in %v", want, rows)
		}
	}
	if v, err := f.GetCellType("1 Cases identified", "B3"); err != nil || v == excelize.CellTypeSharedString || v == excelize.CellTypeInlineString {
		t.Errorf("figures are not numbers: %v, %v", v, err)
	}
}

func TestTheCSVHasALinePerFigure(t *testing.T) {
	p, _ := Month("2026-10")
	b, err := CSV(build(t, p))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lines[0], CSVHeader) {
		t.Errorf("header %v", lines[0])
	}
	for _, want := range [][]string{
		{"Cases identified", "Total", "Identified in the period", "Number", "7"},
		{"Cases identified", "By sex", "female", "Cases", "5"},
		{"Cases identified", "By citizenship", "XK", "Cases", "1"},
	} {
		if !slices.ContainsFunc(lines, func(l []string) bool { return slices.Equal(l, want) }) {
			t.Errorf("no line %v", want)
		}
	}
}

// The PDF's text carries the figures and the approvals, and the same record renders to the
// same bytes, so that the hash kept at submission identifies it.
func TestThePDFCarriesTheFigures(t *testing.T) {
	p, _ := Days("2026-07-01", "2026-09-30")
	r := circulated(t, 13)
	r.Period, r.From, r.To, r.Sections = p.Key(), p.From, p.To, build(t, p)
	pdf, err := PDF(r)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := PDF(r); !bytes.Equal(pdf, again) {
		t.Error("the same report rendered to other bytes")
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"Report of the Responsible Authority, 2026-07-01..2026-09-30", "Approved by all 13 members",
		"By exploitation type", "forced labour", "By month of identification", "2026-08", "KKSAT"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is not installed: .ci/run installs poppler-utils")
		}
		t.Skip("pdftotext is not installed: install poppler-utils (apt-get install poppler-utils) to run this test")
	}
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}
