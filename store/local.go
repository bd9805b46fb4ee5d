package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Layout under the store's directory:
//
//	meta.db                    bbolt: projects, repos, blob refcounts, stats, small contents, one bucket per repository
//	blobs/sha256/ab/cd/<hex>   content larger than InlineMax, named by its sha256, written once
//	tmp/                       writes in progress; emptied at start
//	uploads/<sha256>.part      resumable uploads (see Upload); kept at start unless idle for UploadMaxIdle
var (
	bucketProjects = []byte("projects")
	bucketRepos    = []byte("repos")
	bucketBlobs    = []byte("blobs")  // sha256 hex -> refs(8) size(8)
	bucketInline   = []byte("inline") // sha256 hex -> content, for contents of at most InlineMax bytes
	bucketStats    = []byte("stats")
	// bucketLastSeq keeps each repository's last change-log sequence across
	// its deletion, so a re-created repository continues the numbering and a
	// consumer waiting at a sequence never misses events.
	bucketLastSeq = []byte("lastseq")
	keyBlobCount  = []byte("blobs")
	keyBlobBytes  = []byte("bytes")

	// Inside a repository's bucket.
	bucketNodes    = []byte("nodes")    // path -> Node
	bucketVersions = []byte("versions") // packageKey \x00 version -> PackageVersion
	bucketPathVer  = []byte("pathver")  // path -> packageKey \x00 version
	bucketChanges  = []byte("changes")  // seq (big endian) -> Change
)

// Local is the built-in store: blobs on disk, metadata in bbolt.
type Local struct {
	dir string
	db  *bolt.DB
	log *slog.Logger
	// publish serialises making a blob visible and committing the node that
	// references it with removing blobs whose last reference went, so that a
	// blob is never removed under a write that is about to reference it.
	publish sync.Mutex
	// uploads are the resumable uploads opened by Upload, by sha256.
	uploadsMu sync.Mutex
	uploads   map[string]*Upload
	// Observe, when set, is told about every write's outcome and byte counts.
	Observe Observer
	// changed holds, per repository someone watches, a channel closed at
	// its next committed change, to wake change-log readers (real-time
	// replication) of that repository only.
	changedMu sync.Mutex
	changed   map[watchKey]chan struct{}
}

type watchKey struct{ project, repo string }

// Changed returns a channel closed at the next committed change to the
// repository project/repo.
func (s *Local) Changed(project, repo string) <-chan struct{} {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	k := watchKey{project, repo}
	ch, ok := s.changed[k]
	if !ok {
		ch = make(chan struct{})
		s.changed[k] = ch
	}
	return ch
}

func (s *Local) notifyChanged(project, repo string) {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	k := watchKey{project, repo}
	if ch, ok := s.changed[k]; ok {
		close(ch)
		delete(s.changed, k)
	}
}

// Observer receives the store's events for metrics.
type Observer interface {
	WriteDone(result string, bytes int64)
	ReadBytes(n int64)
}

type nopObserver struct{}

func (nopObserver) WriteDone(string, int64) {}
func (nopObserver) ReadBytes(int64)         {}

var _ Store = (*Local)(nil)

