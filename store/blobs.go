package store

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Blob reference counting: ref, unref and addStats run in the caller's
// bbolt write transaction.

// blobEntry is what the store knows of one content: how many nodes refer to
// it, its size and its md5 (so that a node linked to it needs no re-read),
// and, for a small content a batch packed, where its bytes are. One value
// per content: a batch of new small contents touches one random-keyed page
// per file in the metadata database, not two (DESIGN.md).
type blobEntry struct {
	refs, size uint64
	md5        [16]byte
	packed     bool // in a segment, at pack
	pack       packLoc
}

// A blob value is refs(8) size(8) md5(16), followed for packed content by
// its location (packLoc.encode, 16 bytes).
const blobValue, packedBlobValue = 32, 48

func getBlob(b keyGetter, sum string) (blobEntry, bool) {
	v := b.Get([]byte(sum))
	if len(v) != blobValue && len(v) != packedBlobValue {
		return blobEntry{}, false
	}
	e := blobEntry{refs: binary.BigEndian.Uint64(v[:8]), size: binary.BigEndian.Uint64(v[8:16])}
	copy(e.md5[:], v[16:32])
	if len(v) == packedBlobValue {
		e.pack, e.packed = decodePackLoc(v[32:])
	}
	return e, e.refs > 0
}

func putBlob(b *bolt.Bucket, sum string, e blobEntry) error {
	if e.refs == 0 {
		return b.Delete([]byte(sum))
	}
	v := make([]byte, blobValue, packedBlobValue)
	binary.BigEndian.PutUint64(v[:8], e.refs)
	binary.BigEndian.PutUint64(v[8:16], e.size)
	copy(v[16:], e.md5[:])
	if e.packed {
		v = append(v, e.pack.encode()...)
	}
	return b.Put([]byte(sum), v)
}

// ref adds a reference to staged content; the first reference to inline
// content stores it. Linked content must still be there.
func ref(tx *bolt.Tx, rd txReaders, st staged) error {
	b := tx.Bucket(bucketBlobs)
	e, ok := getBlob(rd.blobs, st.sha256)
	if !ok {
		if st.linked {
			return fmt.Errorf("content %s: %w", st.sha256, ErrNotFound)
		}
		if err := addStats(tx, 1, st.size); err != nil {
			return err
		}
		if st.inline != nil {
			if err := storeSmall(tx, st, &e); err != nil {
				return err
			}
		}
		e.size = uint64(st.size)
		if _, err := hex.Decode(e.md5[:], []byte(st.md5)); err != nil {
			return err
		}
	}
	e.refs++
	return putBlob(b, st.sha256, e)
}

// unref drops one reference and reports whether it was the last.
func (s *Local) unref(tx *bolt.Tx, sum string) (bool, error) {
	b := tx.Bucket(bucketBlobs)
	e, ok := getBlob(b, sum)
	if !ok {
		return false, nil
	}
	if e.refs == 1 {
		if err := addStats(tx, -1, -int64(e.size)); err != nil {
			return false, err
		}
		// Small content (inline or packed) goes with its last reference, in
		// this transaction; a file is removed by the caller after the commit.
		if err := s.dropSmall(tx, sum, e); err != nil {
			return false, err
		}
	}
	e.refs--
	return e.refs == 0, putBlob(b, sum, e)
}

func addStats(tx *bolt.Tx, blobs, bytes int64) error {
	b := tx.Bucket(bucketStats)
	if err := putUint(b, keyBlobCount, uint64(int64(getUint(b, keyBlobCount))+blobs)); err != nil {
		return err
	}
	return putUint(b, keyBlobBytes, uint64(int64(getUint(b, keyBlobBytes))+bytes))
}

// removeBlobs deletes blob files whose last reference is gone. Callers hold s.publish.
func (s *Local) removeBlobs(sums []string) {
	for _, sum := range sums {
		if err := os.Remove(s.blobPath(sum)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("store: remove unreferenced blob", "sha256", sum, "err", err)
		}
	}
}

// stored returns content this store holds as linkable staged content.
func (s *Local) stored(sum string) (staged, bool) {
	var e blobEntry
	var ok bool
	_ = s.db.View(func(tx *bolt.Tx) error {
		e, ok = getBlob(tx.Bucket(bucketBlobs), sum)
		return nil
	})
	return staged{linked: true, sha256: sum, md5: hex.EncodeToString(e.md5[:]), size: int64(e.size)}, ok
}

// HasContent reports whether content with this sha256 is stored, and its size.
func (s *Local) HasContent(sha256hex string) (size int64, ok bool) {
	st, ok := s.stored(strings.ToLower(sha256hex))
	return st.size, ok
}

// nothingRefers reports whether no node refers to the content sum.
func nothingRefers(s *Local, sum string) bool {
	referred := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		_, referred = getBlob(tx.Bucket(bucketBlobs), sum)
		return nil
	})
	return !referred
}
