package store

import (
	"bytes"
	"testing"
	"time"
)

// queuedCommits waits until n commits wait for a group (while the test
// pretends one is being written) and returns them.
func queuedCommits(t *testing.T, s *Local, n int) []*commitReq {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.groupMu.Lock()
		q := s.queued
		s.groupMu.Unlock()
		if len(q) == n {
			return q
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d commits queued, want %d", len(q), n)
		}
		time.Sleep(time.Millisecond) // polling interval
	}
}

// Commits that queue while another is written are committed together; when
// one of them releases a blob that a later one refers to again, the blob
// stays, and each call gets its own outcome: in one transaction, and when
// a request's error (a delete of a missing path) makes the group commit
// each request alone.
func TestGroupCommitKeepsABlobALaterRequestTakes(t *testing.T) {
	for _, failing := range []bool{false, true} {
		t.Run(map[bool]string{false: "one transaction", true: "each alone"}[failing], func(t *testing.T) {
			groupReleaseAndRetake(t, failing)
		})
	}
}

func groupReleaseAndRetake(t *testing.T, failing bool) {
	s, r, _ := newRepo(t, TypeGeneric)
	content := big('g')
	write(t, r, "/old", content)

	s.groupMu.Lock()
	s.leading = true // as if a group were being written
	s.groupMu.Unlock()
	errs := make(chan error, 3)
	go func() { errs <- r.Delete(ctx, "/old", "x") }()
	queuedCommits(t, s, 1)
	go func() {
		_, err := r.Write(ctx, "/new", bytes.NewReader(content), WriteOptions{Size: int64(len(content)), SHA256: sum(content)})
		errs <- err
	}()
	queuedCommits(t, s, 2)
	n, want := 2, 0
	if failing {
		go func() { errs <- r.Delete(ctx, "/missing", "x") }()
		n, want = 3, 1
	}
	group := queuedCommits(t, s, n)
	s.groupMu.Lock()
	close(group[0].lead) // the first queued leads the next group: all of them
	s.groupMu.Unlock()

	var notFound int
	for range n {
		if err := <-errs; err != nil {
			notFound++
		}
	}
	if notFound != want {
		t.Fatalf("%d calls failed, want the delete of a missing path only", notFound)
	}
	if got := readAll(t, r, "/new"); !bytes.Equal(got, content) {
		t.Fatalf("/new reads %d bytes, want its %d", len(got), len(content))
	}
	if _, err := r.Stat(ctx, "/old"); err == nil {
		t.Fatal("/old still there")
	}
	if n := blobFiles(t, s.dir); n != 1 {
		t.Fatalf("%d blob files, want the one /new refers to", n)
	}
}