// Open opens (creating if needed) the built-in store in dir. It finishes what
// a crash interrupted: writes in progress and resumable uploads idle for
// UploadMaxIdle are discarded, and blobs that no committed node references
// are removed.
func Open(dir string, log *slog.Logger) (*Local, error) {
	for _, d := range []string{dir, filepath.Join(dir, "blobs", "sha256"), filepath.Join(dir, "tmp"), filepath.Join(dir, "uploads")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	// As etcd runs bbolt: the freelist is not written on every commit (it is
	// rebuilt at open) and kept as a map, which large stores allocate from
	// faster.
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o640, &bolt.Options{Timeout: 5 * time.Second,
		NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", filepath.Join(dir, "meta.db"), err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketProjects, bucketRepos, bucketBlobs, bucketInline, bucketStats, bucketLastSeq} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: init: %w", err)
	}
	s := &Local{dir: dir, db: db, log: log, uploads: map[string]*Upload{}, Observe: nopObserver{}, changed: map[watchKey]chan struct{}{}}
	if err := s.recover(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// recover empties tmp/, removes abandoned uploads and removes blob files no
// committed node references (a crash between making a blob visible and
// committing its node).
func (s *Local) recover() error {
	tmp := filepath.Join(s.dir, "tmp")
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("store: recover: %w", err)
	}
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
	if err := s.removeIdleUploads(); err != nil {
		return fmt.Errorf("store: recover: %w", err)
	}
	orphans := 0
	err = s.db.View(func(tx *bolt.Tx) error {
		refs := tx.Bucket(bucketBlobs)
		return filepath.WalkDir(filepath.Join(s.dir, "blobs", "sha256"), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if refs.Get([]byte(d.Name())) == nil {
				orphans++
				return os.Remove(p)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("store: recover: %w", err)
	}
	if orphans > 0 {
		s.log.Info("store: removed unreferenced blobs left by an interrupted write", "count", orphans)
	}
	return nil
}

// Close closes the metadata database.
func (s *Local) Close() error { return s.db.Close() }

// Stats implements Store.
func (s *Local) Stats() Stats {
	var st Stats
	_ = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStats)
		st.Blobs, st.BlobBytes = int64(getUint(b, keyBlobCount)), int64(getUint(b, keyBlobBytes))
		return nil
	})
	return st
}

func (s *Local) blobPath(sum string) string {
	return filepath.Join(s.dir, "blobs", "sha256", sum[:2], sum[2:4], sum)
}

func repoKey(project, repo string) []byte { return []byte(project + "/" + repo) }
func repoBucketName(project, repo string) []byte {
	return []byte("r:" + project + "/" + repo)
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// ---- projects and repositories ----

// CreateProject implements Store.
func (s *Local) CreateProject(_ context.Context, p Project) (Project, error) {
	if err := ValidateProjectName(p.Name); err != nil {
		return Project{}, err
	}
	p.CreatedAt = now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProjects)
		if b.Get([]byte(p.Name)) != nil {
			return fmt.Errorf("project %q: %w", p.Name, ErrExists)
		}
		return putJSON(b, []byte(p.Name), p)
	})
	return p, err
}

// Project implements Store.
func (s *Local) Project(_ context.Context, name string) (Project, error) {
	var p Project
	err := s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketProjects), []byte(name), &p, "project "+quote(name))
	})
	return p, err
}

// Projects implements Store.
func (s *Local) Projects(context.Context) ([]Project, error) {
	out := []Project{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketProjects).ForEach(func(_, v []byte) error {
			var p Project
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// DeleteProject implements Store.
func (s *Local) DeleteProject(_ context.Context, name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketProjects)
		if b.Get([]byte(name)) == nil {
			return fmt.Errorf("project %q: %w", name, ErrNotFound)
		}
		c := tx.Bucket(bucketRepos).Cursor()
		prefix := []byte(name + "/")
		if k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)) {
			return fmt.Errorf("project %q has repositories: %w", name, ErrNotEmpty)
		}
		return b.Delete([]byte(name))
	})
}

// CreateRepo implements Store.
func (s *Local) CreateRepo(_ context.Context, r Repo) (Repo, error) {
	if err := ValidateRepoName(r.Name); err != nil {
		return Repo{}, err
	}
	if !r.Type.Valid() {
		return Repo{}, fmt.Errorf("%w: repository type %q is not one of %v", ErrInvalid, r.Type, RepoTypes)
	}
	r.CreatedAt = now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketProjects).Get([]byte(r.Project)) == nil {
			return fmt.Errorf("project %q: %w", r.Project, ErrNotFound)
		}
		repos := tx.Bucket(bucketRepos)
		if repos.Get(repoKey(r.Project, r.Name)) != nil {
			return fmt.Errorf("repository %s/%s: %w", r.Project, r.Name, ErrExists)
		}
		rb, err := tx.CreateBucket(repoBucketName(r.Project, r.Name))
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketNodes, bucketVersions, bucketPathVer, bucketChanges} {
			if _, err := rb.CreateBucket(b); err != nil {
				return err
			}
		}
		if last := getUint(tx.Bucket(bucketLastSeq), repoKey(r.Project, r.Name)); last > 0 {
			if err := rb.Bucket(bucketChanges).SetSequence(last); err != nil {
				return err
			}
		}
		return putJSON(repos, repoKey(r.Project, r.Name), r)
	})
	return r, err
}

// Repos implements Store.
func (s *Local) Repos(_ context.Context, project string) ([]Repo, error) {
	out := []Repo{}
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketProjects).Get([]byte(project)) == nil {
			return fmt.Errorf("project %q: %w", project, ErrNotFound)
		}
		c := tx.Bucket(bucketRepos).Cursor()
		prefix := project + "/"
		for k, v := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
			var r Repo
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Repository implements Store.
func (s *Local) Repository(_ context.Context, project, name string) (Repository, error) {
	var r Repo
	err := s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketRepos), repoKey(project, name), &r, "repository "+quote(project+"/"+name))
	})
	if err != nil {
		return nil, err
	}
	return &localRepo{s: s, info: r, bucket: repoBucketName(project, name)}, nil
}

