//go:build race

package disclosure

// tables scales the random tables of the property tests down under the race detector, which
// slows the simplex some twentyfold and finds nothing more with more tables of the same code.
func tables(n int) int { return n / 20 }
