package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// localRepo is one repository of the built-in store. Its facets are cut by
// role: nodes.go reads files, write.go writes them (batch.go many at once),
// packages.go and changes.go keep versions and the change log, and every
// change goes through commit.go.
type localRepo struct {
	s      *Local
	info   Repo
	bucket []byte
}

var (
	_ Repository = (*localRepo)(nil)
	_ Nodes      = (*localRepo)(nil)
	_ Packages   = (*localRepo)(nil)
	_ ChangeLog  = (*localRepo)(nil)
	_ Bulk       = (*localRepo)(nil)
)

func (r *localRepo) Info() Repo { return r.info }

// view runs fn on the repository's bucket in a read transaction; changes go
// through commit.
func (r *localRepo) view(fn func(tx *bolt.Tx, rb *bolt.Bucket) error) error {
	return r.s.db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket(r.bucket)
		if rb == nil {
			return r.notFound()
		}
		return fn(tx, rb)
	})
}

// writableRepo is a repository's bucket in a write transaction, its nodes
// and change log set to leave split pages 90 % full, as etcd does for its
// keys: bbolt's default of half suits random keys, but the change log's keys
// only grow and a replication writes nodes in path order, so those pages
// stayed half empty (twice the pages in the file, the cache and every
// commit's writes; docs/performance.md). The setting lasts the
// transaction: a write transaction hands out the same buckets throughout.
func writableRepo(tx *bolt.Tx, name []byte) *bolt.Bucket {
	rb := tx.Bucket(name)
	if rb == nil {
		return nil
	}
	for _, b := range [][]byte{bucketNodes, bucketChanges} {
		if c := rb.Bucket(b); c != nil {
			c.FillPercent = 0.9
		}
	}
	return rb
}

func (r *localRepo) notFound() error {
	return fmt.Errorf("repository %s/%s: %w", r.info.Project, r.info.Name, ErrNotFound)
}
