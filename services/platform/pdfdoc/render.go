package pdfdoc

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Layout, in millimetres unless the name says points.
const (
	pageWidth  = 210.0 // A4
	pageHeight = 297.0
	margin     = 20.0 // every side; the page header and footer sit in the top and bottom margins
	bottom     = pageHeight - margin
	bodyPt     = 10.0
	lineHeight = 5.0
	cellPad    = 1.5 // inside table cells, each side
	blockGap   = 4.0 // after every block
	barHeight  = 5.0
	barGap     = 2.0
	family     = "go" // the Go fonts, embedded
	pageCount  = "{nb}"
)

// Colours, as RGB.
var (
	black = [3]int{0, 0, 0}
	grey  = [3]int{96, 96, 96}
	rule  = [3]int{160, 160, 160}
	shade = [3]int{230, 233, 238}
	bar   = [3]int{31, 78, 121}
)

// Render lays out d on A4 pages and returns the PDF. The error wraps ErrInvalid when d cannot be
// rendered as it is.
func Render(d Document) ([]byte, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	// The same Document, the same bytes: fpdf would otherwise date the file with the time of
	// rendering and write its font catalog in map order. It writes no /ID unless encrypting.
	pdf.SetCreationDate(d.Created.UTC())
	pdf.SetModificationDate(d.Created.UTC())
	pdf.SetCatalogSort(true)
	pdf.SetTitle(d.Title, true)
	pdf.AddUTF8FontFromBytes(family, "", goregular.TTF)
	pdf.AddUTF8FontFromBytes(family, "B", gobold.TTF)
	pdf.AliasNbPages(pageCount)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.SetCellMargin(cellPad)

	r := renderer{pdf: pdf, width: pageWidth - 2*margin}
	pdf.SetHeaderFunc(func() { r.header(d.Reference) })
	pdf.SetFooterFunc(r.footer)
	pdf.AddPage()
	r.title(d.Title, d.Subtitle)
	for _, b := range d.Blocks {
		switch b := b.(type) {
		case Heading:
			r.heading(b)
		case Paragraph:
			r.paragraph(b)
		case List:
			r.list(b)
		case Table:
			r.table(b)
		case BarChart:
			r.barChart(b)
		}
		pdf.Ln(blockGap)
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("pdfdoc: %w", err)
	}
	return out.Bytes(), nil
}

type renderer struct {
	pdf   *fpdf.Fpdf
	width float64 // between the side margins
}

func (r *renderer) font(bold bool, pt float64, colour [3]int) {
	style := ""
	if bold {
		style = "B"
	}
	r.pdf.SetFont(family, style, pt)
	r.pdf.SetTextColor(colour[0], colour[1], colour[2])
}

// write prints text across the page from the current line, wrapped, in lines lh high.
func (r *renderer) write(text string, lh float64) {
	r.pdf.MultiCell(r.width, lh, bmp(text), "", "L", false)
}

// cell prints one line of text at the current position in a box w wide and h high, aligned "L",
// "C" or "R".
func (r *renderer) cell(w, h float64, text, align string) {
	r.pdf.CellFormat(w, h, bmp(text), "", 0, align, false, 0, "")
}

// split wraps text into the lines that fit a box w wide, in the current font.
func (r *renderer) split(text string, w float64) []string {
	return r.pdf.SplitText(bmp(text), w)
}

// bmp replaces the letters beyond Unicode's Basic Multilingual Plane (emoji, rare CJK) with
// U+FFFD: fpdf writes text in 16-bit code units and panics on those. All text reaches fpdf
// through it, in write, cell, split and widest.
func bmp(s string) string {
	return strings.Map(func(c rune) rune {
		if c > 0xFFFF {
			return utf8.RuneError
		}
		return c
	}, s)
}

func (r *renderer) header(reference string) {
	r.font(false, 8, grey)
	r.pdf.SetDrawColor(rule[0], rule[1], rule[2])
	r.pdf.SetXY(margin, margin/2)
	r.cell(r.width, 4, reference, "L")
	r.pdf.Line(margin, margin/2+4, margin+r.width, margin/2+4)
	r.pdf.SetY(margin)
}

func (r *renderer) footer() {
	r.font(false, 8, grey)
	r.pdf.SetY(bottom + margin/3)
	r.cell(r.width, 4, fmt.Sprintf("page %d of %s", r.pdf.PageNo(), pageCount), "C")
}

