package publication

import "testing"

func TestRatePer100K(t *testing.T) {
	for _, tc := range []struct {
		victims    string
		population int64
		want       string
	}{
		{"24", 2402113, "1.00"},  // 24 × 100,000 / 2,402,113 = 0.9991…
		{"1", 100000, "1.00"},    // one in 100,000
		{"3", 200000, "1.50"},    // exact halves
		{"0", 2402113, "0.00"},   // zeros are published, and so is their rate
		{"125", 466000, "26.82"}, // 26.824…
		{"7", 3, "233333.33"},    // more victims than population is still arithmetic
		{"<5", 2402113, ""},      // withheld: the rate would give the count back
		{"x", 2402113, ""},       // withheld too
		{"12", 0, ""},            // no population to divide by
		{"12", -5, ""},           // nor a negative one
	} {
		if got := RatePer100K(tc.victims, tc.population); got != tc.want {
			t.Errorf("RatePer100K(%q, %d) = %q; want %q", tc.victims, tc.population, got, tc.want)
		}
	}
}
