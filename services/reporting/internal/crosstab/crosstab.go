// Package crosstab keeps the cross-tabulations of the cases: for every pair of case dimensions
// (sex by status, age band by exploitation type…), the number of cases per pair of values, in
// the bucket of the case's identification day. It follows the case events as the case statistics
// do, with the same projection.Case: the newest facts of a case win, a merged duplicate counts
// nowhere; the documents and buckets are package tally's. The pairs are counted as the events arrive, so
// that a query reads a period's day buckets only, never the case documents, whose number grows
// with the cases.
package crosstab

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
	"github.com/nrm-albania/nrm/services/reporting/internal/tally"
)

// Collections of the cross-tabulations.
const (
	DocCollection           = "case_pairs"
	DocJournalCollection    = "case_pairs_journal"
	BucketCollection        = "case_pairs_days"
	BucketJournalCollection = "case_pairs_days_journal"
	MonthCollection         = "case_pairs_months"
	MonthJournalCollection  = "case_pairs_months_journal"
)

// Dimensions are the dimensions a cross-tabulation may pair, in the order that names a pair.
var Dimensions = []string{"sex", "age_band", "exploitation_type", "citizenship", "identifying_institution", "status", "state", "scope", "prefecture"}

// values are the distinct values of dimension dim in f.
func values(f projection.Facts, dim string) []string {
	var vs []string
	switch dim {
	case "sex":
		vs = []string{f.Sex}
	case "age_band":
		vs = []string{f.AgeBand}
	case "exploitation_type":
		vs = slices.Clone(f.ExploitationTypes)
	case "citizenship":
		vs = slices.Clone(f.Citizenships)
	case "identifying_institution":
		vs = []string{f.IdentifyingInstitution}
	case "status":
		vs = []string{f.Status}
	case "state":
		vs = []string{f.State}
	case "scope":
		vs = []string{f.Scope}
	case "prefecture":
		vs = []string{f.Prefecture}
	}
	slices.Sort(vs)
	return slices.Compact(vs)
}

// pair names the figures of dimensions a and b (a before b in Dimensions), and sep joins a
// cell's two values: neither occurs in a dimension's name or a value (enum names, ISO and
// institution codes).
func pair(a, b string) string { return a + ":" + b }

const sep = "|"

// dimTotal counts the cases.
const (
	dimTotal = "total"
	keyCases = "cases"
)

// tallyOf counts c once in every cell of every pair of dimensions, in its identification day.
func tallyOf(c projection.Case) *tally.Tally {
	if !c.Counted() {
		return nil
	}
	f := tally.Figures{}
	f.Set(dimTotal, keyCases, 1)
	for i, a := range Dimensions {
		for _, b := range Dimensions[i+1:] {
			for _, va := range values(c.Facts, a) {
				for _, vb := range values(c.Facts, b) {
					f.Set(pair(a, b), va+sep+vb, 1)
				}
			}
		}
	}
	return &tally.Tally{Bucket: c.Facts.Day, Figures: f}
}

var kind = tally.Kind[projection.Case, projection.Event]{
	Docs: DocCollection, DocJournal: DocJournalCollection,
	Buckets: BucketCollection, BucketJournal: BucketJournalCollection,
	Months: MonthCollection, MonthJournal: MonthJournalCollection,
	Moves: projection.Case.Moves, With: projection.Case.With, Tally: tallyOf,
	OccurredAt: func(e projection.Event) time.Time { return e.OccurredAt },
}

// Tables are the cross-tabulations over the reporting service's own database.
type Tables struct {
	p *tally.Projection[projection.Case, projection.Event]
}

// New returns the cross-tabulations stored in db.
func New(db *mongo.Database) *Tables { return &Tables{p: tally.New(db, kind)} }

// Apply counts e's case with its newest facts; it reports whether e changed the case. e must be
// valid (projection.Event.Validate).
func (t *Tables) Apply(ctx context.Context, e projection.Event) (bool, error) {
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Millisecond)
	return t.p.Apply(ctx, e.CaseID, e)
}

// Cell is the number of cases with value Row of the rows' dimension and Column of the columns'.
type Cell struct {
	Row, Column string
	Count       int64
}

// Table is one cross-tabulation of a period.
type Table struct {
	Total int64
	// Cells are those with a count, by row then column.
	Cells []Cell
	AsOf  time.Time
}

// Valid reports whether rows and columns can be cross-tabulated: two different dimensions.
func Valid(rows, columns string) bool {
	return rows != columns && slices.Contains(Dimensions, rows) && slices.Contains(Dimensions, columns)
}

// Table cross-tabulates the cases identified from..to (YYYY-MM-DD, inclusive, "" for no bound)
// by rows and columns, which must be Valid.
func (t *Tables) Table(ctx context.Context, rows, columns, from, to string) (Table, error) {
	buckets, err := t.p.Buckets(ctx, from, to)
	if err != nil {
		return Table{}, err
	}
	name, swapped := pair(rows, columns), false
	if slices.Index(Dimensions, rows) > slices.Index(Dimensions, columns) {
		name, swapped = pair(columns, rows), true
	}
	sum := tally.Figures{}
	var out Table
	for _, b := range buckets {
		sum.Add(tally.Figures{dimTotal: b.Figures[dimTotal], name: b.Figures[name]}, 1)
		if b.LastEventAt.After(out.AsOf) {
			out.AsOf = b.LastEventAt
		}
	}
	out.Total = sum[dimTotal][keyCases]
	for key, n := range sum[name] {
		r, c, _ := strings.Cut(key, sep)
		if swapped {
			r, c = c, r
		}
		out.Cells = append(out.Cells, Cell{Row: r, Column: c, Count: n})
	}
	slices.SortFunc(out.Cells, func(a, b Cell) int {
		return cmp.Or(strings.Compare(a.Row, b.Row), strings.Compare(a.Column, b.Column))
	})
	return out, nil
}
