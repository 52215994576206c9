// Package disclosure keeps what leaves the Authority from identifying anyone: small-cell
// suppression of published tables (primary and secondary) and the k-anonymity rule for the
// case-level file (docs/decisions.md 34). It does no I/O.
package disclosure

import (
	"math"
	"slices"
	"strconv"
)

// DefaultThreshold is the smallest count published as it is: counts 1..4 show as "<5".
const DefaultThreshold = 5

// Secondary marks a cell withheld only so that a small one cannot be worked out from the totals.
// It is not "<5", which would be false: a secondary cell is at least the threshold.
const Secondary = "x"

// Table is a two-way table of counts, e.g. registered victims by sex and age group.
type Table struct {
	Rows, Cols []string
	// Cells are indexed [row][column]: len(Rows) rows of len(Cols) counts, none negative.
	Cells [][]int64
}

// RowTotals returns the sum of each row.
func (t Table) RowTotals() []int64 {
	out := make([]int64, len(t.Rows))
	for r := range t.Rows {
		for c := range t.Cols {
			out[r] += t.Cells[r][c]
		}
	}
	return out
}

// ColTotals returns the sum of each column.
func (t Table) ColTotals() []int64 {
	out := make([]int64, len(t.Cols))
	for r := range t.Rows {
		for c := range t.Cols {
			out[c] += t.Cells[r][c]
		}
	}
	return out
}

// Total returns the sum of all cells.
func (t Table) Total() int64 {
	var n int64
	for _, v := range t.RowTotals() {
		n += v
	}
	return n
}

// Published is a table as it may leave the Authority: each cell an exact count, "<threshold"
// (primary suppression) or Secondary.
type Published struct {
	Rows, Cols []string
	Cells      [][]string
	RowTotals  []string
	ColTotals  []string
	Total      string
	// Exposed: some withheld cell can still be worked out, every non-zero cell near it being
	// withheld already (four "<5" adding up to a "<5" are 1 each). Such a table must not leave
	// the Authority: the publications refuse it.
	Exposed bool
}

// Exact publishes t without suppression: for internal views only.
func Exact(t Table) Published {
	return render(t, nil, 0)
}

// Suppress publishes t with small-cell suppression; threshold <= 0 means DefaultThreshold.
//
// Zeros are shown. A zero says that nobody has a combination of attributes, which discloses
// nothing about a person, and CTDC and Eurostat show them; suppressing them would also make every
// sparse table unreadable. What showing them costs is that a reader knows every withheld cell is at
// least 1 (and a "<5" at most 4): the secondary suppression below takes those bounds into account.
//
// Primary: every count from 1 to threshold-1, totals included, is withheld.
//
// Secondary: the table and its totals form a grid of (rows+1)×(columns+1) cells in which every
// line (a row with its total, a column with its total, the row of column totals with the grand
// total) adds up. A withheld cell alone in its line is its total minus the others, so, until
// nothing changes, a line also withholds its smallest remaining non-zero cell (interior cells
// before its total) when
//
//   - it has exactly one withheld cell;
//   - the bounds a reader knows (0 shown, "<5" is 1..4, Secondary at least the threshold) pin one
//     of its withheld cells to a single value, e.g. a "<5" and an "x" adding up to 6 (1 and 5);
//
// and then, when no line asks for more, a withheld cell that is a bridge of the withheld cells
// (seen as edges between their row and column, a cell on no cycle) is determined by adding up the
// lines on one side of it: the smallest shown non-zero cell joining the two sides is withheld too.
//
// Last, an audit by linear programming (audit.go) works out the range of each withheld cell from
// everything published at once, which the rules above, looking at a line or a chain of lines at a
// time, can miss; a cell with a single possible value gets a companion in its row or column.
//
// Each rule adds a cell, so it ends. Every withheld cell then takes at least two values among the
// tables consistent with the publication, unless every non-zero cell near it is withheld already
// and the markers alone give it away (four "<5" adding up to a "<5" are 1 each): zeros are shown,
// so nothing is left to withhold, and the table is marked Exposed. The tests check this by
// exhaustive search on small tables.
func Suppress(t Table, threshold int) Published {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	g := newGrid(t, int64(threshold))
	for g.primary(); g.secondary(); {
	}
	p := render(t, g.kind, threshold)
	p.Exposed = g.exposed
	return p
}

// kind says how a cell of the grid is published.
type kind uint8

const (
	shown kind = iota
	primary
	secondary
)

