package store

import (
	"context"
	"hash"
	"io"
	"os"
	"sync"
)

// copyBuffers are what content is copied through, by writes and uploads.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// parallelHash hashes in its own goroutine, so that sha256, md5 and the disk
// write of a chunk proceed at once instead of one after the other. Write
// returns once the hasher has its own copy of the chunk.
type parallelHash struct {
	h    hash.Hash
	w    *io.PipeWriter
	done chan struct{}
}

func newParallelHash(h hash.Hash) *parallelHash {
	r, w := io.Pipe()
	p := &parallelHash{h: h, w: w, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := copyBuffers.Get().(*[]byte)
		defer copyBuffers.Put(buf)
		_, err := io.CopyBuffer(hashWriter{h}, r, *buf)
		r.CloseWithError(err)
	}()
	return p
}

func (p *parallelHash) Write(b []byte) (int, error) { return p.w.Write(b) }

// sum waits for the hasher to finish and returns the digest.
func (p *parallelHash) sum() []byte {
	p.w.Close()
	<-p.done
	return p.h.Sum(nil)
}

// stop ends the hasher if sum was not reached (an error mid-copy).
func (p *parallelHash) stop() {
	p.w.CloseWithError(io.ErrClosedPipe)
	<-p.done
}

// contentWriter is where a content being staged is written (newContentWriter):
// finish writes what it still holds, and must be called once the copy is
// over, also after an error.
type contentWriter interface {
	Write(p []byte) (int, error)
	finish() error
}

func newWriteBehind(f *os.File, off int64) *writeBehind {
	return &writeBehind{f: f, off: off, flushed: off}
}

func (w *writeBehind) finish() error { return nil }

// writeBehind starts the kernel's writeback of each few MiB as soon as they
// are written, so that disk I/O overlaps with receiving and hashing and the
// final fsync has little left to wait for.
type writeBehind struct {
	f       *os.File
	off     int64 // bytes written
	flushed int64 // bytes whose writeback was started
}

const writeBehindChunk = 8 << 20

func (w *writeBehind) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.flushed >= writeBehindChunk {
		startWriteback(w.f, w.flushed, w.off-w.flushed)
		w.flushed = w.off
	}
	return n, err
}

// hashWriter hides the hash's other methods from io.MultiWriter.
type hashWriter struct{ h hash.Hash }

func (w hashWriter) Write(p []byte) (int, error) { return w.h.Write(p) }

// ctxReader stops a copy when its context ends (a client gone mid-upload).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
