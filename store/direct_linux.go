package store

import (
	"os"
	"sync"
	"syscall"
)

// directAlign is the alignment O_DIRECT asks of buffers, offsets and
// lengths: 4096 covers every logical block size in use.
const directAlign = 4096

// directBuf is how much a directWriter gathers before each write.
const directBuf = 4 << 20

var directBuffers = sync.Pool{New: func() any {
	b := make([]byte, directBuf+directAlign)
	skip := (directAlign - int(alignOf(b)%directAlign)) % directAlign
	b = b[skip : skip+directBuf]
	return &b
}}

// newContentWriter writes a content of size bytes (-1: not known) being
// staged from off: past the page cache (O_DIRECT) unless it is known to be
// shorter than one buffer, off is not aligned or the file system refuses;
// else through the page cache with writeBehind. A smaller content is not
// worth a 4 MiB buffer and a second open.
func newContentWriter(f *os.File, off, size int64) contentWriter {
	if off%directAlign != 0 || (size >= 0 && size < directBuf) {
		return newWriteBehind(f, off)
	}
	d, err := os.OpenFile(f.Name(), os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil { // EINVAL: a file system without O_DIRECT
		return newWriteBehind(f, off)
	}
	return &directWriter{f: f, d: d, off: off, buf: directBuffers.Get().(*[]byte)}
}

// directWriter writes a content past the page cache. Writing into the page
// cache costs the kernel a copy of every byte into freshly allocated pages,
// which on the machines measured was 62 % of a 1 GiB replication's CPU and
// slower than the disk (docs/performance.md); the contents a store takes
// are rarely read back at once. Whole blocks go out from an aligned buffer
// with O_DIRECT; the unaligned tail of the content through the page cache.
// The fsync the caller does next makes both durable.
type directWriter struct {
	f, d *os.File // the caller's file, and the same file opened O_DIRECT
	off  int64    // the file offset of buf[0]
	buf  *[]byte
	n    int // bytes in buf
	err  error
}

func (w *directWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		c := copy((*w.buf)[w.n:], p)
		w.n, p, written = w.n+c, p[c:], written+c
		if w.n == len(*w.buf) {
			if w.err = w.writeBlocks(w.n); w.err != nil {
				return written, w.err
			}
		}
	}
	return written, nil
}

// writeBlocks writes the first n bytes of buf (a multiple of directAlign)
// at off and moves the rest to the front.
func (w *directWriter) writeBlocks(n int) error {
	b := (*w.buf)[:n]
	_, err := w.d.WriteAt(b, w.off)
	if err != nil { // a file system refusing this alignment, or direct writes: through the page cache; a failing disk fails that too
		_, err = w.f.WriteAt(b, w.off)
	}
	if err != nil {
		return err
	}
	w.off += int64(n)
	w.n = copy(*w.buf, (*w.buf)[n:w.n])
	return nil
}

// finish writes what is gathered (whole blocks direct, the tail through the
// page cache) and gives the buffer back; every writer is finished, also one
// that failed.
func (w *directWriter) finish() error {
	if w.buf == nil {
		return w.err
	}
	if w.err == nil {
		if blocks := w.n &^ (directAlign - 1); blocks > 0 {
			w.err = w.writeBlocks(blocks)
		}
	}
	if w.err == nil && w.n > 0 {
		if _, w.err = w.f.WriteAt((*w.buf)[:w.n], w.off); w.err == nil {
			w.off, w.n = w.off+int64(w.n), 0
		}
	}
	if err := w.d.Close(); w.err == nil {
		w.err = err
	}
	directBuffers.Put(w.buf)
	w.buf = nil
	return w.err
}
