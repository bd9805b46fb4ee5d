package store

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// iovMax is Linux's IOV_MAX: the most buffers one pwritev(2) takes.
const iovMax = 1024

// writeAtv writes bufs one after another from off, as a WriteAt of their
// concatenation would, without making it: pwritev(2), IOV_MAX buffers at a
// time, a short write continued where it stopped. pack gives a batch's
// contents to the segment this way instead of copying them into one
// buffer first, fresh memory that costs a page fault per 4 KiB on the
// machines measured (docs/performance.md).
func writeAtv(f *os.File, bufs [][]byte, off int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	for bufs = dropEmpty(bufs); len(bufs) > 0; bufs = dropEmpty(bufs) {
		var n int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			n, werr = unix.Pwritev(int(fd), bufs[:min(len(bufs), iovMax)], off)
			return true // a regular file is never polled
		}); err != nil {
			return err
		}
		switch {
		case errors.Is(werr, unix.EINTR):
			continue
		case werr != nil:
			return &os.PathError{Op: "pwritev", Path: f.Name(), Err: werr}
		case n == 0:
			return &os.PathError{Op: "pwritev", Path: f.Name(), Err: io.ErrShortWrite}
		}
		off += int64(n)
		bufs = advance(bufs, n)
	}
	return nil
}
