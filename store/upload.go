package store

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// ErrOffset is what an Append at another offset than the upload's gets; the
// error is an *OffsetError carrying the offset to resume from.
var ErrOffset = errors.New("upload offset mismatch")

// OffsetError tells where an upload stands after an Append at the wrong offset.
type OffsetError struct{ Offset int64 }

func (e *OffsetError) Error() string {
	return fmt.Sprintf("%v: the upload is at %d", ErrOffset, e.Offset)
}
func (e *OffsetError) Unwrap() error { return ErrOffset }

// UploadMaxIdle is how long an upload's file may go untouched before Open
// removes it: a transfer that has not resumed by then is not coming back.
const UploadMaxIdle = 24 * time.Hour

// Upload receives one content, known by its sha256 and size, over as many
// Appends as the connections carrying it need, also across restarts. Link
// makes a complete upload a node.
type Upload struct {
	sum  string
	size int64
	path string // uploads/<sha256>.part

	// ready is closed once Upload has looked at what a previous run left.
	ready   chan struct{}
	loadErr error

	// lock is held by the one Append or Link at work on the upload; a channel
	// so that waiting for it ends with the caller's context.
	lock     chan struct{}
	off      atomic.Int64 // bytes durably received (and verified, when off == size)
	complete atomic.Bool

	// knownMD5 is the content's md5 as the sender stated it (the sender's
	// own store computed it): set, md5 is not computed here again.
	knownMD5 atomic.Pointer[string]

	// Under lock.
	sha, md5 hash.Hash // of the first off bytes; nil until re-hashed after a restart
	md5sum   string    // hex, once complete
	consumed bool      // the file became a blob
}

func newUpload(dir, sum string, size int64) *Upload {
	return &Upload{sum: sum, size: size, path: filepath.Join(dir, "uploads", sum+".part"),
		ready: make(chan struct{}), lock: make(chan struct{}, 1)}
}

// Upload opens (or resumes) the upload of the content with this sha256 and
// size. An upload of content already stored is Complete at once. Callers
// resuming one upload share its *Upload.
func (s *Local) Upload(sha256hex string, size int64) (*Upload, error) {
	sum := strings.ToLower(sha256hex)
	if !validSHA256(sum) || size < 0 {
		return nil, fmt.Errorf("%w: upload of %q with %d bytes: need a hex sha256 and a size >= 0", ErrInvalid, sha256hex, size)
	}
	if st, ok := s.stored(sum); ok {
		if st.size != size {
			return nil, fmt.Errorf("%w: content %s has %d bytes, not %d", ErrChecksum, sum, st.size, size)
		}
		u := newUpload(s.dir, sum, size)
		u.md5sum, u.consumed = st.md5, true
		u.off.Store(size)
		u.complete.Store(true)
		return u, nil
	}
	s.uploadsMu.Lock()
	u, opened := s.uploads[sum]
	if !opened {
		u = newUpload(s.dir, sum, size)
		s.uploads[sum] = u
	}
	s.uploadsMu.Unlock()
	if !opened {
		if u.loadErr = u.load(); u.loadErr != nil {
			s.forgetUpload(u)
		}
		close(u.ready)
	}
	<-u.ready
	if u.loadErr != nil {
		return nil, u.loadErr
	}
	if u.size != size {
		return nil, fmt.Errorf("%w: the upload of %s has %d bytes, not %d", ErrInvalid, sum, u.size, size)
	}
	return u, nil
}

func validSHA256(sum string) bool { return lowerHex(sum, sha256.Size*2) }

// lowerHex reports whether s is n lowercase hex digits, as the store spells
// digests and ids.
func lowerHex(s string, n int) bool {
	return len(s) == n && strings.Trim(s, "0123456789abcdef") == ""
}

// moreToRead reports whether r still has a byte: content beyond a limit.
func moreToRead(r io.Reader) bool {
	n, _ := r.Read(make([]byte, 1))
	return n > 0
}

// load resumes after what a previous run received. Whole content is verified
// now, so that Complete is true of it; a prefix is re-hashed by the next Append.
func (u *Upload) load() error {
	fi, err := os.Stat(u.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return u.reset()
	case err != nil:
		return err
	case fi.Size() < u.size:
		u.off.Store(fi.Size())
		return nil
	case fi.Size() > u.size:
		return u.reset()
	}
	if err := u.finish(context.Background()); !errors.Is(err, ErrChecksum) {
		return err
	}
	return nil // the content was wrong: it starts over
}

// openedUpload is the upload of sum opened by Upload, nil if none. After a
// restart a sender may commit without asking for the upload again: a file
// of exactly size bytes (when size >= 0) is opened, and so verified, here.
func (s *Local) openedUpload(sum string, size int64) *Upload {
	s.uploadsMu.Lock()
	u := s.uploads[sum]
	s.uploadsMu.Unlock()
	if u == nil {
		if !validSHA256(sum) || size < 0 {
			return nil
		}
		if fi, err := os.Stat(filepath.Join(s.dir, "uploads", sum+".part")); err != nil || fi.Size() != size {
			return nil
		}
		u, _ = s.Upload(sum, size)
		return u
	}
	if <-u.ready; u.loadErr != nil {
		return nil
	}
	return u
}

