package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var ctx = context.Background()

func openStore(t testing.TB, dir string, opts ...Option) *Local {
	t.Helper()
	s, err := Open(dir, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fullRepo is the built-in repository with every capability.
type fullRepo interface {
	Repository
	Bulk
}

// Options only tests use.
func withSegmentMax(n int64) Option { return func(s *Local) { s.segMax = n } }
func withCompactHook(f func(context.Context, string) error) Option {
	return func(s *Local) { s.compaction.hook = f }
}
func withoutCompactor() Option                  { return func(s *Local) { s.compaction.off = true } }
func withCompactBackoff(d time.Duration) Option { return func(s *Local) { s.compaction.backoff = d } }

// newRepo opens a store in a temp dir with project "demo" and a repository.
func newRepo(t testing.TB, typ RepoType, opts ...Option) (*Local, fullRepo, string) {
	t.Helper()
	dir := t.TempDir()
	s := openStore(t, dir, opts...)
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateProject(ctx, Project{Name: "demo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRepo(ctx, Repo{Project: "demo", Name: "repo", Type: typ}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Repository(ctx, "demo", "repo")
	if err != nil {
		t.Fatal(err)
	}
	return s, r.(fullRepo), dir
}

func md5hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func write(t testing.TB, r Repository, path string, content []byte) Node {
	t.Helper()
	n, err := r.Write(ctx, path, bytes.NewReader(content), WriteOptions{Size: int64(len(content)), SHA256: sum(content)})
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return n
}

func readAll(t testing.TB, r Repository, path string) []byte {
	t.Helper()
	rd, err := r.Open(ctx, path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stored counts the distinct contents held: blob files on disk plus small
// contents (inline entries in the database, packed ones in segments).
func stored(t testing.TB, s *Local) int {
	t.Helper()
	n := blobFiles(t, s.dir)
	s.db.View(func(tx *bolt.Tx) error {
		n += tx.Bucket(bucketInline).Stats().KeyN + packedContents(tx)
		return nil
	})
	return n
}

// packedContents counts the contents in segments: blob entries with a
// location, and locations of stores from before (bucketPacked).
func packedContents(tx *bolt.Tx) int {
	n := tx.Bucket(bucketPacked).Stats().KeyN
	tx.Bucket(bucketBlobs).ForEach(func(k, _ []byte) error {
		if e, ok := getBlob(tx.Bucket(bucketBlobs), string(k)); ok && e.packed {
			n++
		}
		return nil
	})
	return n
}

// blobFiles counts the content files on disk.
func blobFiles(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func tmpFiles(t testing.TB, dir string) int {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func mustFull(r Repository, err error) fullRepo {
	if err != nil {
		panic(err)
	}
	return r.(fullRepo)
}
