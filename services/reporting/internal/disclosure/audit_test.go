package disclosure

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// The recorded example of decision 34: on a 3×3 table, the heuristic rules alone published the
// third row's total, 13, and the lines then left the two "<5" of the first row adding up to 2.
func TestSuppressProtectsAcrossLines(t *testing.T) {
	tab := table([][]int64{{1, 1, 6}, {0, 0, 12}, {8, 5, 0}})
	before := Published{
		Cells:     [][]string{{"<5", "<5", "x"}, {"0", "0", "x"}, {"x", "x", "0"}},
		RowTotals: []string{"x", "x", "13"}, ColTotals: []string{"x", "x", "18"}, Total: "33",
		Rows: tab.Rows, Cols: tab.Cols,
	}
	if got, err := readerGrid(tab, before, DefaultThreshold).interval(cell{0, 0}); err != nil || got != (interval{1, 1}) {
		t.Fatalf("interval of (0,0) under the heuristic rules alone = %v, %v; want [1,1]", got, err)
	}
	p := Suppress(tab, DefaultThreshold)
	checkPublished(t, tab, p, DefaultThreshold)
	if p.RowTotals[2] != Secondary {
		t.Errorf("row total 13 published as %q; want %q", p.RowTotals[2], Secondary)
	}
	if c, ok := recoverable(tab, p, DefaultThreshold); ok {
		t.Errorf("published as %+v: withheld cell %v has one possible value", p, c)
	}
}

func TestInterval(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cells [][]int64
		text  [][]string // the grid as published, totals last
		at    cell
		want  interval
	}{
		{
			name:  "a rectangle: the <5 keeps its marker's range",
			cells: [][]int64{{3, 10}, {7, 20}},
			text:  [][]string{{"<5", "x", "13"}, {"x", "x", "27"}, {"10", "30", "40"}},
			at:    cell{0, 0},
			want:  interval{1, 4},
		},
		{
			name:  "the x across from it: 10 minus the <5",
			cells: [][]int64{{3, 10}, {7, 20}},
			text:  [][]string{{"<5", "x", "13"}, {"x", "x", "27"}, {"10", "30", "40"}},
			at:    cell{1, 0},
			want:  interval{6, 9},
		},
		{
			name:  "a <5 and an x adding up to 6 are 1 and 5",
			cells: [][]int64{{1, 5}, {10, 10}},
			text:  [][]string{{"<5", "x", "6"}, {"x", "x", "20"}, {"11", "15", "26"}},
			at:    cell{0, 0},
			want:  interval{1, 1},
		},
		{
			name:  "four <5 adding up to a <5 are 1 each",
			cells: [][]int64{{1, 1, 1, 1}},
			text:  [][]string{{"<5", "<5", "<5", "<5", "<5"}, {"<5", "<5", "<5", "<5", "<5"}},
			at:    cell{0, 2},
			want:  interval{1, 1},
		},
		{
			name:  "nothing caps an x when every total is withheld",
			cells: [][]int64{{5, 6}},
			text:  [][]string{{"x", "x", "x"}, {"x", "x", "x"}},
			at:    cell{0, 1},
			want:  interval{5, unbounded},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGrid(table(tc.cells), DefaultThreshold)
			setKinds(g, tc.text, DefaultThreshold)
			got, err := g.interval(tc.at)
			if err != nil || got != tc.want {
				t.Errorf("interval of %v = %v, %v; want %v", tc.at, got, err, tc.want)
			}
		})
	}
}

// After Suppress, the audit passes on random tables of every shape up to 6×6: every withheld
// cell's interval holds two integers at least, but where nothing near it is left to withhold.
func TestSuppressPassesAudit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	exhaustedTables := 0
	for i := range tables(1000) {
		rows, cols := 1+rng.IntN(6), 1+rng.IntN(6)
		tab := randomTable(rng, rows, cols, []int64{3, 8, 15, 60}[i%4])
		threshold := []int{5, 3, 10}[i%3]
		p := Suppress(tab, threshold)
		g := readerGrid(tab, p, threshold)
		for r := range g.rows {
			for c := range g.cols {
				if g.kind[r][c] == shown {
					continue
				}
				iv, err := g.interval(cell{r, c})
				if err != nil {
					t.Fatalf("table %v published as %+v: the program of (%d,%d) fails: %v", tab.Cells, p, r, c, err)
				}
				if iv.lo > g.v[r][c] || iv.hi < g.v[r][c] {
					t.Fatalf("table %v: interval %v of (%d,%d) misses its value %d", tab.Cells, iv, r, c, g.v[r][c])
				}
				if !iv.protected() {
					if !exhausted(g) || !p.Exposed {
						t.Fatalf("table %v published as %+v: (%d,%d) pinned to %v", tab.Cells, p, r, c, iv)
					}
					exhaustedTables++
				}
			}
		}
	}
	t.Logf("%d withheld cells pinned with nothing left to withhold near them", exhaustedTables)
}

func TestIndependent(t *testing.T) {
	rows := [][]float64{
		{1, 1, 0, 0},
		{0, 0, 1, 1},
		{1, 0, 1, 0},
		{0, 1, 0, 1}, // rows 0 + 1 - 2
		{2, 2, 0, 0}, // twice row 0
		{0, 0, 0, 1},
	}
	got := independent(rows)
	want := []int{0, 1, 2, 5}
	if len(got) != len(want) {
		t.Fatalf("independent = %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("independent = %v; want %v", got, want)
		}
	}
}

// readerGrid is the grid as a reader of p sees it: the kinds from p's markers.
func readerGrid(tab Table, p Published, threshold int) *grid {
	g := newGrid(tab, int64(threshold))
	setKinds(g, publishedGrid(p), threshold)
	return g
}

func setKinds(g *grid, text [][]string, threshold int) {
	for r, row := range text {
		for c, s := range row {
			switch s {
			case "<" + strconv.Itoa(threshold):
				g.kind[r][c] = primary
			case Secondary:
				g.kind[r][c] = secondary
			}
		}
	}
}

// exhausted reports whether no line with a withheld cell has a shown non-zero cell left: the
// case where the audit can withhold nothing more.
func exhausted(g *grid) bool {
	for _, l := range g.lines() {
		withheld, spare := false, false
		for _, p := range l {
			withheld = withheld || g.kind[p.r][p.c] != shown
			spare = spare || g.kind[p.r][p.c] == shown && g.v[p.r][p.c] > 0
		}
		if withheld && spare {
			return false
		}
	}
	return true
}

// Four "<5" adding up to a "<5" are 1 each whatever is withheld, zeros being shown: the table is
// marked Exposed, and a well-filled one is not.
func TestExposedTables(t *testing.T) {
	if p := Suppress(table([][]int64{{1, 1, 1, 1}}), DefaultThreshold); !p.Exposed {
		t.Errorf("four ones published as %+v, not marked exposed", p)
	}
	if p := Suppress(table([][]int64{{12, 30}, {7, 22}}), DefaultThreshold); p.Exposed {
		t.Errorf("a table of large counts marked exposed: %+v", p)
	}
}