// unbounded stands for "no upper bound" in the reader's bounds: far above any count, and small
// enough that sums of a line's bounds cannot overflow.
const unbounded = math.MaxInt64 / 1024

// grid is the table with its totals: row len(rows) holds the column totals, column len(cols) the
// row totals, and the corner the grand total.
type grid struct {
	v         [][]int64
	kind      [][]kind
	threshold int64
	// protected are the withheld cells the audit found undetermined, not solved again.
	protected map[cell]bool
	// exposed: the audit found a withheld cell determined with nothing left to withhold for it.
	exposed bool
	rows    int // including the totals' row
	cols    int // including the totals' column
}

func newGrid(t Table, threshold int64) *grid {
	R, C := len(t.Rows), len(t.Cols)
	g := &grid{threshold: threshold, protected: make(map[cell]bool), rows: R + 1, cols: C + 1}
	rt, ct := t.RowTotals(), t.ColTotals()
	for r := range R + 1 {
		row := make([]int64, C+1)
		for c := range C {
			if r < R {
				row[c] = t.Cells[r][c]
			} else {
				row[c] = ct[c]
			}
		}
		if r < R {
			row[C] = rt[r]
		} else {
			row[C] = t.Total()
		}
		g.v = append(g.v, row)
		g.kind = append(g.kind, make([]kind, C+1))
	}
	return g
}

// cell is a position in the grid.
type cell struct{ r, c int }

// lines returns every line of the grid: its rows, then its columns, each ending with its total.
func (g *grid) lines() [][]cell {
	var out [][]cell
	for r := range g.rows {
		var l []cell
		for c := range g.cols {
			l = append(l, cell{r, c})
		}
		out = append(out, l)
	}
	for c := range g.cols {
		var l []cell
		for r := range g.rows {
			l = append(l, cell{r, c})
		}
		out = append(out, l)
	}
	return out
}

func (g *grid) primary() {
	for r := range g.rows {
		for c := range g.cols {
			if v := g.v[r][c]; v > 0 && v < g.threshold {
				g.kind[r][c] = primary
			}
		}
	}
}

// secondary withholds one more cell if a rule asks for it, and reports whether it did.
func (g *grid) secondary() bool {
	lines := g.lines()
	for _, l := range lines {
		if g.single(l) && g.withholdSmallest(l) {
			return true
		}
	}
	for _, p := range g.pinned() {
		if g.withholdSmallest(lines[p.r]) || g.withholdSmallest(lines[g.rows+p.c]) {
			return true
		}
	}
	return g.joinBridge() || g.audit()
}

// single reports whether line l has exactly one withheld cell.
func (g *grid) single(l []cell) bool {
	n := 0
	for _, p := range l {
		if g.kind[p.r][p.c] != shown {
			n++
		}
	}
	return n == 1
}

// maxPasses bounds the propagation of pinned; real tables settle in a few passes.
const maxPasses = 200

// pinned returns the withheld cells whose value a reader can work out from the bounds the markers give
// (bounds) and the lines adding up: each line narrows the range of each of its withheld cells to
// what the ranges of the others allow, until nothing narrows. This is interval propagation, which
// sees what chains of lines give away (e.g. a column total of two "x" that another line caps at
// 2×threshold); the exhaustive search of the tests checks what it may miss on small tables.
func (g *grid) pinned() []cell {
	lo, hi := make(map[cell]int64), make(map[cell]int64)
	for r := range g.rows {
		for c := range g.cols {
			p := cell{r, c}
			if g.kind[r][c] == shown {
				lo[p], hi[p] = g.v[r][c], g.v[r][c]
			} else {
				lo[p], hi[p] = g.bounds(p)
			}
		}
	}
	lines := g.lines()
	for range maxPasses {
		narrowed := false
		for _, l := range lines {
			// The line says: interior cells minus the total = 0, so each cell is what the others
			// leave. sum is the range of Σ s·x over the line, s = -1 for the total.
			var sumLo, sumHi int64
			sign := func(i int) int64 {
				if i == len(l)-1 {
					return -1
				}
				return 1
			}
			for i, p := range l {
				a, b := sign(i)*lo[p], sign(i)*hi[p]
				sumLo, sumHi = sumLo+min(a, b), sumHi+max(a, b)
			}
			for i, p := range l {
				if g.kind[p.r][p.c] == shown {
					continue
				}
				s := sign(i)
				a, b := s*lo[p], s*hi[p]
				restLo, restHi := sumLo-min(a, b), sumHi-max(a, b)
				// s·x = -rest
				least, most := -restHi, -restLo
				if s < 0 {
					least, most = restLo, restHi
				}
				if least > lo[p] {
					lo[p], narrowed = least, true
				}
				if most < hi[p] {
					hi[p], narrowed = most, true
				}
			}
		}
		if !narrowed {
			break
		}
	}
	var out []cell
	for r := range g.rows {
		for c := range g.cols {
			if p := (cell{r, c}); g.kind[r][c] != shown && lo[p] >= hi[p] {
				out = append(out, p)
			}
		}
	}
	return out
}

