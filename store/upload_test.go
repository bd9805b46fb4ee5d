package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func pseudoRandom(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

func partPath(dir, sha string) string { return filepath.Join(dir, "uploads", sha+".part") }

func openUpload(t *testing.T, s *Local, content []byte) *Upload {
	t.Helper()
	u, err := s.Upload(sum(content), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func appendAt(t *testing.T, u *Upload, off int64, b []byte) int64 {
	t.Helper()
	n, err := u.Append(ctx, off, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("append at %d: %v", off, err)
	}
	return n
}

func TestUploadResumesAfterABrokenConnection(t *testing.T) {
	s, r, dir := newRepo(t, TypeMaven)
	obs := &countingObserver{}
	s.observer = obs
	content := pseudoRandom(3<<20+17, 1)
	u := openUpload(t, s, content)
	if u.Offset() != 0 || u.Size() != int64(len(content)) || u.Complete() {
		t.Fatalf("new upload at %d of %d, complete %v", u.Offset(), u.Size(), u.Complete())
	}
	// The connection breaks after 1 MiB: what arrived is kept.
	off, err := u.Append(ctx, 0, io.MultiReader(bytes.NewReader(content[:1<<20]), failingReader{}))
	if !errors.Is(err, errBroken) || off != 1<<20 || u.Offset() != 1<<20 {
		t.Fatalf("broken append: offset %d (%d), %v", off, u.Offset(), err)
	}
	if fi, err := os.Stat(partPath(dir, sum(content))); err != nil || fi.Size() != 1<<20 {
		t.Fatalf("part file: %v %v", fi, err)
	}
	// The sender resumes from the offset it is told.
	var oe *OffsetError
	if _, err := u.Append(ctx, 0, bytes.NewReader(content)); !errors.As(err, &oe) || oe.Offset != 1<<20 {
		t.Fatalf("append at 0 after 1 MiB: %v", err)
	}
	off = appendAt(t, u, u.Offset(), content[1<<20:2<<20])
	if u.Complete() {
		t.Fatal("complete before the last byte")
	}
	if off = appendAt(t, u, off, content[off:]); off != int64(len(content)) || !u.Complete() {
		t.Fatalf("after the last append: offset %d, complete %v", off, u.Complete())
	}
	if len(obs.results) != 0 {
		t.Fatalf("appends observed as writes: %s", obs)
	}

	jar := "/com/x/a/1.0/a-1.0.jar"
	n, err := r.Link(ctx, jar, sum(content), WriteOptions{Size: int64(len(content)), By: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Created || n.MD5 != md5hex(content) || n.SHA256 != sum(content) || n.Size != int64(len(content)) {
		t.Fatalf("linked node %+v", n)
	}
	if !bytes.Equal(readAll(t, r, jar), content) {
		t.Fatal("linked content differs")
	}
	if _, err := os.Stat(partPath(dir, sum(content))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("part file after link: %v", err)
	}
	if _, err := r.Version(ctx, "gav://com.x:a", "1.0"); err != nil {
		t.Fatal(err)
	}
	changes, _ := r.Changes(ctx, 1, 0)
	if len(changes) != 2 || changes[0].Kind != NodeCreated || changes[0].Size != int64(len(content)) || changes[1].Kind != VersionCreated {
		t.Fatalf("changes %+v", changes)
	}
	if st := s.Stats(); st.Blobs != 1 || st.BlobBytes != int64(len(content)) || blobFiles(t, dir) != 1 {
		t.Fatalf("stats %+v, %d blob files", st, blobFiles(t, dir))
	}
	if size, ok := s.HasContent(sum(content)); !ok || size != int64(len(content)) {
		t.Fatalf("HasContent: %d %v", size, ok)
	}
	if obs.results["ok"] != 1 || obs.bytes != int64(len(content)) {
		t.Fatalf("link of an upload observed as %s", obs)
	}
	// The content is now stored: linking again and uploading again need nothing.
	if _, err := r.Link(ctx, "/com/x/a/1.0/a-1.0-copy.jar", sum(content), WriteOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	u = openUpload(t, s, content)
	if !u.Complete() || u.Offset() != u.Size() {
		t.Fatalf("upload of stored content at %d, complete %v", u.Offset(), u.Complete())
	}
	if off, err := u.Append(ctx, u.Size(), bytes.NewReader(nil)); err != nil || off != u.Size() {
		t.Fatalf("append to an upload of stored content: %d, %v", off, err)
	}
	if _, err := s.Upload(sum(content), 5); !errors.Is(err, ErrChecksum) {
		t.Fatalf("upload of stored content with the wrong size: %v", err)
	}
}

func TestUploadResumesAfterRestart(t *testing.T) {
	s, _, dir := newRepo(t, TypeGeneric)
	content := pseudoRandom(2<<20+3, 2)
	whole := pseudoRandom(InlineMax+5, 3)
	appendAt(t, openUpload(t, s, content), 0, content[:1<<20+1])
	appendAt(t, openUpload(t, s, whole), 0, whole)
	s.Close()

	s = openStore(t, dir)
	defer s.Close()
	r := mustFull(s.Repository(ctx, "demo", "repo"))
	u := openUpload(t, s, content)
	if u.Offset() != 1<<20+1 || u.Complete() {
		t.Fatalf("after restart at %d, complete %v", u.Offset(), u.Complete())
	}
	// The prefix is hashed again, so the md5 covers all of it.
	appendAt(t, u, u.Offset(), content[u.Offset():])
	if n, err := r.Link(ctx, "/c", sum(content), WriteOptions{Size: -1}); err != nil || n.MD5 != md5hex(content) {
		t.Fatalf("link after restart: %+v %v", n, err)
	}
	// Content received whole before the restart is verified when opened again.
	if u := openUpload(t, s, whole); !u.Complete() || u.Offset() != u.Size() {
		t.Fatalf("whole upload after restart at %d, complete %v", u.Offset(), u.Complete())
	}
	if n, err := r.Link(ctx, "/w", sum(whole), WriteOptions{Size: -1}); err != nil || n.MD5 != md5hex(whole) {
		t.Fatalf("link of whole upload after restart: %+v %v", n, err)
	}
	if got := readAll(t, r, "/w"); !bytes.Equal(got, whole) {
		t.Fatal("content differs")
	}

	// A sender may commit right after a restart, without opening the upload
	// again: Link opens it when told the exact size.
	direct := pseudoRandom(InlineMax+9, 12)
	appendAt(t, openUpload(t, s, direct), 0, direct)
	s.Close()
	s = openStore(t, dir)
	defer s.Close()
	r = mustFull(s.Repository(ctx, "demo", "repo"))
	if _, err := r.Link(ctx, "/d", sum(direct), WriteOptions{Size: -1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link of an upload not opened, size unknown: %v", err)
	}
	if n, err := r.Link(ctx, "/d", sum(direct), WriteOptions{Size: int64(len(direct))}); err != nil || n.MD5 != md5hex(direct) {
		t.Fatalf("link of an upload not opened since the restart: %+v %v", n, err)
	}
}

func TestUploadOfWrongContentStartsOver(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric)
	content := pseudoRandom(1<<20, 4)
	u := openUpload(t, s, content)
	appendAt(t, u, 0, content[:1000])
	wrong := pseudoRandom(len(content), 5)
	if off, err := u.Append(ctx, 1000, bytes.NewReader(wrong[1000:])); !errors.Is(err, ErrChecksum) || off != 0 {
		t.Fatalf("wrong content: offset %d, %v", off, err)
	}
	if u.Offset() != 0 || u.Complete() {
		t.Fatalf("after a mismatch: at %d, complete %v", u.Offset(), u.Complete())
	}
	if _, err := os.Stat(partPath(dir, sum(content))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("part file of a mismatch: %v", err)
	}
	if _, err := r.Link(ctx, "/x", sum(content), WriteOptions{Size: -1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link of a discarded upload: %v", err)
	}
	// The right content, sent again, completes it.
	if appendAt(t, u, 0, content); !u.Complete() {
		t.Fatal("not complete")
	}
}

func TestLinkOfSmallUploadAndRefusedLink(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric)
	write(t, r, "/taken", []byte("x"))
	for _, content := range [][]byte{[]byte("small upload"), pseudoRandom(InlineMax+1, 6)} {
		u := openUpload(t, s, content)
		appendAt(t, u, 0, content)
		// A refused link keeps the upload for another.
		if _, err := r.Link(ctx, "/taken", sum(content), WriteOptions{Size: -1, NoOverwrite: true}); !errors.Is(err, ErrExists) {
			t.Fatalf("link over a file with NoOverwrite: %v", err)
		}
		if _, err := os.Stat(partPath(dir, sum(content))); err != nil {
			t.Fatalf("refused link lost the upload: %v", err)
		}
		if _, err := r.Link(ctx, "/x", sum(content), WriteOptions{Size: int64(len(content)) + 1}); !errors.Is(err, ErrChecksum) {
			t.Fatalf("link with the wrong size: %v", err)
		}
		n, err := r.Link(ctx, "/taken", sum(content), WriteOptions{Size: -1})
		if err != nil || n.Created || n.MD5 != md5hex(content) {
			t.Fatalf("link: %+v %v", n, err)
		}
		if !bytes.Equal(readAll(t, r, "/taken"), content) {
			t.Fatal("content differs")
		}
	}
	// Small content went inline, as Write keeps it; the old content is gone.
	if st := s.Stats(); st.Blobs != 1 || blobFiles(t, dir) != 1 || stored(t, s) != 1 {
		t.Fatalf("stats %+v, %d blob files, %d stored", st, blobFiles(t, dir), stored(t, s))
	}
	if es, _ := os.ReadDir(filepath.Join(dir, "uploads")); len(es) != 0 {
		t.Fatalf("uploads left: %v", es)
	}
	if _, err := r.Link(ctx, "/y", sum([]byte("never")), WriteOptions{Size: -1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link of unknown content: %v", err)
	}
}

// gateReader tells when it is first read, then waits for open before reading.
type gateReader struct {
	r       io.Reader
	started chan<- struct{}
	open    <-chan struct{}
	once    sync.Once
}

func (g *gateReader) Read(p []byte) (int, error) {
	g.once.Do(func() { g.started <- struct{}{}; <-g.open })
	return g.r.Read(p)
}

func TestConcurrentAppendsAtOneOffset(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric)
	content := pseudoRandom(3<<20, 7)
	u := openUpload(t, s, content)
	started, open := make(chan struct{}, 2), make(chan struct{})
	type result struct {
		off int64
		err error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			off, err := u.Append(ctx, 0, &gateReader{r: bytes.NewReader(content), started: started, open: open})
			results <- result{off, err}
		}()
	}
	<-started // one Append holds the upload and is reading
	// An Append that cannot wait any longer gives up without harm.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := u.Append(canceled, 0, bytes.NewReader(content)); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with a canceled context while another runs: %v", err)
	}
	close(open)
	a, b := <-results, <-results
	if b.err == nil {
		a, b = b, a
	}
	var oe *OffsetError
	if a.err != nil || a.off != int64(len(content)) || !errors.As(b.err, &oe) || !errors.Is(b.err, ErrOffset) || oe.Offset != int64(len(content)) {
		t.Fatalf("concurrent appends: %+v and %+v", a, b)
	}
	if _, err := r.Link(ctx, "/c", sum(content), WriteOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, r, "/c"), content) {
		t.Fatal("content corrupted")
	}
}

func TestAppendOffsetsAndArguments(t *testing.T) {
	s, _, _ := newRepo(t, TypeGeneric)
	content := pseudoRandom(100, 8)
	u := openUpload(t, s, content)
	appendAt(t, u, 0, content[:10])
	for _, off := range []int64{0, 5, 11, 100, -1} {
		var oe *OffsetError
		if n, err := u.Append(ctx, off, bytes.NewReader(content[10:])); !errors.As(err, &oe) || oe.Offset != 10 || n != 10 {
			t.Errorf("append at %d of an upload at 10: %d, %v", off, n, err)
		}
	}
	if u.Offset() != 10 {
		t.Fatalf("refused appends moved the upload to %d", u.Offset())
	}
	appendAt(t, u, 10, content[10:])
	cases := []struct {
		name string
		off  int64
		body []byte
		want error
	}{
		{"nothing at the end", 100, nil, nil},
		{"beyond the end", 100, []byte("x"), ErrInvalid},
		{"before the end", 50, content[50:], ErrOffset},
	}
	for _, c := range cases {
		if n, err := u.Append(ctx, c.off, bytes.NewReader(c.body)); !errors.Is(err, c.want) || c.want == nil && err != nil || n != 100 {
			t.Errorf("complete upload, %s: %d, %v", c.name, n, err)
		}
	}
	// Bytes past the size of the content are refused; what fits is kept.
	long := pseudoRandom(10, 9)
	u = openUpload(t, s, long)
	if n, err := u.Append(ctx, 0, bytes.NewReader(append(long, "more"...))); !errors.Is(err, ErrInvalid) || n != 10 || !u.Complete() {
		t.Fatalf("append past the size: %d, %v, complete %v", n, err, u.Complete())
	}

	bad := []struct {
		sha  string
		size int64
		want error
	}{
		{"abc", 1, ErrInvalid},
		{sum(content)[:63] + "g", 100, ErrInvalid},
		{sum([]byte("x")), -1, ErrInvalid},
		{sum(content), 99, ErrInvalid}, // the upload is open with 100
	}
	for _, c := range bad {
		if _, err := s.Upload(c.sha, c.size); !errors.Is(err, c.want) {
			t.Errorf("Upload(%q, %d): %v, want %v", c.sha, c.size, err, c.want)
		}
	}
	if u2, err := s.Upload(strings.ToUpper(sum(content)), 100); err != nil || u2 != openUpload(t, s, content) {
		t.Fatalf("the same upload opened twice: %v", err)
	}
}

func TestRecoveryRemovesOnlyIdleUploads(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	fresh, idle := pseudoRandom(100, 10), pseudoRandom(100, 11)
	appendAt(t, openUpload(t, s, fresh), 0, fresh[:50])
	appendAt(t, openUpload(t, s, idle), 0, idle[:50])
	s.Close()
	old := time.Now().Add(-UploadMaxIdle - time.Hour)
	other := filepath.Join(dir, "uploads", "notes.txt")
	os.WriteFile(other, []byte("not an upload"), 0o640)
	for _, p := range []string{partPath(dir, sum(idle)), other} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "tmp", "upload-1"), []byte("half"), 0o640)

	s = openStore(t, dir)
	defer s.Close()
	for p, want := range map[string]bool{partPath(dir, sum(fresh)): true, partPath(dir, sum(idle)): false, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s kept %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	if tmpFiles(t, dir) != 0 {
		t.Error("tmp/ not emptied")
	}
	if u := openUpload(t, s, fresh); u.Offset() != 50 {
		t.Fatalf("fresh upload at %d", u.Offset())
	}
	if u := openUpload(t, s, idle); u.Offset() != 0 {
		t.Fatalf("idle upload at %d", u.Offset())
	}
}
