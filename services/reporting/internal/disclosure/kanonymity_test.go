package disclosure

import (
	"errors"
	"reflect"
	"testing"
)

func TestKAnonymity(t *testing.T) {
	quasi := []string{"year", "sex"}
	records := func(groups map[[2]string]int) []Record {
		var out []Record
		for key, n := range groups {
			for range n {
				out = append(out, Record{"year": key[0], "sex": key[1], "status": "V"})
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		groups map[[2]string]int
		k      int
		sizes  []int // of the failing groups; nil when released
	}{
		{"no records", nil, 0, nil},
		{"every group of 11", map[[2]string]int{{"2025", "F"}: 11, {"2025", "M"}: 12}, 0, nil},
		{"one group of 10 under the default", map[[2]string]int{{"2025", "F"}: 30, {"2025", "M"}: 10}, 0, []int{10}},
		{"several, smallest first", map[[2]string]int{{"2025", "F"}: 3, {"2025", "M"}: 1, {"2026", "F"}: 20}, 0, []int{1, 3}},
		{"another k", map[[2]string]int{{"2025", "F"}: 3, {"2025", "M"}: 2}, 3, []int{2}},
		// A field outside the quasi-identifiers does not split groups.
		{"only the quasi-identifiers count", map[[2]string]int{{"2025", "F"}: 11}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := KAnonymity(records(tc.groups), quasi, tc.k)
			if tc.sizes == nil {
				if err != nil {
					t.Fatalf("KAnonymity = %v; want nil", err)
				}
				return
			}
			var ke *KAnonymityError
			if !errors.As(err, &ke) {
				t.Fatalf("KAnonymity = %v; want a *KAnonymityError", err)
			}
			wantK := tc.k
			if wantK == 0 {
				wantK = DefaultK
			}
			if ke.K != wantK || !reflect.DeepEqual(ke.Sizes, tc.sizes) {
				t.Errorf("KAnonymity = k %d sizes %v; want k %d sizes %v", ke.K, ke.Sizes, wantK, tc.sizes)
			}
		})
	}
}
