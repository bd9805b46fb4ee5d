package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A bucketReader answers as Bucket.Get does, for present and missing keys
// and nested buckets, and still after the transaction changed the bucket
// (the write paths share one through a batch's Puts and Deletes).
func TestBucketReaderAnswersAsGet(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("b"))
		if err != nil {
			return err
		}
		if _, err := b.CreateBucket([]byte("k0500x")); err != nil {
			return err
		}
		r := newBucketReader(b)
		check := func(when string) {
			t.Helper()
			for _, k := range []string{"", "a", "k0000", "k0499", "k0500", "k0500x", "k0999", "k1000", "zzz"} {
				if got, want := r.Get([]byte(k)), b.Get([]byte(k)); !bytes.Equal(got, want) || (got == nil) != (want == nil) {
					t.Errorf("%s: Get(%q) = %q, Bucket.Get says %q", when, k, got, want)
				}
			}
		}
		for i := 0; i < 1000; i += 2 { // enough keys for branch pages
			if err := b.Put(fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
				return err
			}
		}
		check("after the first puts")
		for i := 1; i < 1000; i += 2 {
			if err := b.Put(fmt.Appendf(nil, "k%04d", i), fmt.Appendf(nil, "w%d", i)); err != nil {
				return err
			}
			if r.Get(fmt.Appendf(nil, "k%04d", i)) == nil {
				t.Fatalf("k%04d not found right after its Put", i)
			}
		}
		for _, k := range []string{"k0000", "k0499", "k0999"} {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
		check("after puts and deletes")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Files written in path order, as a replication writes them, leave the
// nodes and change-log pages nearly full, not half (the store's database
// twice the size it needs, in the file, the page cache and each commit).
func TestPathOrderedWritesFillPages(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric)
	for from := 0; from < 20_000; from += 1000 {
		batch := make([]BatchFile, 0, 1000)
		for i := from; i < from+1000; i++ {
			c := fmt.Appendf(nil, "content %d", i)
			batch = append(batch, BatchFile{Path: fmt.Sprintf("/d/f%06d", i), Content: c, Opt: WriteOptions{Size: int64(len(c))}})
		}
		if _, err := r.WriteBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		rb := tx.Bucket([]byte("r:demo/repo"))
		for _, name := range [][]byte{bucketNodes, bucketChanges} {
			st := rb.Bucket(name).Stats()
			if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); fill < 0.8 {
				t.Errorf("%s: leaf pages %.0f %% full (%d pages for %d keys)", name, 100*fill, st.LeafPageN, st.KeyN)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