// DeleteRepo implements Store: the repository goes with all it holds.
func (s *Local) DeleteRepo(_ context.Context, project, name string) error {
	s.publish.Lock()
	defer s.publish.Unlock()
	var gone []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		repos := tx.Bucket(bucketRepos)
		if repos.Get(repoKey(project, name)) == nil {
			return fmt.Errorf("repository %s/%s: %w", project, name, ErrNotFound)
		}
		rb := tx.Bucket(repoBucketName(project, name))
		// One past the last entry: the deletion itself moves the position,
		// so a repository deleted and created again never looks unchanged.
		if err := putUint(tx.Bucket(bucketLastSeq), repoKey(project, name), rb.Bucket(bucketChanges).Sequence()+1); err != nil {
			return err
		}
		err := rb.Bucket(bucketNodes).ForEach(func(_, v []byte) error {
			var n Node
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			if last, err := unref(tx, n.SHA256); err != nil {
				return err
			} else if last {
				gone = append(gone, n.SHA256)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := tx.DeleteBucket(repoBucketName(project, name)); err != nil {
			return err
		}
		return repos.Delete(repoKey(project, name))
	})
	if err == nil {
		s.notifyChanged(project, name)
		s.removeBlobs(gone)
	}
	return err
}

// ---- blob reference counting (callers hold a bbolt write transaction) ----

// blobEntry is what the store knows of one content: how many nodes refer to
// it, its size and its md5 (so that a node linked to it needs no re-read).
type blobEntry struct {
	refs, size uint64
	md5        [16]byte
}

func getBlob(b *bolt.Bucket, sum string) (blobEntry, bool) {
	v := b.Get([]byte(sum))
	if len(v) != 32 {
		return blobEntry{}, false
	}
	e := blobEntry{refs: binary.BigEndian.Uint64(v[:8]), size: binary.BigEndian.Uint64(v[8:16])}
	copy(e.md5[:], v[16:])
	return e, e.refs > 0
}

func putBlob(b *bolt.Bucket, sum string, e blobEntry) error {
	if e.refs == 0 {
		return b.Delete([]byte(sum))
	}
	v := make([]byte, 32)
	binary.BigEndian.PutUint64(v[:8], e.refs)
	binary.BigEndian.PutUint64(v[8:16], e.size)
	copy(v[16:], e.md5[:])
	return b.Put([]byte(sum), v)
}

// ref adds a reference to staged content; the first reference to inline
// content stores it. Linked content must still be there.
func ref(tx *bolt.Tx, st staged) error {
	b := tx.Bucket(bucketBlobs)
	e, ok := getBlob(b, st.sha256)
	if !ok {
		if st.linked {
			return fmt.Errorf("content %s: %w", st.sha256, ErrNotFound)
		}
		if err := addStats(tx, 1, st.size); err != nil {
			return err
		}
		if st.inline != nil {
			if err := tx.Bucket(bucketInline).Put([]byte(st.sha256), st.inline); err != nil {
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
func unref(tx *bolt.Tx, sum string) (bool, error) {
	b := tx.Bucket(bucketBlobs)
	e, ok := getBlob(b, sum)
	if !ok {
		return false, nil
	}
	if e.refs == 1 {
		if err := addStats(tx, -1, -int64(e.size)); err != nil {
			return false, err
		}
		// Inline content goes with its last reference, in this transaction;
		// a file is removed by the caller after the commit.
		if err := tx.Bucket(bucketInline).Delete([]byte(sum)); err != nil {
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

// ---- staging content ----

// staged is verified content: small content in memory (inline), larger
// content written to tmp/ or a complete upload (path), fsynced and closed, or
// content the store already holds (linked).
type staged struct {
	path   string
	inline []byte
	linked bool
	upload bool // path is an Upload's file: a failed commit gives it back
	sha256 string
	md5    string
	size   int64
}

// InlineMax is the largest content kept in the metadata database instead of
// a file of its own: a small write then costs one transaction (one fsync of
// the database) rather than a file, its fsync and its directory's.
const InlineMax = 64 << 10

var inlineBuffers = sync.Pool{New: func() any { b := make([]byte, InlineMax+1); return &b }}

// stage verifies content and readies it for commit: small content stays in
// memory, larger content streams to a temporary file (see stageFile).
func (s *Local) stage(ctx context.Context, content io.Reader, opt WriteOptions) (staged, error) {
	bufp := inlineBuffers.Get().(*[]byte)
	defer inlineBuffers.Put(bufp)
	n, err := io.ReadFull(ctxReader{ctx, content}, *bufp)
	switch {
	case err == nil: // more than InlineMax: the prefix and the rest go to a file
		return s.stageFile(ctx, io.MultiReader(bytes.NewReader((*bufp)[:n]), content), opt)
	case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return staged{}, err
	}
	data := bytes.Clone((*bufp)[:n])
	sh := sha256.Sum256(data)
	st := staged{inline: data, sha256: hex.EncodeToString(sh[:]), md5: opt.KnownMD5, size: int64(n)}
	if !validMD5(st.md5) || opt.SHA256 == "" { // a stated md5 needs a sha256 that proves the content
		mh := md5.Sum(data)
		st.md5 = hex.EncodeToString(mh[:])
	}
	return st, st.check(opt)
}

// check compares staged content with what the writer promised.
func (st staged) check(opt WriteOptions) error {
	if opt.Size >= 0 && opt.Size != st.size {
		return fmt.Errorf("%w: got %d bytes, expected %d", ErrChecksum, st.size, opt.Size)
	}
	if opt.SHA256 != "" && !strings.EqualFold(opt.SHA256, st.sha256) {
		return fmt.Errorf("%w: sha256 is %s, expected %s", ErrChecksum, st.sha256, strings.ToLower(opt.SHA256))
	}
	return nil
}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// stageFile streams content into a temporary file while hashing it, checks
// it against what the caller expects, and fsyncs it. On any failure the
// temporary file is gone.
func (s *Local) stageFile(ctx context.Context, content io.Reader, opt WriteOptions) (st staged, err error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "upload-*")
	if err != nil {
		return staged{}, diskError(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	sh := newParallelHash(sha256.New())
	defer sh.stop()
	var md5w io.Writer = io.Discard
	var mh *parallelHash
	if !validMD5(opt.KnownMD5) || opt.SHA256 == "" {
		mh = newParallelHash(md5.New())
		defer mh.stop()
		md5w = mh
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	n, err := io.CopyBuffer(io.MultiWriter(&writeBehind{f: f}, sh, md5w), ctxReader{ctx, content}, *buf)
	if err != nil {
		return staged{}, diskError(err)
	}
	st = staged{path: f.Name(), sha256: hex.EncodeToString(sh.sum()), size: n}
	if mh == nil {
		st.md5 = opt.KnownMD5
	}
	if mh != nil {
		st.md5 = hex.EncodeToString(mh.sum())
	}
	if err := st.check(opt); err != nil {
		return staged{}, err
	}
	if err := f.Sync(); err != nil {
		return staged{}, diskError(err)
	}
	if err := f.Close(); err != nil {
		return staged{}, diskError(err)
	}
	return st, nil
}

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

func diskError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %v", ErrInsufficientSpace, err)
	}
	return err
}

// makeVisible moves staged content to its blob path, unless that content is
// already stored. Callers hold s.publish.
func (s *Local) makeVisible(st staged) error {
	if st.inline != nil || st.linked {
		return nil // in the database with its node, or already stored
	}
	dst := s.blobPath(st.sha256)
	if _, err := os.Stat(dst); err == nil {
		return os.Remove(st.path)
	}
	if err := s.makeBlobDir(filepath.Dir(dst)); err != nil {
		return diskError(err)
	}
	if err := os.Rename(st.path, dst); err != nil {
		return diskError(err)
	}
	if st.upload {
		// Without this a crash could bring the .part back beside the blob.
		if err := syncDir(filepath.Dir(st.path)); err != nil {
			return err
		}
	}
	return syncDir(filepath.Dir(dst))
}

// unstage takes away visible content that no commit took; an upload's
// content goes back to being that upload, for another Link. Callers hold
// s.publish.
func (s *Local) unstage(st staged) {
	if st.upload && os.Rename(s.blobPath(st.sha256), st.path) == nil {
		return
	}
	s.removeBlobs([]string{st.sha256})
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

// makeBlobDir creates blobs/sha256/ab/cd as needed, fsyncing the parent of
// every directory it creates so the new entries survive a power loss.
func (s *Local) makeBlobDir(dir string) error {
	mid := filepath.Dir(dir)
	for _, d := range []string{mid, dir} {
		if _, err := os.Stat(d); err == nil {
			continue
		}
		if err := os.Mkdir(d, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ---- small bbolt helpers ----

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

func getJSON(b *bolt.Bucket, key []byte, v any, what string) error {
	raw := b.Get(key)
	if raw == nil {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return json.Unmarshal(raw, v)
}

func getUint(b *bolt.Bucket, key []byte) uint64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(b *bolt.Bucket, key []byte, v uint64) error {
	raw := make([]byte, 8)
	binary.BigEndian.PutUint64(raw, v)
	return b.Put(key, raw)
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// validMD5 reports whether s is an md5 in lowercase hex, as the store keeps them.
func validMD5(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
