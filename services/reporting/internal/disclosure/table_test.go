package disclosure

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

func TestSuppress(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cells     [][]int64
		threshold int
		want      Published
	}{
		{
			name:  "nothing small: all shown, zeros too",
			cells: [][]int64{{10, 0}, {7, 20}},
			want: Published{
				Cells: [][]string{{"10", "0"}, {"7", "20"}}, RowTotals: []string{"10", "27"},
				ColTotals: []string{"17", "20"}, Total: "37",
			},
		},
		{
			// 3 alone in its row and column would be 13-10 and 10-7: the smallest cells of both
			// lines go too, and then the fourth so that no line has one withheld cell.
			name:  "one small cell takes a rectangle",
			cells: [][]int64{{3, 10}, {7, 20}},
			want: Published{
				Cells: [][]string{{"<5", "x"}, {"x", "x"}}, RowTotals: []string{"13", "27"},
				ColTotals: []string{"10", "30"}, Total: "40",
			},
		},
		{
			// Each small row total hides its one cell with it; the two rows hide each other
			// in the first column and in the totals' column (1+2 = 3, but which is which?).
			name:  "small totals are withheld",
			cells: [][]int64{{2, 0}, {1, 0}, {30, 40}},
			want: Published{
				Cells: [][]string{{"<5", "0"}, {"<5", "0"}, {"30", "40"}}, RowTotals: []string{"<5", "<5", "70"},
				ColTotals: []string{"33", "40"}, Total: "73",
			},
		},
		{
			name:      "another threshold",
			cells:     [][]int64{{9, 12}, {12, 12}},
			threshold: 10,
			want: Published{
				Cells: [][]string{{"<10", "x"}, {"x", "x"}}, RowTotals: []string{"21", "24"},
				ColTotals: []string{"21", "24"}, Total: "45",
			},
		},
		{
			name:  "all zero",
			cells: [][]int64{{0, 0}},
			want:  Published{Cells: [][]string{{"0", "0"}}, RowTotals: []string{"0"}, ColTotals: []string{"0", "0"}, Total: "0"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := table(tc.cells)
			tc.want.Rows, tc.want.Cols = tab.Rows, tab.Cols
			got := Suppress(tab, tc.threshold)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Suppress(%v) =\n%+v\nwant\n%+v", tc.cells, got, tc.want)
			}
			checkPublished(t, tab, got, tc.threshold)
		})
	}
}

func TestExactShowsEverything(t *testing.T) {
	got := Exact(table([][]int64{{1, 2}, {3, 0}}))
	want := Published{Rows: []string{"r0", "r1"}, Cols: []string{"c0", "c1"},
		Cells: [][]string{{"1", "2"}, {"3", "0"}}, RowTotals: []string{"3", "3"}, ColTotals: []string{"4", "2"}, Total: "6"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Exact = %+v; want %+v", got, want)
	}
}

// Random tables of every shape up to 6×6, sparse and dense, small and large counts.
func TestSuppressProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range tables(3000) {
		rows, cols := 1+rng.IntN(6), 1+rng.IntN(6)
		tab := randomTable(rng, rows, cols, []int64{3, 8, 15, 60}[i%4])
		threshold := []int{0, 5, 3, 10}[i%4/2+i%2]
		checkPublished(t, tab, Suppress(tab, threshold), threshold)
		if t.Failed() {
			t.Fatalf("table %v", tab.Cells)
		}
	}
}

// No withheld cell of small random tables can be worked out: an exhaustive search over every
// integer table a reader would find consistent with what is published finds two values for each.
// Up to 3×3 with small counts, where combining several lines can pin a cell through the markers'
// bounds, which only the audit by linear programming sees; this also checks that its intervals,
// those of the relaxation, are the integer ones. The exception is a table whose every non-zero
// cell near a pinned one is withheld already (see exhausted), counted and logged.
func TestSuppressedCellsCannotBeRecovered(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	exhaustedTables := 0
	for i := range tables(3000) {
		rows, cols := 1+rng.IntN(3), 1+rng.IntN(3)
		tab := randomTable(rng, rows, cols, []int64{6, 12}[i%2])
		p := Suppress(tab, DefaultThreshold)
		if cell, ok := recoverable(tab, p, DefaultThreshold); ok {
			if exhausted(readerGrid(tab, p, DefaultThreshold)) && p.Exposed {
				exhaustedTables++ // marked Exposed: the publications refuse it
				continue
			}
			t.Fatalf("table %d %v published as %+v: withheld cell %v has one possible value", i, tab.Cells, p, cell)
		}
	}
	t.Logf("%d of %d tables have every non-zero cell near a pinned one withheld", exhaustedTables, tables(3000))
}

// The search itself finds what a single withheld cell, or bounds that pin cells, give away.
func TestRecoverableFindsDisclosure(t *testing.T) {
	tab := table([][]int64{{3, 10}, {7, 20}})
	alone := render(tab, nil, DefaultThreshold)
	alone.Cells[0][0] = "<5"
	if _, ok := recoverable(tab, alone, DefaultThreshold); !ok {
		t.Error("a cell alone in its lines is not found recoverable")
	}
	pinnedTab := table([][]int64{{1, 5}, {10, 10}})
	pinned := render(pinnedTab, nil, DefaultThreshold)
	pinned.Cells[0][0], pinned.Cells[0][1], pinned.Cells[1][0], pinned.Cells[1][1] = "<5", "x", "x", "x"
	if _, ok := recoverable(pinnedTab, pinned, DefaultThreshold); !ok {
		t.Error("a <5 and an x adding up to 6 are not found recoverable")
	}
}

