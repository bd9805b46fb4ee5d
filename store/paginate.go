package store

// Paginate cuts one page out of a full listing, with the store's page bounds.
func Paginate[T any](all []T, pr PageRequest) Page[T] { return paginate(all, pr) }
