package store

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func batchOf(contents map[string][]byte) []BatchFile {
	var files []BatchFile
	for p, c := range contents {
		files = append(files, BatchFile{Path: p, Content: c, Opt: WriteOptions{Size: -1}})
	}
	return files
}

func writeBatch(t *testing.T, r fullRepo, contents map[string][]byte) {
	t.Helper()
	res, err := r.WriteBatch(ctx, batchOf(contents))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res {
		if x.Err != nil {
			t.Fatal(x.Err)
		}
	}
}

func checkContents(t *testing.T, r fullRepo, contents map[string][]byte) {
	t.Helper()
	for p, want := range contents {
		if got := readAll(t, r, p); !bytes.Equal(got, want) {
			t.Fatalf("%s: read %q, want %q", p, got, want)
		}
		_, small, err := r.ReadSmall(ctx, []string{p})
		if err != nil || (len(want) <= InlineMax && !bytes.Equal(small[0], want)) {
			t.Fatalf("%s: ReadSmall %q, %v, want %q", p, small[0], err, want)
		}
	}
}

// segState is the number of packed and inline contents and segment 1's record.
func segState(t *testing.T, s *Local) (packed, inline int, rec segRecord) {
	t.Helper()
	s.db.View(func(tx *bolt.Tx) error {
		packed, inline = packedContents(tx), tx.Bucket(bucketInline).Stats().KeyN
		rec, _ = getSegRecord(tx.Bucket(bucketSegments), 1)
		return nil
	})
	return packed, inline, rec
}

// A batch's small contents go to a segment, once each, and read back
// before and after a restart; the last reference's delete frees the entry
// and counts its bytes dead; a single write stays inline.
func TestWriteBatchPacksSmallContents(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric)
	contents := map[string][]byte{"/a": []byte("alpha"), "/b": []byte("beta!"), "/c": []byte("alpha"), "/e": {}, "/big": big(1)}
	writeBatch(t, r, contents)
	write(t, r, "/single", []byte("single"))
	contents["/single"] = []byte("single")
	checkContents(t, r, contents)
	if p, i, rec := segState(t, s); p != 3 || i != 1 || rec != (segRecord{end: 10, live: 10}) {
		t.Fatalf("packed %d, inline %d, segment %+v; want 3 packed (alpha, beta!, empty), the single write inline, 10 bytes", p, i, rec)
	}
	s.Close()
	s = openStore(t, dir)
	defer s.Close()
	r = mustFull(s.Repository(ctx, "demo", "repo"))
	checkContents(t, r, contents)

	for _, p := range []string{"/a", "/b"} {
		if err := r.Delete(ctx, p, "x"); err != nil {
			t.Fatal(err)
		}
	}
	delete(contents, "/a")
	delete(contents, "/b")
	checkContents(t, r, contents) // /c keeps alpha
	if p, _, rec := segState(t, s); p != 2 || rec != (segRecord{end: 10, live: 5}) {
		t.Fatalf("after deletes: packed %d, segment %+v; want 2 packed, 5 of 10 bytes live", p, rec)
	}
	if got := stored(t, s); got != 4 {
		t.Fatalf("%d contents stored, want 4", got)
	}
}

// A crash after a batch appended to a segment but before its transaction
// committed leaves bytes past the segment's committed end, and maybe a
// segment no transaction names: Open cuts the one and removes the other,
// and later batches append after what was committed.
func TestOpenCutsUncommittedSegmentBytes(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric)
	first := map[string][]byte{"/a": []byte("one"), "/b": []byte("two")}
	writeBatch(t, r, first)
	s.Close()
	seg := filepath.Join(dir, "segments", segmentName(1))
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half-written batch"))
	f.Close()
	orphan := filepath.Join(dir, "segments", segmentName(2))
	if err := os.WriteFile(orphan, []byte("never committed"), 0o640); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir)
	defer s.Close()
	if fi, err := os.Stat(seg); err != nil || fi.Size() != 6 {
		t.Fatalf("segment after Open: %v, %v; want the 6 committed bytes", fi, err)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("uncommitted segment kept: %v", err)
	}
	r = mustFull(s.Repository(ctx, "demo", "repo"))
	second := map[string][]byte{"/c": []byte("three"), "/d": []byte("four")}
	writeBatch(t, r, second)
	checkContents(t, r, first)
	checkContents(t, r, second)
	if _, _, rec := segState(t, s); rec != (segRecord{end: 15, live: 15}) {
		t.Fatalf("segment %+v, want 15 bytes committed and live", rec)
	}
}

