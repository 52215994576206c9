package disclosure

import (
	"fmt"
	"slices"
	"strings"
)

// DefaultK is the smallest group of records sharing their quasi-identifiers that the case-level
// file may show: CTDC's k.
const DefaultK = 11

// Record is one row of a case-level file: generalised values by field name.
type Record map[string]string

// KAnonymityError refuses a file in which some records share their quasi-identifiers with fewer
// than K-1 others.
//
// It carries the failing groups' sizes and not their keys: a key with its size is a small cell
// ("2 boys from the EU identified in 2025"), and the refusal reaches every role that may ask for
// the file, including those not shown exact counts. The sizes say how far from K the file is,
// which is what deciding to generalise further needs.
type KAnonymityError struct {
	K int
	// Sizes of the groups under K, smallest first.
	Sizes []int
}

func (e *KAnonymityError) Error() string {
	return fmt.Sprintf("%d groups of records share their quasi-identifiers with fewer than %d records (sizes %v)", len(e.Sizes), e.K, e.Sizes)
}

// KAnonymity checks that every combination of the quasi fields' values present in records is
// shared by at least k records (k <= 0 means DefaultK), and returns a *KAnonymityError naming the
// sizes of the groups that are not. No records at all is anonymous: there is no one to tell apart.
func KAnonymity(records []Record, quasi []string, k int) error {
	if k <= 0 {
		k = DefaultK
	}
	groups := make(map[string]int)
	for _, r := range records {
		key := make([]string, len(quasi))
		for i, q := range quasi {
			key[i] = r[q]
		}
		// A unit separator cannot occur in the generalised values, so keys do not collide.
		groups[strings.Join(key, "\x1f")]++
	}
	var small []int
	for _, n := range groups {
		if n < k {
			small = append(small, n)
		}
	}
	if len(small) == 0 {
		return nil
	}
	slices.Sort(small)
	return &KAnonymityError{K: k, Sizes: small}
}
