package store

import (
	"math"
	"testing"
)

// A page number near MaxInt times the size overflowed the offset to a
// negative number and panicked every list route (issue 15, defect 6).
func TestPaginateHugePageNumber(t *testing.T) {
	all := []int{1, 2, 3}
	for _, n := range []int{math.MaxInt, math.MaxInt / 2, math.MaxInt/MaxPageSize + 2} {
		for _, size := range []int{1, 7, MaxPageSize, math.MaxInt} {
			p := Paginate(all, PageRequest{Number: n, Size: size})
			if len(p.Records) != 0 || p.TotalRecords != 3 {
				t.Errorf("page %d size %d: %d records of %d, want an empty page of 3", n, size, len(p.Records), p.TotalRecords)
			}
		}
	}
}

func TestPageOffset(t *testing.T) {
	for _, tt := range []struct {
		pr   PageRequest
		want int64
	}{
		{PageRequest{}, 0},
		{PageRequest{Number: 3, Size: 10}, 20},
		{PageRequest{Number: math.MaxInt, Size: MaxPageSize}, math.MaxInt64},
		{PageRequest{Number: math.MinInt, Size: 5}, 0},
	} {
		if got := tt.pr.Offset(); got != tt.want {
			t.Errorf("%+v.Offset() = %d, want %d", tt.pr, got, tt.want)
		}
	}
}

func FuzzPaginate(f *testing.F) {
	f.Add(1, 20, 5)
	f.Add(math.MaxInt, MaxPageSize, 3)
	f.Add(math.MinInt, math.MinInt, 0)
	f.Fuzz(func(t *testing.T, number, size, n int) {
		all := make([]int, min(max(n, 0), 3000))
		p := Paginate(all, PageRequest{Number: number, Size: size})
		if len(p.Records) > MaxPageSize || (PageRequest{Number: number, Size: size}).Offset() < 0 {
			t.Fatalf("page %d size %d of %d: %d records", number, size, n, len(p.Records))
		}
	})
}
