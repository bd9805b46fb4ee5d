package store

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Layout under the store's directory (DESIGN.md draws it whole):
//
//	meta.db                    bbolt: projects, repos, blob refcounts, stats, small contents, one bucket per repository
//	segments/<id>.seg          small contents a WriteBatch packed, append-only (see segments.go)
//	blobs/sha256/ab/cd/<hex>   content larger than InlineMax, named by its sha256, written once
//	tmp/                       writes in progress; emptied at start
//	uploads/<sha256>.part      resumable uploads (see Upload); kept at start unless idle for UploadMaxIdle
//	sessions/<id>.part, .json  upload sessions (see Session): bytes so far, owner; kept at start unless idle for UploadMaxIdle
var (
	bucketProjects = []byte("projects")
	bucketRepos    = []byte("repos")
	bucketBlobs    = []byte("blobs")  // sha256 hex -> refs(8) size(8) md5(16), see blobEntry
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
	dir  string
	db   *bolt.DB
	segs *segments // small contents packed by WriteBatch
	log  *slog.Logger
	// publish serialises making a blob visible and committing the node that
	// references it with removing blobs whose last reference went, so that a
	// blob is never removed under a write that is about to reference it.
	publish sync.Mutex
	// groupMu guards the commits waiting for a group (groupcommit.go) and
	// whether one is leading.
	groupMu sync.Mutex
	queued  []*commitReq
	leading bool
	// uploads are the resumable uploads opened by Upload, by sha256.
	uploadsMu sync.Mutex
	uploads   map[string]*Upload
	// sessions are the upload sessions opened in this run, by id.
	sessionsMu sync.Mutex
	sessions   map[string]*Session
	// observer is told about every write's outcome and byte counts.
	observer Observer
	// changed holds, per repository someone watches, a channel closed at
	// its next committed change, to wake change-log readers (real-time
	// replication) of that repository only.
	changedMu sync.Mutex
	changed   map[watchKey]chan struct{}
	// compaction gives back the space of deleted small contents (compact.go).
	compaction compactor
	segMax     int64 // the size at which a segment is sealed: segmentMax
}

// Observer receives the store's events for metrics.
type Observer interface {
	// WriteDone is told the outcome of every write, link and batched file
	// that got past its path and metadata checks: "ok" (with the bytes
	// written), "linked" (no byte written), or why it failed
	// ("checksum_mismatch", "conflict", "no_space", "invalid", "canceled",
	// "error").
	WriteDone(result string, bytes int64)
	// ReadBytes counts content bytes read.
	ReadBytes(n int64)
	// Compacted is told the outcome of every segment compaction ("ok",
	// "error", "canceled": the store was closing) and the bytes of segment
	// files it gave back.
	Compacted(result string, reclaimed int64)
}

type nopObserver struct{}

func (nopObserver) WriteDone(string, int64) {}
func (nopObserver) ReadBytes(int64)         {}
func (nopObserver) Compacted(string, int64) {}

var _ Store = (*Local)(nil)

// Option configures Open.
type Option func(*Local)

// WithObserver has o told about every write's outcome and the bytes read
// and written, for metrics.
func WithObserver(o Observer) Option {
	return func(s *Local) {
		if o != nil {
			s.observer = o
		}
	}
}

// Open opens (creating if needed) the built-in store in dir. It finishes what
// a crash interrupted: writes in progress, and resumable uploads and upload
// sessions idle for UploadMaxIdle, are discarded, and blobs that no
// committed node references are removed.
func Open(dir string, log *slog.Logger, opts ...Option) (*Local, error) {
	db, err := openDB(dir)
	if err != nil {
		return nil, err
	}
	s := &Local{dir: dir, db: db, log: log, uploads: map[string]*Upload{}, sessions: map[string]*Session{}, observer: nopObserver{}, changed: map[watchKey]chan struct{}{},
		segMax: segmentMax}
	for _, o := range opts {
		o(s)
	}
	if s.segs, err = openSegments(filepath.Join(dir, "segments"), db, s.segMax); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: segments: %w", err)
	}
	if err := s.recover(); err != nil {
		s.segs.close()
		db.Close()
		return nil, err
	}
	s.startCompactor()
	return s, nil
}

// MmapReserve is the address space meta.db (and the replicator's
// objects.db) is mapped with when smaller: what a million files take, with
// room. None where address space is short (32-bit) or where bbolt grows
// the file to its map (Windows).
func MmapReserve() int {
	if strconv.IntSize < 64 || runtime.GOOS == "windows" {
		return 0
	}
	return 1 << 30
}

// openDB makes the store's directories and opens its metadata database.
func openDB(dir string) (*bolt.DB, error) {
	for _, d := range []string{dir, filepath.Join(dir, "blobs", "sha256"), filepath.Join(dir, "tmp"), filepath.Join(dir, "uploads"), filepath.Join(dir, "sessions")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	// The freelist is kept as a map, which large stores allocate from faster
	// (as etcd runs bbolt), and written with every commit: rebuilding it at
	// Open (etcd's NoFreelistSync) reads and maps the whole database, 1 GB
	// resident at a million files (DESIGN.md). The map is reserved at 1 GiB
	// of address space from the start, as etcd reserves 10: a growing
	// database is otherwise remapped at every doubling, which waits for every
	// reader and copies the writing transaction's records out of the old map
	// (DESIGN.md, "Why the map is reserved").
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o640, &bolt.Options{Timeout: 5 * time.Second,
		NoFreelistSync: false, FreelistType: bolt.FreelistMapType, InitialMmapSize: MmapReserve()})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", filepath.Join(dir, "meta.db"), err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketProjects, bucketRepos, bucketBlobs, bucketInline, bucketPacked, bucketSegments, bucketStats, bucketLastSeq} {
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
	return db, nil
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
	if err := s.removeIdleSessions(); err != nil {
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

// Close stops the compactor and closes the metadata database. A Compact
// call still running ends first.
func (s *Local) Close() error {
	s.stopCompactor()
	s.compaction.mu.Lock()
	defer s.compaction.mu.Unlock()
	err := s.db.Close()
	s.segs.close()
	return err
}

// Stats implements Store.
func (s *Local) Stats() Stats {
	var st Stats
	_ = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStats)
		st.Blobs, st.BlobBytes = int64(getUint(b, keyBlobCount)), int64(getUint(b, keyBlobBytes))
		// One record a segment: a few hundred at most (256 MiB each).
		return tx.Bucket(bucketSegments).ForEach(func(_, v []byte) error {
			if len(v) == 16 {
				end, live := binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:])
				st.SegmentLiveBytes += int64(live)
				st.SegmentDeadBytes += int64(end - min(live, end))
			}
			return nil
		})
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
