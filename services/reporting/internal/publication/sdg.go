package publication

import "strconv"

// RatePer100K is SDG 16.2.2's rate of a count as published: victims per 100,000 of the
// population, with two decimals. It is empty when the count is withheld, since the rate times
// the population would give the count back, or when there is no population to divide by.
func RatePer100K(victims string, population int64) string {
	n, err := strconv.ParseInt(victims, 10, 64)
	if err != nil || population <= 0 {
		return ""
	}
	return strconv.FormatFloat(float64(n)*100000/float64(population), 'f', 2, 64)
}
