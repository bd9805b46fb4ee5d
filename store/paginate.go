package store

// Paginate cuts one page out of a full listing, with the store's page bounds.
func Paginate[T any](all []T, pr PageRequest) Page[T] { return paginate(all, pr) }

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