// forgetUpload drops an upload whose file is gone. Callers hold its lock or
// are loading it.
func (s *Local) forgetUpload(u *Upload) {
	u.consumed = true
	s.uploadsMu.Lock()
	if s.uploads[u.sum] == u {
		delete(s.uploads, u.sum)
	}
	s.uploadsMu.Unlock()
}

func (u *Upload) acquire(ctx context.Context) error {
	select {
	case u.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (u *Upload) release() { <-u.lock }

// Offset is how many bytes were durably received.
func (u *Upload) Offset() int64 { return u.off.Load() }

// Size is the content's size.
func (u *Upload) Size() int64 { return u.size }

// Complete reports whether all bytes were received and the sha256 verified.
func (u *Upload) Complete() bool { return u.complete.Load() }

// Append writes r at offset, which must be Offset() (else an *OffsetError).
// Bytes that arrived before r failed are kept, fsynced, and the next Append
// resumes after them; it returns the new offset. Reaching Size verifies the
// sha256: a mismatch discards the upload (ErrChecksum), a match makes it
// Complete. Content beyond Size is refused (ErrInvalid), after what fits.
func (u *Upload) Append(ctx context.Context, offset int64, r io.Reader) (int64, error) {
	if err := u.acquire(ctx); err != nil {
		return u.Offset(), err
	}
	defer u.release()
	start := u.Offset()
	if offset != start {
		return start, &OffsetError{Offset: start}
	}
	if !u.Complete() {
		if u.consumed { // a Session's content of another size took its place
			return start, fmt.Errorf("%w: content %s does not have %d bytes", ErrInvalid, u.sum, u.size)
		}
		n, err := u.write(ctx, start, r)
		if n < 0 {
			return start, err
		}
		if start+n < u.size {
			u.off.Store(start + n)
			return start + n, err
		}
		// An error of r after the last byte does no harm.
		if err := u.finish(ctx); err != nil {
			return u.Offset(), err
		}
	}
	if moreToRead(r) {
		return u.size, fmt.Errorf("%w: content of %s is longer than %d bytes", ErrInvalid, u.sum, u.size)
	}
	return u.size, nil
}

// write appends at most the missing bytes of r to the file and fsyncs them.
// n is what the file and the hashes now hold beyond start; -1 when that is
// unknown (a failed fsync): the next Append then cuts the file back and
// re-hashes it.
func (u *Upload) write(ctx context.Context, start int64, r io.Reader) (n int64, err error) {
	if err := u.rehash(ctx, start); err != nil {
		return -1, err
	}
	f, err := os.OpenFile(u.path, os.O_WRONLY|os.O_CREATE, 0o640)
	if err != nil {
		return -1, diskError(err)
	}
	defer f.Close()
	// A write that failed part-way may have left bytes past start. Only then
	// is the file cut: a truncate changes the inode, which the fsync would
	// then have to write too.
	if fi, err := f.Stat(); err != nil || fi.Size() != start {
		if err := f.Truncate(start); err != nil {
			return -1, diskError(err)
		}
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return -1, err
	}
	sh := newParallelHash(u.sha)
	mh, stopMD5 := u.md5Sink()
	w := &hashedWriter{f: newContentWriter(f, start, u.size-start), h: io.MultiWriter(sh, mh)}
	buf := copyBuffers.Get().(*[]byte)
	_, err = io.CopyBuffer(w, io.LimitReader(ctxReader{ctx, r}, u.size-start), *buf)
	copyBuffers.Put(buf)
	serr := w.f.finish() // what the writer holds is in the file, or the file is unknown
	if w.n > 0 && serr == nil {
		serr = f.Sync() // while the hashers take in the last bytes
	}
	sh.stop() // the hashes now hold every byte handed to them
	stopMD5()
	if w.n == 0 {
		return 0, diskError(err)
	}
	if serr != nil {
		u.sha, u.md5 = nil, nil
		return -1, diskError(serr)
	}
	if start == 0 {
		if serr := syncDir(filepath.Dir(u.path)); serr != nil {
			u.sha, u.md5 = nil, nil
			return -1, serr
		}
	}
	return w.n, diskError(err)
}

// hashedWriter writes to the file, then hands what the file took to the
// hashes, so that both always hold the same bytes.
type hashedWriter struct {
	f contentWriter
	h io.Writer
	n int64
}

func (w *hashedWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n]) // a pipe to the hasher: fails only once stopped
	w.n += int64(n)
	return n, err
}

