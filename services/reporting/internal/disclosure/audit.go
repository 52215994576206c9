package disclosure

import (
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// The audit by linear programming: the last word on whether a withheld cell can be worked out.
//
// A reader of a publication knows every shown cell, the bounds each marker gives (a "<5" is 1..4,
// an "x" at least the threshold), that no count is negative, and that every line of the grid adds
// up. The values a withheld cell can take under those constraints form an interval, found by
// minimising and maximising the cell with the simplex method. The heuristic rules of secondary
// only look at one line at a time or at chains of them; the linear program combines every line
// at once, which is what gives a cell away on larger tables (e.g. [[1 1 6] [0 0 12] [8 5 0]],
// where the lines leave the two "<5" of the first row adding up to 2).
//
// Protection rule: an interval must hold at least two integers. A wider protection range, as in
// business statistics, cannot be asked of a "<5", whose marker already confines it to 1..4;
// what protects a person here is that the count cannot be told, not how far off a guess is.
//
// The linear program drops integrality, so in general its interval can only be wider than the
// values integer tables allow. Here it is exact: in the grid every cell lies in two lines (its
// row and its column), and with the lines through the totals negated, each cell's two non-zero
// coefficients have the same sign exactly when one line is a row and the other a column, so the
// constraint matrix is totally unimodular. The shown values and the markers' bounds are integers,
// so the extremes are integer tables, and for any integer k between them fixing the cell to k
// keeps the system totally unimodular and feasible, so k is taken by an integer table too. This
// holds for a two-way table with its margins only; a publication that adds other sums of cells
// (a third dimension, overlapping tables) would need an integer check. The exhaustive search of
// the tests checks the claim on small tables.

// interval is the range of values a reader can give a withheld cell; hi is unbounded when
// nothing caps it.
type interval struct{ lo, hi int64 }

// protected reports whether the interval leaves the cell undetermined: two integer values at least.
func (i interval) protected() bool { return i.hi > i.lo }

// tolerance is the simplex's: how small the reduced costs must be at the optimum.
const tolerance = 1e-10

// epsilon is how far from zero a coefficient must be not to be taken for zero.
const epsilon = 1e-9

// audit finds a withheld cell that the linear program pins and withholds a cell of its lines for
// it, and reports whether it did. Cells found protected stay so, since withholding more only
// loosens the constraints, and are not solved again. Each optimum is a table the reader cannot
// rule out, as is the true one, so every cell on which the two differ is protected at once, which
// spares most solves. A cell whose program fails is taken as pinned: withholding too much is the
// safe side. lp.Simplex is known to report some feasible programs infeasible (gonum/gonum#1914);
// the tests check that it does not on thousands of random tables.
func (g *grid) audit() bool {
	for r := range g.rows {
		for c := range g.cols {
			p := cell{r, c}
			if g.kind[r][c] == shown || g.protected[p] {
				continue
			}
			prog := g.program(p)
			var err error
			for _, sense := range []float64{1, -1} {
				if err != nil || g.protected[p] {
					break
				}
				var x map[cell]int64
				if _, x, err = prog.optimum(p, sense); err == nil {
					for q, v := range x {
						g.protected[q] = g.protected[q] || v != g.v[q.r][q.c]
					}
				} else if errors.Is(err, lp.ErrUnbounded) {
					// Unbounded above: an "x" that nothing caps.
					g.protected[p], err = true, nil
				}
			}
			if !g.protected[p] {
				if g.withholdCovering(p) {
					return true
				}
				g.exposed = true
			}
		}
	}
	return false
}

// withholdCovering withholds a cell for the pinned cell p: the smallest shown non-zero cell of
// its row or, failing that, its column; when both are spent, the smallest on any line with a
// withheld cell, since only those lines bear on withheld cells. It reports whether it found one;
// when it does not, every non-zero cell near p is withheld and nothing more can be done.
func (g *grid) withholdCovering(p cell) bool {
	lines := g.lines()
	if g.withholdSmallest(lines[p.r]) || g.withholdSmallest(lines[g.rows+p.c]) {
		return true
	}
	var best []cell
	for _, l := range lines {
		if !slices.ContainsFunc(l, func(q cell) bool { return g.kind[q.r][q.c] != shown }) {
			continue
		}
		if q, ok := g.smallestShown(l); ok && (best == nil || g.v[q.r][q.c] < g.v[best[0].r][best[0].c]) {
			best = []cell{q}
		}
	}
	if best == nil {
		return false
	}
	g.kind[best[0].r][best[0].c] = secondary
	return true
}

// interval returns the range of values the reader can give the withheld cell p.
func (g *grid) interval(p cell) (interval, error) {
	prog := g.program(p)
	least, _, err := prog.optimum(p, 1)
	if err != nil {
		return interval{}, err
	}
	most, _, err := prog.optimum(p, -1)
	switch {
	case errors.Is(err, lp.ErrUnbounded):
		return interval{lo: least, hi: unbounded}, nil
	case err != nil:
		return interval{}, err
	}
	return interval{lo: least, hi: most}, nil
}

// program is the linear program of a reader working out withheld cells, in the simplex's
// standard form: minimise cost·z subject to a·z = b, z ≥ 0.
type program struct {
	a     *mat.Dense
	b     []float64
	index map[cell]int // withheld cell → its variable
	lower []int64      // each variable's cell's lower bound
}

// program builds the program of the withheld cells connected to p: two withheld cells are
// connected when they share a line, and the lines of other withheld cells share no variable
// with p's, so they cannot bear on it.
//
// The variables are the withheld cells above their markers' lower bounds, y = x - lo ≥ 0, and
// for each "<threshold" cell a slack s with y + s = threshold-1-lo, its upper bound. Each line
// gives Σ sign·y = -(Σ sign·shown + Σ sign·lo), sign -1 on the line's total. The lines are
// linearly dependent (all rows add up to what all columns do, and shown cells make more so), and
// the simplex wants independent equations: the dependent ones are dropped, which loses nothing as
// the true table satisfies them all.
func (g *grid) program(p cell) program {
	var withheld []cell
	for r := range g.rows {
		for c := range g.cols {
			if g.kind[r][c] != shown {
				withheld = append(withheld, cell{r, c})
			}
		}
	}
	rows, cols := g.reach(withheld, p.r)
	prog := program{index: make(map[cell]int)}
	var small []int // variables of "<threshold" cells
	for _, q := range withheld {
		if !rows[q.r] {
			continue
		}
		lo, _ := g.bounds(q)
		prog.index[q] = len(prog.lower)
		if g.kind[q.r][q.c] == primary {
			small = append(small, len(prog.lower))
		}
		prog.lower = append(prog.lower, lo)
	}
	n := len(prog.lower) + len(small)
	var eqs [][]float64
	var rhs []float64
	for _, l := range g.lines() {
		if (l[0].r != l[1].r || !rows[l[0].r]) && (l[0].c != l[1].c || !cols[l[0].c]) {
			continue // not a line of the component
		}
		eq := make([]float64, n)
		var b int64
		for i, q := range l {
			sign := int64(1)
			if i == len(l)-1 {
				sign = -1
			}
			if j, ok := prog.index[q]; ok {
				eq[j] = float64(sign)
				b -= sign * prog.lower[j]
			} else {
				b -= sign * g.v[q.r][q.c]
			}
		}
		eqs, rhs = append(eqs, eq), append(rhs, float64(b))
	}
	keep := independent(eqs)
	prog.a = mat.NewDense(len(keep)+len(small), n, nil)
	prog.b = make([]float64, len(keep)+len(small))
	for i, k := range keep {
		prog.a.SetRow(i, eqs[k])
		prog.b[i] = rhs[k]
	}
	for i, j := range small {
		prog.a.Set(len(keep)+i, j, 1)
		prog.a.Set(len(keep)+i, len(prog.lower)+i, 1)
		prog.b[len(keep)+i] = float64(g.threshold - 1 - prog.lower[j])
	}
	return prog
}

// optimum minimises (sense 1) or maximises (sense -1) the withheld cell p, and returns its value
// at the optimum with the table there. The optimum is a vertex, whose values are integers (see
// above): they are rounded to undo the floating point.
func (prog program) optimum(p cell, sense float64) (int64, map[cell]int64, error) {
	_, n := prog.a.Dims()
	cost := make([]float64, n)
	cost[prog.index[p]] = sense
	_, z, err := lp.Simplex(cost, prog.a, prog.b, tolerance, nil)
	if err != nil {
		return 0, nil, err
	}
	x := make(map[cell]int64, len(prog.index))
	for q, j := range prog.index {
		x[q] = prog.lower[j] + int64(math.Round(z[j]))
	}
	return x[p], x, nil
}

// independent returns the indices of the rows that are not linear combinations of earlier ones,
// by Gaussian elimination: each kept row is reduced against the kept rows before it and scaled so
// that its pivot is 1, and a row reducing to zero is dependent.
func independent(rows [][]float64) []int {
	var basis [][]float64
	var pivots, keep []int
	for i, row := range rows {
		v := slices.Clone(row)
		for k, b := range basis {
			if f := v[pivots[k]]; f != 0 {
				for j := range v {
					v[j] -= f * b[j]
				}
			}
		}
		pivot := 0
		for j := range v {
			if math.Abs(v[j]) > math.Abs(v[pivot]) {
				pivot = j
			}
		}
		if math.Abs(v[pivot]) < epsilon {
			continue
		}
		scale := v[pivot]
		for j := range v {
			v[j] /= scale
		}
		basis, pivots, keep = append(basis, v), append(pivots, pivot), append(keep, i)
	}
	return keep
}
