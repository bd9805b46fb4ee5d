package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A segment write of a batch's contents leaves in the file exactly what a
// WriteAt of their concatenation would: more buffers than one pwritev
// takes, empty ones among them, at an offset inside the file.
func TestWriteAtvWritesTheConcatenation(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "seg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const head = "header"
	if _, err := f.WriteString(head); err != nil {
		t.Fatal(err)
	}
	var bufs [][]byte
	var want bytes.Buffer
	for i := range 2500 {
		b := bytes.Repeat([]byte{byte(i)}, i%7)
		bufs = append(bufs, b)
		want.Write(b)
	}
	if err := writeAtv(f, bufs, int64(len(head))); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if string(got[:len(head)]) != head || !bytes.Equal(got[len(head):], want.Bytes()) {
		t.Fatalf("file holds %d bytes, want %q then %d bytes", len(got), head, want.Len())
	}
	if err := writeAtv(f, [][]byte{nil, {}}, 0); err != nil {
		t.Fatalf("nothing to write: %v", err)
	}
}

func TestAdvanceDropsWhatWasWritten(t *testing.T) {
	bufs := [][]byte{[]byte("ab"), []byte("cde"), []byte("f")}
	got := advance(bufs, 3)
	if len(got) != 2 || string(got[0]) != "de" || string(got[1]) != "f" {
		t.Fatalf("after 3 bytes: %q", got)
	}
	if got = advance(got, 3); len(got) != 0 {
		t.Fatalf("after all: %q", got)
	}
}
