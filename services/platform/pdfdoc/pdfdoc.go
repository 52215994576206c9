// Package pdfdoc renders the Authority's official documents to PDF: the secretariat's approved
// meeting minutes and the monthly report.
//
// A Document is a title and a sequence of blocks (headings, paragraphs, key/value lists, tables
// and bar charts) laid out on A4 pages with the document's reference at the top of every page
// and "page N of M" at the bottom. The text is set in the Go fonts, embedded, so Albanian and
// other Latin, Greek and Cyrillic letters print and can be searched and copied.
//
// Rendering is deterministic: the same Document always yields the same bytes, so the hash of an
// approved document, kept in the audit trail, can be checked against a fresh rendering.
package pdfdoc

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Document is an official document, ready to render.
type Document struct {
	Title    string
	Subtitle string
	// Reference is printed at the top of every page, e.g. "MB-2026-12 minutes v3".
	Reference string
	// Created is the document's date. It sets the PDF's creation and modification dates, which
	// would otherwise be the time of rendering, and is required for that reason. Only the instant
	// counts: the dates are written in UTC. Created is not printed; a document that shows its
	// date says so in its blocks.
	Created time.Time
	Blocks  []Block
}

// Block is a part of a document's body: a Heading, Paragraph, List, Table or BarChart.
type Block interface{ block() }

// Heading starts a section. It never ends a page: when little room is left, it moves to the next
// page with what follows it.
type Heading struct{ Text string }

// Paragraph is running text, wrapped to the page; "\n" starts a new line.
type Paragraph struct{ Text string }

// List is a column of labelled values, such as a meeting's date, place and chair.
type List struct{ Items []Item }

// Item is one line of a List.
type Item struct{ Label, Value string }

// Table is a ruled table. Long cells wrap within their column; a table that continues on another
// page repeats its header row there.
type Table struct {
	Columns []string
	// Rows hold one cell per column.
	Rows [][]string
}

// BarChart draws one horizontal bar per label, with its value printed at the end of the bar.
// Bars are scaled to the largest value; values are counts or amounts, never negative.
type BarChart struct {
	Title  string
	Labels []string
	Values []float64
}

func (Heading) block()   {}
func (Paragraph) block() {}
func (List) block()      {}
func (Table) block()     {}
func (BarChart) block()  {}

// ErrInvalid is the error Render returns, wrapped with the reason, for a document it cannot
// render: a caller's mistake, not a failure of the renderer.
var ErrInvalid = errors.New("pdfdoc: invalid document")

func (d Document) validate() error {
	if strings.TrimSpace(d.Title) == "" {
		return fmt.Errorf("%w: Title is empty", ErrInvalid)
	}
	if d.Created.IsZero() {
		return fmt.Errorf("%w: Created is not set", ErrInvalid)
	}
	for i, b := range d.Blocks {
		if err := validateBlock(b); err != nil {
			return fmt.Errorf("%w: Blocks[%d]: %s", ErrInvalid, i, err)
		}
	}
	return nil
}

func validateBlock(b Block) error {
	switch b := b.(type) {
	case Heading:
		if strings.TrimSpace(b.Text) == "" {
			return errors.New("heading is empty")
		}
	case Paragraph, List:
	case Table:
		if len(b.Columns) == 0 {
			return errors.New("table has no columns")
		}
		for i, row := range b.Rows {
			if len(row) != len(b.Columns) {
				return fmt.Errorf("table row %d has %d cells, want %d (one per column)", i, len(row), len(b.Columns))
			}
		}
	case BarChart:
		if len(b.Labels) != len(b.Values) {
			return fmt.Errorf("bar chart %q has %d labels and %d values", b.Title, len(b.Labels), len(b.Values))
		}
		if len(b.Values) == 0 {
			return fmt.Errorf("bar chart %q has no bars", b.Title)
		}
		for i, v := range b.Values {
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				return fmt.Errorf("bar chart %q: value %d (%s) is %v", b.Title, i, b.Labels[i], v)
			case v < 0:
				return fmt.Errorf("bar chart %q: value %d (%s) is negative: %v", b.Title, i, b.Labels[i], v)
			}
		}
	default:
		// A nil block, or a pointer to one: the types are values, as the document is.
		return fmt.Errorf("%T is not a block", b)
	}
	return nil
}
