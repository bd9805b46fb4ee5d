package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// keyGetter looks keys up: a *bolt.Bucket, or a bucketReader.
type keyGetter interface{ Get(key []byte) []byte }

// bucketReader looks many keys up in one bucket with one cursor. bbolt's
// Bucket.Get makes a new cursor each call, and growing its stack was 5 % of
// the agents' CPU replicating 10,000 small files (docs/performance.md).
// Seek searches from the bucket's root each time, as Get does, so the
// answers stay right after a Put or Delete in the same transaction.
type bucketReader struct{ c *bolt.Cursor }

func newBucketReader(b *bolt.Bucket) bucketReader { return bucketReader{b.Cursor()} }

// Get is Bucket.Get: the value at key, nil when there is none or key names
// a nested bucket.
func (r bucketReader) Get(key []byte) []byte {
	k, v := r.c.Seek(key)
	if !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// txReaders are the bucketReaders a write transaction's files share.
type txReaders struct{ nodes, blobs bucketReader }

func newTxReaders(tx *bolt.Tx, rb *bolt.Bucket) txReaders {
	return txReaders{nodes: newBucketReader(rb.Bucket(bucketNodes)), blobs: newBucketReader(tx.Bucket(bucketBlobs))}
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

func getJSON(b *bolt.Bucket, key []byte, v any, what string) error {
	raw := b.Get(key)
	if raw == nil {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return json.Unmarshal(raw, v)
}

// scanJSON appends to out, decoded, the values of b from key seek on while
// their keys start with prefix, until out holds max of them (max < 0: no
// bound).
func scanJSON[T any](out []T, b *bolt.Bucket, seek, prefix []byte, max int) ([]T, error) {
	c := b.Cursor()
	for k, raw := c.Seek(seek); k != nil && bytes.HasPrefix(k, prefix) && (max < 0 || len(out) < max); k, raw = c.Next() {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func getUint(b *bolt.Bucket, key []byte) uint64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(b *bolt.Bucket, key []byte, v uint64) error {
	raw := make([]byte, 8)
	binary.BigEndian.PutUint64(raw, v)
	return b.Put(key, raw)
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
