package replicator

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/store"
)

// fullDisk answers every upload piece 507, as a target whose store reports
// ENOSPC does, and counts them.
type fullDisk struct{ patches atomic.Int64 }

func (f *fullDisk) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPatch {
		return http.DefaultTransport.RoundTrip(r)
	}
	f.patches.Add(1)
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusInsufficientStorage, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"error":"insufficient storage: no space left on device"}`)), Request: r}, nil
}

// A 507 is not retried: the upload gives the target up at its first piece
// (a 200 MiB set sent 388 MB before the run failed, issue 15 defect 7).
func TestA507GivesTheTargetUpWithoutResending(t *testing.T) {
	ctx := context.Background()
	src, dst := twoStores(t)
	content := bytes.Repeat([]byte("f"), 3<<20)
	repo, _ := src.Repository(ctx, "proj", "r")
	n, err := repo.Write(ctx, "/big.bin", bytes.NewReader(content), store.WriteOptions{Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	full := &fullDisk{}
	e := targetOnlyExecutor(t, src, replicaServer(t, dst, nil), 1<<20, full)
	x := &runExec{e: e, log: e.log, fail: func(error) {}, run: fsm.Run{ID: "r1", Spec: fsm.ReplicaSpec{
		SourceCluster: "shanghai", LocalProjectID: "proj", Setting: fsm.ReplicaSetting{ConflictStrategy: fsm.ConflictSkip, ErrorStrategy: fsm.ErrorContinue},
	}}}
	tg := newTargetExec(x, "beijing")
	tg.remote.retry = retryPolicy{attempts: 4, first: 1, max: 1}
	err = passTo(tg, repo).upload(ctx, planned{o: object{Path: "/big.bin", Size: n.Size, SHA256: n.SHA256}})
	if !storageFull(err) {
		t.Fatalf("upload to a full target: %v, want its 507", err)
	}
	if got := full.patches.Load(); got != 1 {
		t.Fatalf("%d pieces sent to a full target, want 1", got)
	}
}

func TestA507IsNotTemporary(t *testing.T) {
	if (&peer.StatusError{Code: http.StatusInsufficientStorage}).Temporary() {
		t.Fatal("507 is retried as temporary")
	}
	if !(&peer.StatusError{Code: http.StatusServiceUnavailable}).Temporary() {
		t.Fatal("503 is no longer temporary")
	}
}

// A huge page number overflowed the skip to a negative number and answered
// the first records instead of an empty page.
func TestObjectPageWithAHugePageNumberIsEmpty(t *testing.T) {
	l := testObjectLog(t)
	if err := l.add("r1", []ObjectRecord{{Path: "/a"}, {Path: "/b"}}); err != nil {
		t.Fatal(err)
	}
	p, err := l.page("r1", fsm.ObjectFilter{}, store.PageRequest{Number: math.MaxInt, Size: 10})
	if err != nil || len(p.Records) != 0 || p.TotalRecords != 2 {
		t.Fatalf("page MaxInt: %d records of %d, %v; want none of 2", len(p.Records), p.TotalRecords, err)
	}
}
