package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// SessionMaxSize is the most one session may receive: a guard against one
// client filling the disk, far above any image layer.
const SessionMaxSize int64 = 1 << 40

// maxOwner bounds what a session keeps of its owner.
const maxOwner = 1024

// Session is an upload whose content is known by its digest only when it
// ends (an OCI blob upload). Its bytes are hashed as they arrive, kept
// across restarts, and become content only through Finish and then Link.
//
// One Append, Finish or Cancel works on a session at a time; another waits
// for it (or for its own context), then sees the session as that one left
// it: an Append at the offset both started from then gets an *OffsetError.
type Session struct {
	s       *Local
	id      string
	owner   string
	created time.Time
	meta    string // sessions/<id>.json

	// part receives the bytes: an Upload whose sha256 is not known yet has
	// all an Upload needs to append (lock, offset, fsync, hashes computed
	// while writing and re-hashed after a restart), with SessionMaxSize as
	// its size.
	part *Upload

	used atomic.Int64 // unix nanoseconds of the last change, for expiry while the store runs

	gone bool // under part's lock: finished or cancelled
}

// sessionMeta is sessions/<id>.json. Its existence is what makes the
// session exist: it is written after the .part and removed before it.
type sessionMeta struct {
	Owner   string    `json:"owner"`
	Created time.Time `json:"created"`
}

func (s *Local) sessionFile(id, ext string) string {
	return filepath.Join(s.dir, "sessions", id+ext)
}

func (s *Local) newSession(id string, m sessionMeta, off int64, used time.Time) *Session {
	part := &Upload{sum: "session " + id, size: SessionMaxSize, path: s.sessionFile(id, ".part"),
		ready: make(chan struct{}), lock: make(chan struct{}, 1)}
	close(part.ready)
	part.off.Store(off)
	ss := &Session{s: s, id: id, owner: m.Owner, created: m.Created, meta: s.sessionFile(id, ".json"), part: part}
	ss.used.Store(used.UnixNano())
	return ss
}

// CreateSession starts an empty session bound to owner (what the client
// uploads into, such as "project/repo/image"), kept with it.
func (s *Local) CreateSession(owner string) (*Session, error) {
	if len(owner) > maxOwner {
		return nil, fmt.Errorf("%w: a session owner of %d bytes, at most %d", ErrInvalid, len(owner), maxOwner)
	}
	s.expireSessions()
	var b [16]byte
	rand.Read(b[:])
	t := time.Now()
	ss := s.newSession(hex.EncodeToString(b[:]), sessionMeta{Owner: owner, Created: t.UTC()}, 0, t)
	if err := ss.create(); err != nil {
		return nil, err
	}
	s.sessionsMu.Lock()
	s.sessions[ss.id] = ss
	s.sessionsMu.Unlock()
	return ss, nil
}

// create writes the empty .part, then the .json: a crash in between leaves
// a .part alone, which Open removes.
func (ss *Session) create() error {
	f, err := os.OpenFile(ss.part.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return diskError(err)
	}
	f.Close()
	data, err := json.Marshal(sessionMeta{Owner: ss.owner, Created: ss.created})
	if err == nil {
		err = ss.s.writeFileAtomic(ss.meta, data)
	}
	if err != nil {
		os.Remove(ss.part.path)
	}
	return err
}

// writeFileAtomic writes data to path whole or not at all, durably: a
// temporary file in tmp/ (emptied at Open), fsynced, renamed into place.
func (s *Local) writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "session-*")
	if err != nil {
		return diskError(err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return diskError(err)
	}
	return syncDir(filepath.Dir(path))
}

// OpenSession returns the session id, also one a previous run of the store
// left. Callers resuming one session share its *Session. An id that is not
// one CreateSession makes, or of a session finished, cancelled or idle for
// UploadMaxIdle, is ErrNotFound.
func (s *Local) OpenSession(id string) (*Session, error) {
	if !lowerHex(id, 32) {
		return nil, sessionNotFound(id)
	}
	s.sessionsMu.Lock()
	defer s.sessionsMu.Unlock()
	if ss := s.sessions[id]; ss != nil {
		if s.expireIdle(ss) {
			return nil, sessionNotFound(id)
		}
		return ss, nil
	}
	ss, err := s.loadSession(id)
	if err != nil {
		return nil, err
	}
	s.sessions[id] = ss
	return ss, nil
}

func sessionNotFound(id string) error {
	return fmt.Errorf("upload session %q: %w", id, ErrNotFound)
}