// rehash readies the hashes of the file's first off bytes: after a restart
// they are read again, once.
func (u *Upload) rehash(ctx context.Context, off int64) error {
	if u.sha != nil {
		return nil
	}
	u.sha, u.md5 = sha256.New(), md5.New()
	if off == 0 {
		return nil
	}
	f, err := os.Open(u.path)
	if err != nil {
		u.sha, u.md5 = nil, nil
		return err
	}
	defer f.Close()
	sh := newParallelHash(u.sha)
	mh, stopMD5 := u.md5Sink()
	buf := copyBuffers.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(sh, mh), io.LimitReader(ctxReader{ctx, f}, off), *buf)
	copyBuffers.Put(buf)
	sh.stop()
	stopMD5()
	if err == nil && n < off {
		err = fmt.Errorf("upload of %s: file has %d bytes, expected %d", u.sum, n, off)
	}
	if err != nil {
		u.sha, u.md5 = nil, nil
	}
	return err
}

// finish verifies content whose every byte was received: a match completes
// the upload, a mismatch starts it over.
func (u *Upload) finish(ctx context.Context) error {
	if err := u.rehash(ctx, u.size); err != nil {
		return err
	}
	if got := hex.EncodeToString(u.sha.Sum(nil)); got != u.sum {
		if err := u.reset(); err != nil {
			return err
		}
		return fmt.Errorf("%w: uploaded content has sha256 %s, expected %s; the upload starts over", ErrChecksum, got, u.sum)
	}
	if m := u.knownMD5.Load(); m != nil {
		u.md5sum = *m
	} else {
		u.md5sum = hex.EncodeToString(u.md5.Sum(nil))
	}
	u.off.Store(u.size)
	u.complete.Store(true)
	return nil
}

// staged is the complete upload as content to commit; small content goes
// inline, where Write would have put it.
func (u *Upload) staged() (staged, error) {
	st := staged{path: u.path, upload: true, sha256: u.sum, md5: u.md5sum, size: u.size}
	if u.size <= InlineMax {
		data, err := os.ReadFile(u.path)
		if err != nil {
			return staged{}, err
		}
		st.inline = data
	}
	return st, nil
}

// stageForLink holds the upload for a Link and stages its content: the
// complete upload's file or, when a Link that held the upload before made it
// a blob, that blob. The upload stays held until handBack tells whether the
// commit took the content. size, when >= 0, must be the content's.
func (u *Upload) stageForLink(ctx context.Context, s *Local, size int64) (staged, func(committed bool), error) {
	if err := u.acquire(ctx); err != nil {
		return staged{}, nil, err
	}
	st, err := u.linkContent(s)
	if err == nil {
		err = st.checkLinkSize(size)
	}
	if err != nil {
		u.release()
		return staged{}, nil, err
	}
	return st, func(committed bool) { u.handBack(s, st, committed) }, nil
}

// linkContent is what a Link holding the upload commits.
func (u *Upload) linkContent(s *Local) (staged, error) {
	if st, ok := s.stored(u.sum); ok {
		return st, nil
	}
	if !u.Complete() || u.consumed {
		return staged{}, notStored(u.sum)
	}
	return u.staged()
}

// handBack ends a Link's hold on the upload. Once its file is gone (made a
// blob, or its content committed inline), the upload is over.
func (u *Upload) handBack(s *Local, st staged, committed bool) {
	defer u.release()
	if !st.upload {
		return
	}
	if committed && st.inline != nil {
		os.Remove(st.path)
	}
	if _, err := os.Stat(st.path); errors.Is(err, os.ErrNotExist) {
		s.forgetUpload(u)
	}
}

// UseMD5 takes the content's md5 from the sender, who holds the content
// verified, instead of computing it: md5 is the costliest hash and the
// sha256 check already proves the content. The first value given stays.
func (u *Upload) UseMD5(md5hex string) error {
	m := strings.ToLower(md5hex)
	if !validMD5(m) {
		return fmt.Errorf("%w: md5 %q is not 32 hex digits", ErrInvalid, md5hex)
	}
	u.knownMD5.CompareAndSwap(nil, &m)
	return nil
}

// md5Sink is where the bytes go for md5: nowhere when the sender gave it.
func (u *Upload) md5Sink() (io.Writer, func()) {
	if u.knownMD5.Load() != nil {
		return io.Discard, func() {}
	}
	mh := newParallelHash(u.md5)
	return mh, mh.stop
}

// reset starts the upload over, without a file.
func (u *Upload) reset() error {
	if err := os.Remove(u.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	u.sha, u.md5 = sha256.New(), md5.New()
	u.off.Store(0)
	return nil
}

// removeIdleUploads removes upload files untouched for UploadMaxIdle.
func (s *Local) removeIdleUploads() error {
	dir := filepath.Join(s.dir, "uploads")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	idle := time.Now().Add(-UploadMaxIdle)
	removed := 0
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".part") && fi.ModTime().Before(idle) {
			if os.Remove(filepath.Join(dir, e.Name())) == nil {
				removed++
			}
		}
	}
	if removed > 0 {
		s.log.Info("store: removed abandoned uploads", "count", removed)
	}
	return nil
}