// keep starts a new page unless h more millimetres fit on this one, or this page is still empty
// (then nothing fits better on the next).
func (r *renderer) keep(h float64) {
	if y := r.pdf.GetY(); y+h > bottom && y > margin {
		r.pdf.AddPage()
	}
}

// linesLeft is how many lines of body text, in a cell, fit on the rest of the page.
func (r *renderer) linesLeft() int {
	// The epsilon keeps a line that fits exactly from being lost to rounding.
	return int(math.Floor((bottom-r.pdf.GetY()-2*cellPad)/lineHeight + 1e-9))
}

func (r *renderer) title(title, subtitle string) {
	r.font(true, 18, black)
	r.write(title, 8)
	if subtitle != "" {
		r.font(false, 12, grey)
		r.write(subtitle, 6)
	}
	r.pdf.Ln(2 * blockGap)
}

func (r *renderer) heading(h Heading) {
	const pt, lh = 13, 6.5
	r.font(true, pt, black)
	lines := len(r.split(h.Text, r.width))
	r.keep(float64(lines)*lh + 3*lineHeight)
	r.write(h.Text, lh)
}

func (r *renderer) paragraph(p Paragraph) {
	r.font(false, bodyPt, black)
	r.write(p.Text, lineHeight)
}

func (r *renderer) list(l List) {
	labels := make([]string, len(l.Items))
	for i, it := range l.Items {
		labels[i] = it.Label
	}
	r.font(true, bodyPt, black)
	labelWidth := min(r.widest(labels), r.width/3)
	g := grid{widths: []float64{labelWidth, r.width - labelWidth}, bold: []bool{true, false}}
	for _, it := range l.Items {
		r.row(g, r.wrap(g, []string{it.Label, it.Value}))
	}
}

func (r *renderer) table(t Table) {
	n := len(t.Columns)
	head := grid{bold: slices.Repeat([]bool{true}, n), ruled: true, shaded: true}
	body := grid{bold: make([]bool, n), ruled: true}
	head.widths = r.columnWidths(t)
	body.widths = head.widths
	header := r.wrap(head, t.Columns)
	body.repeat = func() { r.row(head, header) }
	body.repeatHeight = cellHeight(header)

	first := 0.0
	if len(t.Rows) > 0 {
		first = cellHeight(r.wrap(body, t.Rows[0]))
	}
	r.keep(body.repeatHeight + first) // the header row never ends a page alone
	r.row(head, header)
	for _, row := range t.Rows {
		r.row(body, r.wrap(body, row))
	}
}

// columnWidths gives every column its natural width, the width of its widest cell on one line,
// when they all fit; otherwise the narrow columns keep theirs and the wide ones share the rest in
// proportion, so codes and dates stay on one line and prose wraps. Columns are then widened in
// proportion to fill the page.
func (r *renderer) columnWidths(t Table) []float64 {
	natural := make([]float64, len(t.Columns))
	cells := make([]string, len(t.Rows))
	for c, name := range t.Columns {
		for i, row := range t.Rows {
			cells[i] = row[c]
		}
		r.font(true, bodyPt, black)
		natural[c] = r.widest([]string{name})
		r.font(false, bodyPt, black)
		natural[c] = max(natural[c], r.widest(cells))
	}
	return shareWidth(natural, r.width)
}

func shareWidth(natural []float64, total float64) []float64 {
	widths := make([]float64, len(natural))
	settled := make([]bool, len(natural))
	left, open := total, len(natural)
	for changed := true; changed && open > 0; {
		changed = false
		fair := left / float64(open)
		for i, w := range natural {
			if !settled[i] && w <= fair {
				widths[i], settled[i], changed = w, true, true
				left -= w
				open--
			}
		}
	}
	wide := 0.0
	for i, w := range natural {
		if !settled[i] {
			wide += w
		}
	}
	for i, w := range natural {
		if !settled[i] {
			widths[i] = left * w / wide
		}
	}
	used := 0.0
	for _, w := range widths {
		used += w
	}
	for i := range widths {
		widths[i] *= total / used
	}
	return widths
}

// widest is the width of the widest of texts on one line, padding included, in the current font.
func (r *renderer) widest(texts []string) float64 {
	w := 0.0
	for _, s := range texts {
		w = max(w, r.pdf.GetStringWidth(bmp(s)))
	}
	return w + 2*cellPad
}

// grid is the layout of rows of wrapped cells: a table's header or body, or a list.
type grid struct {
	widths []float64
	bold   []bool // per column
	ruled  bool   // borders around the cells
	shaded bool
	// repeat, when set, draws what heads the rows again on every page they continue on; it is
	// repeatHeight high.
	repeat       func()
	repeatHeight float64
}