func table(cells [][]int64) Table {
	t := Table{Cells: cells}
	for r := range cells {
		t.Rows = append(t.Rows, "r"+strconv.Itoa(r))
	}
	for c := range cells[0] {
		t.Cols = append(t.Cols, "c"+strconv.Itoa(c))
	}
	return t
}

// randomTable draws a table with about a third zeros and the rest up to max.
func randomTable(rng *rand.Rand, rows, cols int, max int64) Table {
	cells := make([][]int64, rows)
	for r := range cells {
		cells[r] = make([]int64, cols)
		for c := range cells[r] {
			if rng.IntN(3) > 0 {
				cells[r][c] = rng.Int64N(max + 1)
			}
		}
	}
	return table(cells)
}

// checkPublished checks p against t: every shown value exact; none under the threshold but 0;
// "<threshold" only on counts 1..threshold-1; every line with 0 or at least 2 withheld cells.
func checkPublished(t *testing.T, tab Table, p Published, threshold int) {
	t.Helper()
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	g := newGrid(tab, int64(threshold))
	text := publishedGrid(p)
	small := "<" + strconv.Itoa(threshold)
	for r := range g.rows {
		for c := range g.cols {
			v, s := g.v[r][c], text[r][c]
			switch s {
			case small:
				if v < 1 || v >= int64(threshold) {
					t.Errorf("cell (%d,%d) = %d published as %s", r, c, v, s)
				}
			case Secondary:
				if v < int64(threshold) {
					t.Errorf("cell (%d,%d) = %d published as %s, which says at least %d", r, c, v, s, threshold)
				}
			default:
				if s != strconv.FormatInt(v, 10) {
					t.Errorf("cell (%d,%d) = %d published as %s", r, c, v, s)
				}
				if v > 0 && v < int64(threshold) {
					t.Errorf("cell (%d,%d) = %d published under the threshold %d", r, c, v, threshold)
				}
			}
		}
	}
	for _, l := range g.lines() {
		n := 0
		for _, p := range l {
			if s := text[p.r][p.c]; s == small || s == Secondary {
				n++
			}
		}
		if n == 1 {
			t.Errorf("line %v has one withheld cell: %v", l, text)
		}
	}
}

// publishedGrid lays p out as the grid: its totals in the last row and column.
func publishedGrid(p Published) [][]string {
	var out [][]string
	for r := range p.Rows {
		out = append(out, append(append([]string{}, p.Cells[r]...), p.RowTotals[r]))
	}
	return append(out, append(append([]string{}, p.ColTotals...), p.Total))
}

// recoverable searches the tables a reader would find consistent with p: shown cells as shown,
// "<threshold" cells 1..threshold-1, Secondary cells from the threshold up to twice the true total
// (a bound the reader may not know: more tables only add values), every line adding up. It returns
// a withheld cell that takes one value in all of them. The search stops as soon as every withheld
// cell has taken two values, and prunes on the lines' upper bounds, which keeps it fast on tables
// up to 3×3.
func recoverable(tab Table, p Published, threshold int) (fmt.Stringer, bool) {
	text := publishedGrid(p)
	R, C := len(tab.Rows), len(tab.Cols)
	limit := 2 * max(tab.Total(), int64(threshold))
	small := "<" + strconv.Itoa(threshold)
	span := func(s string) (int64, int64) {
		switch s {
		case small:
			return 1, int64(threshold) - 1
		case Secondary:
			return int64(threshold), limit
		}
		v, _ := strconv.ParseInt(s, 10, 64)
		return v, v
	}
	within := func(v int64, s string) bool { lo, hi := span(s); return lo <= v && v <= hi }
	seen := make(map[cell]map[int64]bool)
	open := 0 // withheld cells seen with fewer than two values
	for r := range R + 1 {
		for c := range C + 1 {
			if s := text[r][c]; s == small || s == Secondary {
				seen[cell{r, c}] = map[int64]bool{}
				open++
			}
		}
	}
	note := func(p cell, v int64) {
		if m, ok := seen[p]; ok && !m[v] {
			m[v] = true
			if len(m) == 2 {
				open--
			}
		}
	}
	x := make([][]int64, R)
	for r := range x {
		x[r] = make([]int64, C)
	}
	rowSum, colSum := make([]int64, R), make([]int64, C)
	var search func(i int)
	search = func(i int) {
		if open == 0 {
			return
		}
		if i == R*C {
			var total int64
			for c := range C {
				if !within(colSum[c], text[R][c]) {
					return
				}
				total += colSum[c]
			}
			if !within(total, text[R][C]) {
				return
			}
			for r := range R {
				for c := range C {
					note(cell{r, c}, x[r][c])
				}
				note(cell{r, C}, rowSum[r])
			}
			for c := range C {
				note(cell{R, c}, colSum[c])
			}
			note(cell{R, C}, total)
			return
		}
		r, c := i/C, i%C
		lo, hi := span(text[r][c])
		if c == C-1 { // the row's total decides its last cell when shown
			if rlo, rhi := span(text[r][C]); rlo == rhi {
				lo, hi = max(lo, rlo-rowSum[r]), min(hi, rhi-rowSum[r])
			}
		}
		_, colHi := span(text[R][c])
		_, rowHi := span(text[r][C])
		for v := lo; v <= hi && colSum[c]+v <= colHi && rowSum[r]+v <= rowHi; v++ {
			x[r][c] = v
			rowSum[r] += v
			colSum[c] += v
			if c < C-1 || within(rowSum[r], text[r][C]) {
				search(i + 1)
			}
			rowSum[r] -= v
			colSum[c] -= v
		}
	}
	search(0)
	for p, m := range seen {
		if len(m) < 2 {
			return p, true
		}
	}
	return nil, false
}

func (p cell) String() string { return fmt.Sprintf("(%d,%d)", p.r, p.c) }