// loadSession reads what a previous run left of session id: the offset is
// the .part's size, its hashes are rebuilt by the next Append or Finish.
func (s *Local) loadSession(id string) (*Session, error) {
	data, err := os.ReadFile(s.sessionFile(id, ".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, sessionNotFound(id)
	} else if err != nil {
		return nil, err
	}
	var m sessionMeta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("upload session %s: %w", id, err)
	}
	part, err := os.Stat(s.sessionFile(id, ".part"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, sessionNotFound(id)
	} else if err != nil {
		return nil, err
	}
	meta, err := os.Stat(s.sessionFile(id, ".json"))
	if err != nil {
		return nil, err
	}
	ss := s.newSession(id, m, part.Size(), latest(part.ModTime(), meta.ModTime()))
	if ss.idle() {
		ss.removeFiles()
		return nil, sessionNotFound(id)
	}
	return ss, nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ID is the session's id: 32 lowercase hex digits, safe in a URL and a file name.
func (ss *Session) ID() string { return ss.id }

// Owner is what the session was created for.
func (ss *Session) Owner() string { return ss.owner }

// Offset is how many bytes were durably received.
func (ss *Session) Offset() int64 { return ss.part.Offset() }

// Append writes r at offset, which must be Offset() (else an *OffsetError).
// Bytes that arrived before r failed are kept, fsynced, and counted; it
// returns the new offset. More than SessionMaxSize bytes in all are refused
// (ErrInvalid), after what fits.
func (ss *Session) Append(ctx context.Context, offset int64, r io.Reader) (int64, error) {
	p := ss.part
	if err := p.acquire(ctx); err != nil {
		return p.Offset(), err
	}
	defer p.release()
	if ss.gone {
		return p.Offset(), sessionNotFound(ss.id)
	}
	start := p.Offset()
	if offset != start {
		return start, &OffsetError{Offset: start}
	}
	n, err := p.write(ctx, start, r)
	ss.used.Store(time.Now().UnixNano())
	if n < 0 {
		return start, err
	}
	end := start + n
	p.off.Store(end)
	if err == nil && end == p.size && moreToRead(r) {
		err = fmt.Errorf("%w: upload session %s is larger than %d bytes", ErrInvalid, ss.id, p.size)
	}
	return end, err
}

// Finish ends the session with its content, which must have this sha256
// and, when size >= 0, this size: then a Link of that sha256 in any
// repository of the store commits it, as the content of a complete Upload.
// A mismatch is ErrChecksum and changes nothing, for the client to try
// again. Once finished, the session is gone.
func (ss *Session) Finish(ctx context.Context, sha256hex string, size int64) error {
	sum := strings.ToLower(sha256hex)
	if !validSHA256(sum) {
		return fmt.Errorf("%w: %q is not a hex sha256", ErrInvalid, sha256hex)
	}
	p := ss.part
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	if ss.gone {
		return sessionNotFound(ss.id)
	}
	md5sum, err := ss.verify(ctx, sum, size)
	if err != nil {
		return err
	}
	err = ss.s.adoptUpload(ctx, sum, p.Offset(), md5sum, p.path)
	if _, statErr := os.Stat(p.path); err != nil && statErr == nil {
		return err // nothing was moved: the session stays
	}
	if derr := ss.discard(); err == nil {
		err = derr
	}
	return err
}

// verify compares what was received with what the client says it sent. It
// only reads the hashes, so a mismatch leaves them for the next try.
func (ss *Session) verify(ctx context.Context, sum string, size int64) (md5sum string, err error) {
	p := ss.part
	off := p.Offset()
	if size >= 0 && size != off {
		return "", fmt.Errorf("%w: upload session %s received %d bytes, not %d", ErrChecksum, ss.id, off, size)
	}
	if err := p.rehash(ctx, off); err != nil {
		return "", err
	}
	if got := hex.EncodeToString(p.sha.Sum(nil)); got != sum {
		return "", fmt.Errorf("%w: upload session %s received content with sha256 %s, not %s", ErrChecksum, ss.id, got, sum)
	}
	return hex.EncodeToString(p.md5.Sum(nil)), nil
}

// Cancel ends the session and removes what it received, once an Append at
// work on it has ended.
func (ss *Session) Cancel() error {
	p := ss.part
	p.acquire(context.Background())
	defer p.release()
	if ss.gone {
		return sessionNotFound(ss.id)
	}
	return ss.discard()
}

// discard ends the session for good. Callers hold its lock.
func (ss *Session) discard() error {
	if err := ss.removeFiles(); err != nil {
		return err
	}
	ss.gone = true
	ss.s.sessionsMu.Lock()
	delete(ss.s.sessions, ss.id)
	ss.s.sessionsMu.Unlock()
	return nil
}

// removeFiles removes the .json first: from then on the session is gone,
// whatever becomes of the .part.
func (ss *Session) removeFiles() error {
	if err := os.Remove(ss.meta); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	os.Remove(ss.part.path)
	return syncDir(filepath.Dir(ss.meta))
}

func (ss *Session) idle() bool {
	return time.Since(time.Unix(0, ss.used.Load())) > UploadMaxIdle
}

// expireSessions drops this run's sessions idle for UploadMaxIdle, as Open
// drops earlier runs', so that abandoned ones do not pile up in memory and
// on disk while the store runs.
func (s *Local) expireSessions() {
	s.sessionsMu.Lock()
	defer s.sessionsMu.Unlock()
	for _, ss := range s.sessions {
		s.expireIdle(ss)
	}
}

// expireIdle drops ss if it is idle, reporting whether it did. A session at
// work is not idle, so its lock is only tried. Callers hold s.sessionsMu.
func (s *Local) expireIdle(ss *Session) bool {
	if !ss.idle() {
		return false
	}
	select {
	case ss.part.lock <- struct{}{}:
	default:
		return false
	}
	defer ss.part.release()
	if ss.removeFiles() != nil {
		return false
	}
	ss.gone = true
	delete(s.sessions, ss.id)
	return true
}

// adoptUpload makes the verified content in file (size bytes, with md5sum)
// the complete Upload of sum, as if an Upload had received it, so that Link
// takes it by rename. Content already stored, or already a complete upload,
// needs no second copy: file is removed.
func (s *Local) adoptUpload(ctx context.Context, sum string, size int64, md5sum, file string) error {
	for {
		s.uploadsMu.Lock()
		u := s.uploads[sum]
		if u == nil {
			// Under uploadsMu, so that an Upload of sum opened meanwhile finds this one.
			err := s.adoptNew(sum, size, md5sum, file)
			s.uploadsMu.Unlock()
			return err
		}
		s.uploadsMu.Unlock()
		if done, err := s.adoptInto(ctx, u, size, md5sum, file); done {
			return err
		}
	}
}

// adoptNew registers a new complete upload of file. Callers hold s.uploadsMu.
func (s *Local) adoptNew(sum string, size int64, md5sum, file string) error {
	if _, ok := s.stored(sum); ok {
		return os.Remove(file)
	}
	u := completeUpload(s.dir, sum, size, md5sum)
	if err := os.Rename(file, u.path); err != nil {
		return diskError(err)
	}
	s.uploads[sum] = u
	return settleUpload(u.path)
}

func completeUpload(dir, sum string, size int64, md5sum string) *Upload {
	u := newUpload(dir, sum, size)
	close(u.ready)
	u.md5sum = md5sum
	u.off.Store(size)
	u.complete.Store(true)
	return u
}

// adoptInto completes u, an Upload of the same content opened by a sender,
// with file. done is false when u was dropped meanwhile: look again.
func (s *Local) adoptInto(ctx context.Context, u *Upload, size int64, md5sum, file string) (done bool, err error) {
	if <-u.ready; u.acquire(ctx) != nil {
		return true, ctx.Err()
	}
	defer u.release()
	s.uploadsMu.Lock()
	current := s.uploads[u.sum] == u
	s.uploadsMu.Unlock()
	switch {
	case !current:
		return false, nil
	case u.Complete():
		return true, os.Remove(file)
	}
	if err := os.Rename(file, u.path); err != nil {
		return true, diskError(err)
	}
	if u.size != size {
		// That sender stated a wrong size: its upload could never complete,
		// and must not append to this content.
		u.consumed = true
		s.uploadsMu.Lock()
		s.uploads[u.sum] = completeUpload(s.dir, u.sum, size, md5sum)
		s.uploadsMu.Unlock()
	} else {
		u.sha, u.md5, u.md5sum = nil, nil, md5sum
		u.off.Store(size)
		u.complete.Store(true)
	}
	return true, settleUpload(u.path)
}

// settleUpload makes a session's file, renamed to an upload's, durable
// there. The upload's idle time starts now, not at the session's last Append.
func settleUpload(path string) error {
	t := time.Now()
	os.Chtimes(path, t, t)
	return syncDir(filepath.Dir(path))
}

// removeIdleSessions removes, at Open, the sessions idle for UploadMaxIdle
// and the halves a crash left of sessions being created or ended.
func (s *Local) removeIdleSessions() error {
	dir := filepath.Join(s.dir, "sessions")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type seen struct {
		files int
		used  time.Time
	}
	ids := map[string]*seen{}
	for _, e := range entries {
		id, ext, _ := strings.Cut(e.Name(), ".")
		fi, err := e.Info()
		if err != nil || (ext != "part" && ext != "json") {
			continue
		}
		if ids[id] == nil {
			ids[id] = &seen{}
		}
		ids[id].files++
		ids[id].used = latest(ids[id].used, fi.ModTime())
	}
	idle := time.Now().Add(-UploadMaxIdle)
	removed := 0
	for id, e := range ids {
		if e.files < 2 || e.used.Before(idle) {
			os.Remove(s.sessionFile(id, ".json"))
			os.Remove(s.sessionFile(id, ".part"))
			removed++
		}
	}
	if removed > 0 {
		s.log.Info("store: removed abandoned upload sessions", "count", removed)
		return syncDir(dir)
	}
	return nil
}
