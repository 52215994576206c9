package publication

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// DefaultPopulation seeds NRM_POPULATION with INSTAT's estimate of the resident population on
// 1 January 2024 (2,402,113), split by sex and age approximately. The split is to be confirmed
// against INSTAT's published tables before a publication leaves the Authority.
const DefaultPopulation = "2024:total=2402113,female=1211000,male=1191113,child=466000,adult=1936113"

// Population is one year's resident population, the denominators of SDG 16.2.2.
type Population struct {
	Total, Female, Male, Child, Adult int64
}

// Populations are the population figures by year.
type Populations map[int]Population

// ParsePopulations reads "YEAR:total=N,female=N,male=N,child=N,adult=N" entries separated by
// ";", every figure required and positive.
func ParsePopulations(s string) (Populations, error) {
	out := Populations{}
	for entry := range strings.SplitSeq(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		yearText, figures, ok := strings.Cut(entry, ":")
		year, err := strconv.Atoi(yearText)
		if !ok || err != nil || year < 1900 || year > 9999 {
			return nil, fmt.Errorf("population %q: want YEAR:total=N,female=N,male=N,child=N,adult=N", entry)
		}
		if _, dup := out[year]; dup {
			return nil, fmt.Errorf("population of %d given twice", year)
		}
		fields := map[string]*int64{}
		var p Population
		fields["total"], fields["female"], fields["male"], fields["child"], fields["adult"] = &p.Total, &p.Female, &p.Male, &p.Child, &p.Adult
		seen := map[string]bool{}
		for kv := range strings.SplitSeq(figures, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			dst, known := fields[k]
			n, err := strconv.ParseInt(v, 10, 64)
			if !known || err != nil || n <= 0 || seen[k] {
				return nil, fmt.Errorf("population of %d: %q is not one of total, female, male, child, adult with a positive count, once", year, kv)
			}
			*dst, seen[k] = n, true
		}
		if len(seen) != len(fields) {
			return nil, fmt.Errorf("population of %d: total, female, male, child and adult are all required", year)
		}
		out[year] = p
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no population figures")
	}
	return out, nil
}

// For returns the population of the latest year up to year, and that year: figures come out a
// year or two late, and the latest estimate is the best denominator until then.
func (ps Populations) For(year int) (Population, int, bool) {
	best := 0
	for _, y := range slices.Sorted(maps.Keys(ps)) {
		if y <= year {
			best = y
		}
	}
	p, ok := ps[best]
	return p, best, ok
}
