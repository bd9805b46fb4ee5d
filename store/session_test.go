package store

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func createSession(t testing.TB, s *Local) *Session {
	t.Helper()
	ss, err := s.CreateSession("demo/repo/app")
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func sessionAppend(t testing.TB, ss *Session, off int64, b []byte) int64 {
	t.Helper()
	n, err := ss.Append(ctx, off, bytes.NewReader(b))
	if err != nil || n != off+int64(len(b)) {
		t.Fatalf("append %d bytes at %d: %d, %v", len(b), off, n, err)
	}
	return n
}

func sessionFiles(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, "sessions"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func wantNotFound(t *testing.T, s *Local, id string) {
	t.Helper()
	if ss, err := s.OpenSession(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OpenSession(%q): %v, %v; want ErrNotFound", id, ss, err)
	}
}

func TestSessionInChunksThenFinishAndLink(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric)
	if _, err := s.CreateRepo(ctx, Repo{Project: "demo", Name: "other", Type: TypeGeneric}); err != nil {
		t.Fatal(err)
	}
	content := pseudoRandom(3<<20+11, 20)
	ss := createSession(t, s)
	if !lowerHex(ss.ID(), 32) || ss.Owner() != "demo/repo/app" || ss.Offset() != 0 {
		t.Fatalf("new session %q of %q at %d", ss.ID(), ss.Owner(), ss.Offset())
	}
	if again, err := s.OpenSession(ss.ID()); err != nil || again != ss {
		t.Fatalf("OpenSession of a session in use: %p %v, want %p", again, err, ss)
	}
	off := sessionAppend(t, ss, 0, content[:1<<20])
	// A chunk sent again, or one skipping ahead, is told where to resume.
	for _, at := range []int64{0, 2 << 20} {
		var oe *OffsetError
		if n, err := ss.Append(ctx, at, bytes.NewReader(content[at:])); !errors.As(err, &oe) || oe.Offset != off || n != off {
			t.Fatalf("append at %d of a session at %d: %d, %v", at, off, n, err)
		}
	}
	// A connection breaking mid-chunk keeps what arrived.
	n, err := ss.Append(ctx, off, io.MultiReader(bytes.NewReader(content[off:off+1000]), failingReader{}))
	if !errors.Is(err, errBroken) || n != off+1000 || ss.Offset() != n {
		t.Fatalf("broken append: %d (%d), %v", n, ss.Offset(), err)
	}
	off = sessionAppend(t, ss, n, content[n:2<<20])
	sessionAppend(t, ss, off, content[off:])

	// Nothing of it is content before Finish.
	if _, ok := s.HasContent(sum(content)); ok {
		t.Fatal("session content stored before Finish")
	}
	if _, err := r.Link(ctx, "/early", sum(content), WriteOptions{Size: int64(len(content))}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link before Finish: %v", err)
	}
	// A wrong digest or size changes nothing: the client may try again.
	wrong := sum(content[1:])
	for _, c := range []struct {
		sha  string
		size int64
	}{{wrong, -1}, {wrong, int64(len(content))}, {sum(content), int64(len(content)) - 1}} {
		if err := ss.Finish(ctx, c.sha, c.size); !errors.Is(err, ErrChecksum) {
			t.Fatalf("Finish(%s, %d): %v", c.sha, c.size, err)
		}
	}
	if err := ss.Finish(ctx, "sha256:"+sum(content), -1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Finish with a prefixed digest: %v", err)
	}
	if again, err := s.OpenSession(ss.ID()); err != nil || again != ss || ss.Offset() != int64(len(content)) {
		t.Fatalf("after failed Finishes: %v %v at %d", again, err, ss.Offset())
	}

	if err := ss.Finish(ctx, strings.ToUpper(sum(content)), int64(len(content))); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, ss.ID())
	if files := sessionFiles(t, dir); len(files) != 0 {
		t.Fatalf("session files after Finish: %v", files)
	}
	if _, err := ss.Append(ctx, ss.Offset(), bytes.NewReader(nil)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("append after Finish: %v", err)
	}
	// Any repository of the store links it, by rename.
	other := mustFull(s.Repository(ctx, "demo", "other"))
	node, err := other.Link(ctx, "/app/_blobs/sha256/"+sum(content), sum(content), WriteOptions{Size: -1, By: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if node.Size != int64(len(content)) || node.SHA256 != sum(content) || node.MD5 != md5hex(content) {
		t.Fatalf("node %+v", node)
	}
	if !bytes.Equal(readAll(t, other, node.Path), content) {
		t.Fatal("linked content differs")
	}
	if _, err := os.Stat(partPath(dir, sum(content))); !errors.Is(err, os.ErrNotExist) || blobFiles(t, dir) != 1 {
		t.Fatalf("after Link: part %v, %d blob files", err, blobFiles(t, dir))
	}
}

func TestSessionResumesAfterRestart(t *testing.T) {
	s, _, dir := newRepo(t, TypeGeneric)
	content := pseudoRandom(2<<20+5, 21)
	whole := pseudoRandom(InlineMax+3, 22)
	ss := createSession(t, s)
	sessionAppend(t, ss, 0, content[:1<<20+1])
	done := createSession(t, s)
	sessionAppend(t, done, 0, whole)
	id, doneID := ss.ID(), done.ID()
	s.Close()

	s = openStore(t, dir)
	defer s.Close()
	r := mustFull(s.Repository(ctx, "demo", "repo"))
	ss, err := s.OpenSession(id)
	if err != nil || ss.Offset() != 1<<20+1 || ss.Owner() != "demo/repo/app" {
		t.Fatalf("after restart: %v, at %d, owner %q", err, ss.Offset(), ss.Owner())
	}
	// The prefix is hashed again by the next Append, so both sums cover it.
	sessionAppend(t, ss, ss.Offset(), content[ss.Offset():])
	if err := ss.Finish(ctx, sum(content), int64(len(content))); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Link(ctx, "/c", sum(content), WriteOptions{Size: -1}); err != nil || n.MD5 != md5hex(content) {
		t.Fatalf("link: %+v %v", n, err)
	}
	// Finish right after a restart hashes the prefix then.
	done, err = s.OpenSession(doneID)
	if err != nil {
		t.Fatal(err)
	}
	if err := done.Finish(ctx, sum(whole), -1); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Link(ctx, "/w", sum(whole), WriteOptions{Size: -1}); err != nil || n.MD5 != md5hex(whole) {
		t.Fatalf("link: %+v %v", n, err)
	}
	if !bytes.Equal(readAll(t, r, "/w"), whole) || !bytes.Equal(readAll(t, r, "/c"), content) {
		t.Fatal("content differs")
	}
}

func TestSessionResumesAfterACrashMidAppend(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric)
	content := pseudoRandom(1<<20, 23)
	ss := createSession(t, s)
	sessionAppend(t, ss, 0, content)
	s.Close()
	// The crash lost the chunk's last bytes: what reached the disk is the offset.
	if err := os.Truncate(s.sessionFile(ss.ID(), ".part"), 700_000); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	r = mustFull(s.Repository(ctx, "demo", "repo"))
	ss, err := s.OpenSession(ss.ID())
	if err != nil || ss.Offset() != 700_000 {
		t.Fatalf("after the crash: %v at %d", err, ss.Offset())
	}
	sessionAppend(t, ss, ss.Offset(), content[ss.Offset():])
	if err := ss.Finish(ctx, sum(content), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Link(ctx, "/x", sum(content), WriteOptions{Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
}

func TestSessionOfStoredAndEmptyContent(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric)
	for _, content := range [][]byte{pseudoRandom(InlineMax+1, 24), []byte("small")} {
		write(t, r, "/stored-"+sum(content)[:8], content)
		ss := createSession(t, s)
		sessionAppend(t, ss, 0, content)
		if err := ss.Finish(ctx, sum(content), int64(len(content))); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(partPath(dir, sum(content))); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("an upload of stored content: %v", err)
		}
		if _, err := r.Link(ctx, "/linked-"+sum(content)[:8], sum(content), WriteOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	empty := createSession(t, s)
	if err := empty.Finish(ctx, sum(nil), 0); err != nil {
		t.Fatal(err)
	}
	n, err := r.Link(ctx, "/empty", sum(nil), WriteOptions{Size: 0})
	if err != nil || n.Size != 0 || n.MD5 != md5hex(nil) || len(readAll(t, r, "/empty")) != 0 {
		t.Fatalf("empty content: %+v %v", n, err)
	}
	if files := sessionFiles(t, dir); len(files) != 0 || stored(t, s) != 3 {
		t.Fatalf("session files %v, %d contents stored", files, stored(t, s))
	}
}

func TestSessionCancel(t *testing.T) {
	s, _, dir := newRepo(t, TypeGeneric)
	ss := createSession(t, s)
	sessionAppend(t, ss, 0, []byte("abc"))
	if err := ss.Cancel(); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, ss.ID())
	if files := sessionFiles(t, dir); len(files) != 0 {
		t.Fatalf("files after Cancel: %v", files)
	}
	if _, err := ss.Append(ctx, 3, bytes.NewReader([]byte("d"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("append after Cancel: %v", err)
	}
	if err := ss.Finish(ctx, sum([]byte("abc")), -1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Finish after Cancel: %v", err)
	}
	if err := ss.Cancel(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Cancel: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	s, _, dir := newRepo(t, TypeGeneric)
	old, kept := createSession(t, s), createSession(t, s)
	sessionAppend(t, old, 0, []byte("old"))
	s.Close()
	past := time.Now().Add(-UploadMaxIdle - time.Minute)
	for _, ext := range []string{".part", ".json"} {
		if err := os.Chtimes(s.sessionFile(old.ID(), ext), past, past); err != nil {
			t.Fatal(err)
		}
	}
	// Halves of sessions a crash left while creating or ending them.
	halves := []string{strings.Repeat("a", 32) + ".part", strings.Repeat("b", 32) + ".json"}
	for _, name := range halves {
		os.WriteFile(filepath.Join(dir, "sessions", name), nil, 0o640)
	}

	s = openStore(t, dir)
	defer s.Close()
	wantNotFound(t, s, old.ID())
	if _, err := s.OpenSession(kept.ID()); err != nil {
		t.Fatal(err)
	}
	if files := sessionFiles(t, dir); len(files) != 2 || !strings.HasPrefix(files[0], kept.ID()) {
		t.Fatalf("after Open: %v", files)
	}

	// While the store runs: an idle session is gone when opened, or when
	// another is created.
	a, b := createSession(t, s), createSession(t, s)
	for _, ss := range []*Session{a, b} {
		ss.used.Store(past.UnixNano())
	}
	wantNotFound(t, s, a.ID())
	createSession(t, s)
	wantNotFound(t, s, b.ID())
	if _, err := b.Append(ctx, 0, bytes.NewReader([]byte("x"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("append to an expired session: %v", err)
	}
	if files := sessionFiles(t, dir); len(files) != 4 {
		t.Fatalf("files: %v", files)
	}
}

func TestOpenSessionRefusesWhatIsNotAnID(t *testing.T) {
	s, _, dir := newRepo(t, TypeGeneric)
	ss := createSession(t, s)
	for _, id := range []string{"", "../x", "../meta", "../../store/meta.db", "x/../" + ss.ID(), strings.ToUpper(ss.ID()),
		ss.ID() + ".json", strings.Repeat("0", 32), strings.Repeat("0", 31) + "/"} {
		wantNotFound(t, s, id)
	}
	if _, err := os.Stat(filepath.Join(dir, "meta.db")); err != nil {
		t.Fatal(err)
	}
}

func TestSessionConcurrentAppendsAtOneOffset(t *testing.T) {
	s, _, _ := newRepo(t, TypeGeneric)
	ss := createSession(t, s)
	content := pseudoRandom(1<<20, 25)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			opened, err := s.OpenSession(ss.ID())
			if err == nil {
				_, err = opened.Append(ctx, 0, bytes.NewReader(content))
			}
			errs[i] = err
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var oe *OffsetError
		switch {
		case err == nil:
			ok++
		case !errors.As(err, &oe) || oe.Offset != int64(len(content)):
			t.Fatalf("concurrent append: %v", err)
		}
	}
	if ok != 1 || ss.Offset() != int64(len(content)) {
		t.Fatalf("%d appends succeeded, at %d", ok, ss.Offset())
	}
	if err := ss.Finish(ctx, sum(content), -1); err != nil {
		t.Fatal(err)
	}
}

func TestSessionSizeGuard(t *testing.T) {
	s, _, _ := newRepo(t, TypeGeneric)
	ss := createSession(t, s)
	ss.part.size = 10
	if n, err := ss.Append(ctx, 0, bytes.NewReader([]byte("0123456789x"))); !errors.Is(err, ErrInvalid) || n != 10 {
		t.Fatalf("append beyond the limit: %d, %v", n, err)
	}
	if err := ss.Finish(ctx, sum([]byte("0123456789")), 10); err != nil {
		t.Fatal(err)
	}
}

// A replication sender may be uploading the same content when a session
// finishes: its upload is complete then, or, if it stated a size the
// content does not have, refused from then on.
func TestSessionFinishCompletesAnUploadOfItsContent(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric)
	content := pseudoRandom(InlineMax+100, 26)
	u := openUpload(t, s, content)
	appendAt(t, u, 0, content[:1000])
	liar, err := s.Upload(sum(content[:InlineMax]), InlineMax+99)
	if err != nil {
		t.Fatal(err)
	}
	appendAt(t, liar, 0, content[:10])

	ss := createSession(t, s)
	sessionAppend(t, ss, 0, content)
	if err := ss.Finish(ctx, sum(content), -1); err != nil {
		t.Fatal(err)
	}
	if !u.Complete() || u.Offset() != u.Size() {
		t.Fatalf("sender's upload at %d, complete %v", u.Offset(), u.Complete())
	}
	short := content[:InlineMax]
	ss = createSession(t, s)
	sessionAppend(t, ss, 0, short)
	if err := ss.Finish(ctx, sum(short), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := liar.Append(ctx, 10, bytes.NewReader(content[10:])); !errors.Is(err, ErrInvalid) {
		t.Fatalf("append to an upload of the wrong size: %v", err)
	}
	for path, c := range map[string][]byte{"/a": content, "/b": short} {
		if _, err := r.Link(ctx, path, sum(c), WriteOptions{Size: int64(len(c))}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readAll(t, r, path), c) {
			t.Fatalf("%s differs", path)
		}
	}
}

// BenchmarkSessionAppend receives 64 MiB in 1 MiB Appends (each fsynced,
// as a PATCH must be before it is answered), beside an os.File taking the
// same chunks with an fsync each, and with one fsync at the end.
//
//	go test -run '^$' -bench SessionAppend -benchtime 5x ./store/
func BenchmarkSessionAppend(b *testing.B) {
	const size, chunk = 64 << 20, 1 << 20
	s, _, dir := newRepo(b, TypeGeneric)
	content := pseudoRandom(size, 27)
	var session, fileEach, fileOnce time.Duration
	for b.Loop() {
		ss := createSession(b, s)
		start := time.Now()
		for off := int64(0); off < size; off += chunk {
			sessionAppend(b, ss, off, content[off:off+chunk])
		}
		session += time.Since(start)
		b.StopTimer()
		ss.Cancel()
		fileEach += writeChunks(b, filepath.Join(dir, "peer.bin"), content, chunk, true)
		fileOnce += writeChunks(b, filepath.Join(dir, "peer.bin"), content, chunk, false)
		b.StartTimer()
	}
	mbps := func(d time.Duration) float64 { return float64(size*b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(session), "session-MB/s")
	b.ReportMetric(mbps(fileEach), "file+fsync-each-MB/s")
	b.ReportMetric(mbps(fileOnce), "file+fsync-once-MB/s")
	b.ReportMetric(fileEach.Seconds()/session.Seconds(), "x-file+fsync-each")
}

// writeChunks writes content to a new file in chunks, fsyncing each or only
// the last, and returns how long it took.
func writeChunks(b *testing.B, path string, content []byte, chunk int, syncEach bool) time.Duration {
	os.Remove(path)
	start := time.Now()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	for off := 0; off < len(content); off += chunk {
		f.Write(content[off : off+chunk])
		if syncEach || off+chunk >= len(content) {
			f.Sync()
		}
	}
	f.Close()
	return time.Since(start)
}
