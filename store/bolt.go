package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

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
