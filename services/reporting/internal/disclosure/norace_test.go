//go:build !race

package disclosure

// tables is the number of random tables of a property test.
func tables(n int) int { return n }