// wrap splits each cell into the lines that fit its column.
func (r *renderer) wrap(g grid, cells []string) [][]string {
	lines := make([][]string, len(cells))
	for i, c := range cells {
		r.font(g.bold[i], bodyPt, black)
		lines[i] = r.split(c, g.widths[i])
	}
	return lines
}

// cellHeight is the height of a row of wrapped cells.
func cellHeight(cells [][]string) float64 {
	return float64(rowLines(cells))*lineHeight + 2*cellPad
}

func rowLines(cells [][]string) int {
	n := 1
	for _, c := range cells {
		n = max(n, len(c))
	}
	return n
}

// row draws a row of wrapped cells. A row that does not fit on the rest of the page moves to the
// next; one taller than a page is split between pages.
func (r *renderer) row(g grid, cells [][]string) {
	n := rowLines(cells)
	perPage := int(math.Floor((bottom-margin-g.repeatHeight-2*cellPad)/lineHeight + 1e-9))
	fresh := false // on a page begun for this row, where waiting cannot help
	for done := 0; done < n; {
		rest, fit := n-done, r.linesLeft()
		if fit < rest && !fresh && (fit < 1 || rest <= perPage) {
			r.pdf.AddPage()
			if g.repeat != nil {
				g.repeat()
			}
			fresh = true
			continue
		}
		k := max(1, min(rest, fit))
		r.cells(g, cells, done, done+k)
		done += k
		fresh = false
	}
}

// cells draws lines [from, to) of each cell, side by side.
func (r *renderer) cells(g grid, cells [][]string, from, to int) {
	x, y := margin, r.pdf.GetY()
	h := float64(to-from)*lineHeight + 2*cellPad
	r.pdf.SetDrawColor(rule[0], rule[1], rule[2])
	r.pdf.SetFillColor(shade[0], shade[1], shade[2])
	for i, lines := range cells {
		w := g.widths[i]
		switch {
		case g.shaded:
			r.pdf.Rect(x, y, w, h, "FD")
		case g.ruled:
			r.pdf.Rect(x, y, w, h, "D")
		}
		r.font(g.bold[i], bodyPt, black)
		for j := from; j < min(to, len(lines)); j++ {
			r.pdf.SetXY(x, y+cellPad+float64(j-from)*lineHeight)
			r.cell(w, lineHeight, lines[j], "L")
		}
		x += w
	}
	r.pdf.SetXY(margin, y+h)
}

func (r *renderer) barChart(c BarChart) {
	const titlePt, titleLine = 11, 6
	values := make([]string, len(c.Values))
	for i, v := range c.Values {
		values[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	r.font(false, bodyPt, black)
	labelWidth := min(r.widest(c.Labels), r.width/3)
	valueWidth := r.widest(values)
	axis := margin + labelWidth
	span := r.width - labelWidth - valueWidth // the length of the largest bar
	peak := slices.Max(c.Values)

	rows := make([][]string, len(c.Labels))
	heights := make([]float64, len(c.Labels))
	for i, label := range c.Labels {
		rows[i] = r.split(label, labelWidth)
		heights[i] = max(barHeight, float64(len(rows[i]))*lineHeight) + barGap
	}

	if c.Title != "" {
		r.font(true, titlePt, black)
		r.keep(titleLine + heights[0])
		r.write(c.Title, titleLine)
		r.pdf.Ln(barGap)
	}
	r.pdf.SetFillColor(bar[0], bar[1], bar[2])
	r.pdf.SetDrawColor(rule[0], rule[1], rule[2])
	for i, lines := range rows {
		h := heights[i]
		r.keep(h)
		top := r.pdf.GetY()
		r.font(false, bodyPt, black)
		labelTop := top + (h-barGap-float64(len(lines))*lineHeight)/2
		for j, line := range lines {
			r.pdf.SetXY(margin, labelTop+float64(j)*lineHeight)
			r.cell(labelWidth, lineHeight, line, "R")
		}
		length := 0.0
		if peak > 0 {
			length = span * c.Values[i] / peak
		}
		barTop := top + (h-barGap-barHeight)/2
		r.pdf.Rect(axis, barTop, length, barHeight, "F")
		r.pdf.Line(axis, top, axis, top+h)
		r.pdf.SetXY(axis+length, barTop)
		r.cell(valueWidth, barHeight, values[i], "L")
		r.pdf.SetXY(margin, top+h)
	}
}