// bounds are what a reader knows of a withheld cell from its marker.
func (g *grid) bounds(p cell) (int64, int64) {
	if g.kind[p.r][p.c] == primary {
		return 1, g.threshold - 1
	}
	return g.threshold, unbounded
}

// withholdSmallest withholds the smallest shown non-zero cell of l, interior cells first, and
// reports whether there was one.
func (g *grid) withholdSmallest(l []cell) bool {
	p, ok := g.smallestShown(l)
	if ok {
		g.kind[p.r][p.c] = secondary
	}
	return ok
}

// smallestShown returns the smallest shown non-zero cell of l, interior cells first (the total
// last), if there is one.
func (g *grid) smallestShown(l []cell) (cell, bool) {
	best := -1
	for i, p := range l[:len(l)-1] {
		if g.kind[p.r][p.c] == shown && g.v[p.r][p.c] > 0 && (best < 0 || g.v[p.r][p.c] < g.v[l[best].r][l[best].c]) {
			best = i
		}
	}
	if t := l[len(l)-1]; best < 0 && g.kind[t.r][t.c] == shown && g.v[t.r][t.c] > 0 {
		best = len(l) - 1
	}
	if best < 0 {
		return cell{}, false
	}
	return l[best], true
}

// joinBridge finds a withheld cell on no cycle of the withheld cells, seen as edges between their
// row and column (a bridge: without it, its row no longer reaches its column), and withholds the
// smallest shown non-zero cell joining the two sides, interior cells first, which puts it on a
// cycle. It reports whether it withheld one.
func (g *grid) joinBridge() bool {
	var withheld []cell
	for r := range g.rows {
		for c := range g.cols {
			if g.kind[r][c] != shown {
				withheld = append(withheld, cell{r, c})
			}
		}
	}
	for i, e := range withheld {
		rows, cols := g.reach(slices.Delete(slices.Clone(withheld), i, i+1), e.r)
		if cols[e.c] {
			continue
		}
		var best *cell
		better := func(p cell) bool {
			if best == nil {
				return true
			}
			interior := func(q cell) bool { return q.r < g.rows-1 && q.c < g.cols-1 }
			if interior(p) != interior(*best) {
				return interior(p)
			}
			return g.v[p.r][p.c] < g.v[best.r][best.c]
		}
		for r := range g.rows {
			for c := range g.cols {
				p := cell{r, c}
				if rows[r] != cols[c] && g.kind[r][c] == shown && g.v[r][c] > 0 && better(p) {
					best = &p
				}
			}
		}
		if best != nil {
			g.kind[best.r][best.c] = secondary
			return true
		}
	}
	return false
}

// reach returns the rows and columns that row r reaches through edges.
func (g *grid) reach(edges []cell, r int) (rows, cols []bool) {
	rows, cols = make([]bool, g.rows), make([]bool, g.cols)
	rows[r] = true
	for grew := true; grew; {
		grew = false
		for _, e := range edges {
			if rows[e.r] != cols[e.c] {
				rows[e.r], cols[e.c], grew = true, true, true
			}
		}
	}
	return rows, cols
}

// render publishes t with the kinds of g (nil: every cell shown).
func render(t Table, kinds [][]kind, threshold int) Published {
	g := newGrid(t, int64(threshold))
	if kinds != nil {
		g.kind = kinds
	}
	text := func(r, c int) string {
		switch g.kind[r][c] {
		case primary:
			return "<" + strconv.Itoa(threshold)
		case secondary:
			return Secondary
		}
		return strconv.FormatInt(g.v[r][c], 10)
	}
	R, C := len(t.Rows), len(t.Cols)
	p := Published{Rows: slices.Clone(t.Rows), Cols: slices.Clone(t.Cols), Total: text(R, C)}
	for r := range R {
		row := make([]string, C)
		for c := range C {
			row[c] = text(r, c)
		}
		p.Cells = append(p.Cells, row)
		p.RowTotals = append(p.RowTotals, text(r, C))
	}
	for c := range C {
		p.ColTotals = append(p.ColTotals, text(R, c))
	}
	return p
}
