package pdfdoc_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/pdfdoc"
)

var created = time.Date(2026, 12, 3, 14, 30, 0, 0, time.UTC)

const directorate = "Drejtoria e Përgjithshme për Çështjet e Migracionit"

// minutes is a document with every kind of block.
func minutes() pdfdoc.Document {
	return pdfdoc.Document{
		Title:     "Procesverbali i mbledhjes së Sekretariatit",
		Subtitle:  "Mbledhja e dhjetorit 2026",
		Reference: "MB-2026-12 minutes v3",
		Created:   created,
		Blocks: []pdfdoc.Block{
			pdfdoc.List{Items: []pdfdoc.Item{
				{Label: "Data", Value: "3 dhjetor 2026"},
				{Label: "Kryesuesi", Value: "Zëvendësministri i Brendshëm"},
			}},
			pdfdoc.Heading{Text: "Pjesëmarrësit"},
			pdfdoc.Paragraph{Text: "Morën pjesë përfaqësues nga " + directorate + " dhe Shërbimi Social Shtetëror."},
			pdfdoc.Table{
				Columns: []string{"Nr.", "Vendimi", "Përgjegjës"},
				Rows: [][]string{
					{"1", "Miratohet procesverbali i mbledhjes së nëntorit.", "Sekretariati"},
					{"2", strings.Repeat("Strehëzat raportojnë çdo muaj numrin e viktimave të pritura. ", 6) + "Fund.", "KKSAT"},
				},
			},
			pdfdoc.BarChart{
				Title:  "Rastet sipas llojit të shfrytëzimit",
				Labels: []string{"Shfrytëzim seksual", "Punë e detyruar", "Lypje e detyruar"},
				Values: []float64{42, 17.5, 0},
			},
		},
	}
}

// longDocument is a table of n rows, enough for several pages from n = 60 or so.
func longDocument(n int) pdfdoc.Document {
	d := minutes()
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprint(i + 1), fmt.Sprintf("Rasti %d u referua në strehëz.", i+1), "Çështja e hapur"}
	}
	d.Blocks = append(d.Blocks, pdfdoc.Table{Columns: []string{"Nr.", "Përshkrimi", "Gjendja"}, Rows: rows})
	return d
}

func TestRenderRejects(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*pdfdoc.Document)
		error string
	}{
		{"empty title", func(d *pdfdoc.Document) { d.Title = " " }, "Title is empty"},
		{"no date", func(d *pdfdoc.Document) { d.Created = time.Time{} }, "Created is not set"},
		{"nil block", func(d *pdfdoc.Document) { d.Blocks[1] = nil }, "Blocks[1]: <nil> is not a block"},
		{"pointer block", func(d *pdfdoc.Document) { d.Blocks[1] = &pdfdoc.Heading{Text: "x"} }, "*pdfdoc.Heading is not a block"},
		{"empty heading", func(d *pdfdoc.Document) { d.Blocks[1] = pdfdoc.Heading{} }, "Blocks[1]: heading is empty"},
		{"table without columns", func(d *pdfdoc.Document) { d.Blocks[3] = pdfdoc.Table{} }, "Blocks[3]: table has no columns"},
		{"short row", func(d *pdfdoc.Document) {
			d.Blocks[3] = pdfdoc.Table{Columns: []string{"a", "b"}, Rows: [][]string{{"1", "2"}, {"3"}}}
		}, "Blocks[3]: table row 1 has 1 cells, want 2 (one per column)"},
		{"long row", func(d *pdfdoc.Document) {
			d.Blocks[3] = pdfdoc.Table{Columns: []string{"a"}, Rows: [][]string{{"1", "2"}}}
		}, "table row 0 has 2 cells, want 1"},
		{"more labels than values", func(d *pdfdoc.Document) {
			d.Blocks[4] = pdfdoc.BarChart{Title: "Rastet", Labels: []string{"a", "b"}, Values: []float64{1}}
		}, `Blocks[4]: bar chart "Rastet" has 2 labels and 1 values`},
		{"no bars", func(d *pdfdoc.Document) { d.Blocks[4] = pdfdoc.BarChart{Title: "Rastet"} }, `bar chart "Rastet" has no bars`},
		{"negative value", func(d *pdfdoc.Document) {
			d.Blocks[4] = pdfdoc.BarChart{Labels: []string{"a", "b"}, Values: []float64{1, -2}}
		}, `value 1 (b) is negative: -2`},
		{"NaN", func(d *pdfdoc.Document) {
			d.Blocks[4] = pdfdoc.BarChart{Labels: []string{"a"}, Values: []float64{math.NaN()}}
		}, `value 0 (a) is NaN`},
		{"infinite value", func(d *pdfdoc.Document) {
			d.Blocks[4] = pdfdoc.BarChart{Labels: []string{"a"}, Values: []float64{math.Inf(1)}}
		}, `value 0 (a) is +Inf`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := minutes()
			tt.edit(&d)
			pdf, err := pdfdoc.Render(d)
			if !errors.Is(err, pdfdoc.ErrInvalid) || !strings.Contains(err.Error(), tt.error) {
				t.Fatalf("Render: %v, want ErrInvalid saying %q", err, tt.error)
			}
			if pdf != nil {
				t.Errorf("Render returned %d bytes with its error", len(pdf))
			}
		})
	}
}

