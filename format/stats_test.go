package format

import (
	"slices"
	"testing"
)

func TestHistogramEachAndRange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []int
		want   [][2]int
	}{
		{"empty", nil, nil},
		{"small", []int{5, 3, 5, 0, 3, 3}, [][2]int{{0, 1}, {3, 3}, {5, 2}}},
		{"large and small", []int{70000, 2, 70000, 1 << 20, 2}, [][2]int{{2, 2}, {70000, 2}, {1 << 20, 1}}},
		{"negative counts as 0", []int{-4, 0}, [][2]int{{0, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tc.values {
				h.Add(v)
			}
			var got [][2]int
			h.Each(func(v, n int) { got = append(got, [2]int{v, n}) })
			if !slices.Equal(got, tc.want) {
				t.Errorf("Each: %v, want %v", got, tc.want)
			}
			lo, hi := h.Range()
			if len(tc.want) > 0 && (lo != tc.want[0][0] || hi != tc.want[len(tc.want)-1][0]) {
				t.Errorf("Range: %d..%d, want %d..%d", lo, hi, tc.want[0][0], tc.want[len(tc.want)-1][0])
			}
		})
	}
}
