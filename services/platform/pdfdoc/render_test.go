package pdfdoc

import (
	"math"
	"testing"
)

func TestShareWidth(t *testing.T) {
	tests := []struct {
		name    string
		natural []float64
		want    []float64
	}{
		{"one column fills the page", []float64{20}, []float64{170}},
		{"narrow columns widen in proportion", []float64{10, 30}, []float64{42.5, 127.5}},
		{"narrow columns keep their width, wide ones share the rest", []float64{10, 300, 100}, []float64{10, 120, 40}},
		{"narrow after the first pass", []float64{10, 60, 400}, []float64{10, 60, 100}},
		{"all too wide share equally in proportion", []float64{200, 200}, []float64{85, 85}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shareWidth(tt.natural, 170)
			for i := range tt.want {
				if math.Abs(got[i]-tt.want[i]) > 1e-9 {
					t.Fatalf("shareWidth(%v, 170) = %v, want %v", tt.natural, got, tt.want)
				}
			}
		})
	}
}
