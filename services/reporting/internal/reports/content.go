// Package reports is the Authority's periodic report: its content (sections of tables, built by
// one Builder per section from the projections), its approval by every member institution, and
// its exports (PDF, XLSX, CSV).
package reports

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Section is one part of a report, such as the cases identified in the period.
type Section struct {
	Title  string  `bson:"title"`
	Tables []Table `bson:"tables"`
}

// Table is a table of figures. The first column labels the rows, the others hold figures, as
// text so that a report freezes exactly what was printed.
type Table struct {
	Title   string
	Columns []string
	Rows    [][]string
	// Chart asks the PDF to draw the table's first figure column as a bar chart too: for the
	// breakdowns people would rather look at than read.
	Chart bool
}

// storedTable is a Table as the store keeps it: each row a document of its cells, since
// FerretDB keeps no arrays of arrays.
type storedTable struct {
	Title   string      `bson:"title"`
	Columns []string    `bson:"columns"`
	Rows    []storedRow `bson:"rows"`
	Chart   bool        `bson:"chart,omitempty"`
}

type storedRow struct {
	Cells []string `bson:"cells"`
}

// MarshalBSON implements bson.Marshaler.
func (t Table) MarshalBSON() ([]byte, error) {
	s := storedTable{Title: t.Title, Columns: t.Columns, Rows: make([]storedRow, len(t.Rows)), Chart: t.Chart}
	for i, r := range t.Rows {
		s.Rows[i].Cells = r
	}
	return bson.Marshal(s)
}

// UnmarshalBSON implements bson.Unmarshaler.
func (t *Table) UnmarshalBSON(b []byte) error {
	var s storedTable
	if err := bson.Unmarshal(b, &s); err != nil {
		return err
	}
	*t = Table{Title: s.Title, Columns: s.Columns, Rows: make([][]string, len(s.Rows)), Chart: s.Chart}
	for i, r := range s.Rows {
		t.Rows[i] = r.Cells
	}
	return nil
}

// Builder builds one section of the report of a period. Sections are fixed: a report holds one
// section per builder, in the builders' order, so adding a section to the report is adding a
// builder (referrals, meetings, members' data).
type Builder interface {
	Build(ctx context.Context, p Period) (Section, error)
}

// Compose builds every section of the report of p, in order.
func Compose(ctx context.Context, builders []Builder, p Period) ([]Section, error) {
	out := make([]Section, 0, len(builders))
	for _, b := range builders {
		s, err := b.Build(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("build the report of %s: %w", p.Key(), err)
		}
		out = append(out, s)
	}
	return out, nil
}

// Period is the days a report covers, both inclusive, as YYYY-MM-DD.
type Period struct {
	From, To string
}

// Month is the period of a calendar month, "YYYY-MM".
func Month(month string) (Period, error) {
	first, err := time.Parse("2006-01", month)
	if err != nil {
		return Period{}, fmt.Errorf("%q is not a month YYYY-MM", month)
	}
	return Period{From: first.Format(time.DateOnly), To: first.AddDate(0, 1, -1).Format(time.DateOnly)}, nil
}

// Days is the period from..to, both valid dates and in order.
func Days(from, to string) (Period, error) {
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return Period{}, fmt.Errorf("from %q is not a date YYYY-MM-DD", from)
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return Period{}, fmt.Errorf("to %q is not a date YYYY-MM-DD", to)
	}
	if t.Before(f) {
		return Period{}, fmt.Errorf("to %s is before from %s", to, from)
	}
	return Period{From: from, To: to}, nil
}

// Key names the period, and so its report: "YYYY-MM" for a whole calendar month,
// "YYYY-MM-DD..YYYY-MM-DD" otherwise.
func (p Period) Key() string {
	if m := p.From[:7]; p.From == m+"-01" {
		if whole, err := Month(m); err == nil && whole == p {
			return m
		}
	}
	return p.From + ".." + p.To
}

// Months are the calendar months the period touches, each clipped to the period, in order.
func (p Period) Months() []Period {
	var out []Period
	from, _ := time.Parse(time.DateOnly, p.From)
	for first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); first.Format(time.DateOnly) <= p.To; first = first.AddDate(0, 1, 0) {
		m := Period{From: max(first.Format(time.DateOnly), p.From), To: min(first.AddDate(0, 1, -1).Format(time.DateOnly), p.To)}
		out = append(out, m)
	}
	return out
}