func TestRenderAccepts(t *testing.T) {
	tests := []struct {
		name  string
		block pdfdoc.Block
	}{
		{"table without rows", pdfdoc.Table{Columns: []string{"Nr.", "Vendimi"}}},
		{"empty cells", pdfdoc.Table{Columns: []string{"", ""}, Rows: [][]string{{"", ""}}}},
		{"word wider than its column", pdfdoc.Table{Columns: []string{"a", "b"}, Rows: [][]string{{strings.Repeat("x", 400), "y"}}}},
		{"cell taller than a page", pdfdoc.Table{Columns: []string{"Nr.", "Tekst"}, Rows: [][]string{{"1", strings.Repeat("rresht\n", 120)}}}},
		{"all bars zero", pdfdoc.BarChart{Labels: []string{"a", "b"}, Values: []float64{0, 0}}},
		{"chart without title", pdfdoc.BarChart{Labels: []string{"a"}, Values: []float64{1}}},
		{"empty list", pdfdoc.List{}},
		{"empty paragraph", pdfdoc.Paragraph{}},
		{"letters the fonts lack", pdfdoc.Table{Columns: []string{"漢字"}, Rows: [][]string{{"🙂 " + strings.Repeat("字", 200)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := minutes()
			d.Blocks = append(d.Blocks, tt.block)
			pdf, err := pdfdoc.Render(d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(pdf), []byte("%%EOF")) {
				t.Errorf("not a complete PDF: %q…", pdf[:min(len(pdf), 16)])
			}
		})
	}
}

// The hash of approved minutes goes into the audit trail: rendering them again, at another time,
// in another time zone or concurrently, must give the same bytes.
func TestRenderIsDeterministic(t *testing.T) {
	want, err := pdfdoc.Render(longDocument(80))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(want, []byte("/CreationDate (D:20261203143000)")) {
		t.Error("the creation date is not the document's")
	}
	elsewhere := longDocument(80)
	elsewhere.Created = created.In(time.FixedZone("CET", 3600))

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			d := longDocument(80)
			if i%2 == 1 {
				d = elsewhere
			}
			got, err := pdfdoc.Render(d)
			if err != nil {
				t.Error(err)
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendering %d differs from the first (%d and %d bytes)", i, len(got), len(want))
			}
		})
	}
	wg.Wait()
}

func TestRenderText(t *testing.T) {
	pages := pdfText(t, minutes())
	if len(pages) != 1 {
		t.Fatalf("%d pages, want 1", len(pages))
	}
	for _, want := range []string{
		"MB-2026-12 minutes v3",
		"Procesverbali i mbledhjes së Sekretariatit",
		"Mbledhja e dhjetorit 2026",
		"Kryesuesi", "Zëvendësministri i Brendshëm",
		"Pjesëmarrësit",
		directorate,
		"Nr.", "Vendimi", "Përgjegjës", "Miratohet procesverbali", "Sekretariati", "KKSAT", "Fund.",
		"Rastet sipas llojit të shfrytëzimit", "Shfrytëzim seksual", "Punë e detyruar", "42", "17.5",
		"page 1 of 1",
	} {
		if !strings.Contains(pages[0], want) {
			t.Errorf("page 1 lacks %q:\n%s", want, pages[0])
		}
	}
}

func TestRenderLongDocument(t *testing.T) {
	pages := pdfText(t, longDocument(150))
	if len(pages) < 3 {
		t.Fatalf("%d pages, want 3 or more", len(pages))
	}
	for i, page := range pages {
		for _, want := range []string{
			"MB-2026-12 minutes v3",
			"Përshkrimi", // the header row, repeated on every page the table crosses
			fmt.Sprintf("page %d of %d", i+1, len(pages)),
		} {
			if !strings.Contains(page, want) {
				t.Errorf("page %d lacks %q:\n%s", i+1, want, page)
			}
		}
	}
	for _, want := range []string{"Rasti 1 u referua", "Rasti 150 u referua"} {
		if !strings.Contains(strings.Join(pages, " "), want) {
			t.Errorf("the document lacks %q", want)
		}
	}
}

// pdfText renders d and returns the text of each page, as pdftotext extracts it, with runs of
// white space made one space so wrapped lines read as one.
func pdfText(t *testing.T, d pdfdoc.Document) []string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is not installed: .ci/run installs poppler-utils")
		}
		t.Skip("pdftotext is not installed: install poppler-utils (apt-get install poppler-utils) to run this test")
	}
	pdf, err := pdfdoc.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	pages := strings.Split(strings.TrimSuffix(string(out), "\f"), "\f")
	for i, p := range pages {
		pages[i] = strings.Join(strings.Fields(p), " ")
	}
	return pages
}

func BenchmarkRender(b *testing.B) {
	d := longDocument(590)
	pdf, err := pdfdoc.Render(d)
	if err != nil {
		b.Fatal(err)
	}
	if n := bytes.Count(pdf, []byte("/Type /Page\n")); n != 20 {
		b.Fatalf("the document has %d pages, want 20", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pdfdoc.Render(d); err != nil {
			b.Fatal(err)
		}
	}
}
