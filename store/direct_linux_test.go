package store

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// Whatever the sizes of the writes, a content written past the page cache
// leaves the file holding exactly its bytes after what was there: whole
// blocks, a tail, nothing but a tail, nothing at all; from an aligned
// offset (direct) and from an unaligned one (through the page cache). A
// content known to be smaller than a buffer goes through the page cache.
func TestContentWriterWritesTheContent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, directAlign - 1, directAlign, directAlign + 1, directBuf, directBuf + 123, 2*directBuf + directAlign + 5} {
		for _, start := range []int64{0, directAlign, 100} {
			content := make([]byte, size)
			for i := range content {
				content[i] = byte(rng.Uint32())
			}
			f, err := os.Create(filepath.Join(t.TempDir(), "content"))
			if err != nil {
				t.Fatal(err)
			}
			head := bytes.Repeat([]byte{'h'}, int(start))
			if _, err := f.WriteAt(head, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Seek(start, 0); err != nil { // as the callers do: the page-cache writer writes at the position
				t.Fatal(err)
			}
			w := newContentWriter(f, start, -1) // size not stated: direct when aligned, whatever comes
			if _, direct := w.(*directWriter); direct != (start%directAlign == 0) {
				t.Fatalf("start %d: direct %v", start, direct)
			}
			for rest := content; len(rest) > 0; {
				n := min(len(rest), 1+rng.IntN(300_000))
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := w.finish(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			got, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append(head, content...)) {
				t.Fatalf("size %d from %d: the file holds %d bytes, not the content", size, start, len(got))
			}
		}
	}
}

func TestASmallContentIsNotWrittenDirect(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "content"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if w, ok := newContentWriter(f, 0, directBuf-1).(*writeBehind); !ok {
		t.Fatalf("a content of %d bytes: %T", directBuf-1, w)
	}
	w := newContentWriter(f, 0, directBuf)
	if _, ok := w.(*directWriter); !ok {
		t.Fatalf("a content of %d bytes: %T", directBuf, w)
	}
	if err := w.finish(); err != nil {
		t.Fatal(err)
	}
}
