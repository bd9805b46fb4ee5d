package store

import "math"

// DefaultPageSize and MaxPageSize bound listings.
const (
	DefaultPageSize = 20
	MaxPageSize     = 1000
)

// Paginate cuts one page out of a full listing, with the store's page bounds.
func Paginate[T any](all []T, pr PageRequest) Page[T] {
	pr = pr.Normalize()
	total := int64(len(all))
	start := min(pr.Offset(), total)
	end := min(start+int64(pr.Size), total)
	records := all[start:end]
	if records == nil {
		records = []T{}
	}
	return Page[T]{PageNumber: pr.Number, PageSize: pr.Size, TotalRecords: total,
		TotalPages: (total + int64(pr.Size) - 1) / int64(pr.Size), Records: records}
}

// Offset is how many records come before the page, saturated at
// math.MaxInt64: a client's pageNumber near MaxInt times the size would
// overflow to a negative offset (and a slice out of range). A huge page
// number is an empty page, never a panic.
func (pr PageRequest) Offset() int64 {
	pr = pr.Normalize()
	if int64(pr.Number-1) > math.MaxInt64/int64(pr.Size) {
		return math.MaxInt64
	}
	return int64(pr.Number-1) * int64(pr.Size)
}

// Normalize applies the store's page bounds: numbers start at 1, a size
// below 1 is DefaultPageSize, and no page is larger than MaxPageSize.
func (pr PageRequest) Normalize() PageRequest {
	if pr.Number < 1 {
		pr.Number = 1
	}
	if pr.Size < 1 {
		pr.Size = DefaultPageSize
	}
	pr.Size = min(pr.Size, MaxPageSize)
	return pr
}