// Content already stored is not packed again; a batch whose contents are
// all stored writes no segment.
func TestWriteBatchDoesNotPackStoredContent(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric)
	write(t, r, "/x", []byte("held"))
	write(t, r, "/y", []byte("also"))
	writeBatch(t, r, map[string][]byte{"/a": []byte("held"), "/b": []byte("also")})
	if p, i, rec := segState(t, s); p != 0 || i != 2 || rec.end != 0 {
		t.Fatalf("packed %d, inline %d, segment %+v; want nothing packed", p, i, rec)
	}
	checkContents(t, r, map[string][]byte{"/a": []byte("held"), "/b": []byte("also")})
}

// A store written before blob entries held their locations keeps them in
// bucketPacked: its contents still read, and their last delete empties the
// old entry and counts the bytes dead.
func TestPackedLocationsOfEarlierStoresStillRead(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric)
	contents := map[string][]byte{"/a": []byte("alpha"), "/b": []byte("beta!")}
	writeBatch(t, r, contents)
	err := s.db.Update(func(tx *bolt.Tx) error { // the earlier layout
		blobs := tx.Bucket(bucketBlobs)
		for _, c := range contents {
			sum := fmt.Sprintf("%x", sha256.Sum256(c))
			e, _ := getBlob(blobs, sum)
			if err := tx.Bucket(bucketPacked).Put([]byte(sum), e.pack.encode()); err != nil {
				return err
			}
			e.packed = false
			if err := putBlob(blobs, sum, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkContents(t, r, contents)
	if err := r.Delete(ctx, "/a", "x"); err != nil {
		t.Fatal(err)
	}
	delete(contents, "/a")
	checkContents(t, r, contents)
	if p, _, rec := segState(t, s); p != 1 || rec != (segRecord{end: 10, live: 5}) {
		t.Fatalf("after the delete: packed %d, segment %+v; want 1 packed, 5 of 10 bytes live", p, rec)
	}
}

// ReadSmall reads neighbouring packed contents together: whatever the
// order asked, duplicates and contents of two batches included, each path
// gets its own content.
func TestReadSmallReadsPackedNeighboursTogether(t *testing.T) {
	_, r, _ := newRepo(t, TypeGeneric)
	first := map[string][]byte{"/a": []byte("alpha"), "/b": []byte("bravo"), "/c": []byte("charlie"), "/empty": {}}
	second := map[string][]byte{"/d": []byte("delta"), "/e": []byte("echo"), "/dup": []byte("alpha")}
	writeBatch(t, r, first)
	writeBatch(t, r, second)
	ask := []string{"/e", "/a", "/c", "/a", "/dup", "/d", "/empty", "/missing", "/b"}
	nodes, contents, err := r.ReadSmall(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ask {
		want, ok := first[p]
		if !ok {
			want = second[p]
		}
		if p == "/missing" {
			if nodes[i].Path != "" || contents[i] != nil {
				t.Fatalf("%s: %+v %q", p, nodes[i], contents[i])
			}
			continue
		}
		if !bytes.Equal(contents[i], want) || len(contents[i]) != cap(contents[i]) {
			t.Fatalf("%s: %q (cap %d), want %q", p, contents[i], cap(contents[i]), want)
		}
	}
}
