package replicator

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// A repository listed in parts replicates whole: every file arrives, a
// content shared by files of different parts is sent once and linked for
// the others, the counters add up to the count made before, and the mark
// then lets the next run skip the repository without listing it.
func TestARepositoryListedInPartsReplicatesWhole(t *testing.T) {
	ctx := context.Background()
	src, dst, e, spec := quickSetup(t, nil)
	e.cfg.ListPart = 4
	srepo, _ := src.Repository(ctx, "proj", "r")
	const files = 23
	for i := range files {
		content := fmt.Sprint("content ", i)
		if i%10 == 7 { // /f07, /f17: one content, in two parts
			content = "shared"
		}
		if _, err := srepo.Write(ctx, fmt.Sprintf("/d%d/f%02d", i%3, i), strings.NewReader(content), store.WriteOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	sels, err := selectAll(ctx, src, spec, nil, e.cfg.ListPart)
	if err != nil || !sels[0].more || len(sels[0].objects) != 4 {
		t.Fatalf("first part %d objects, more %v (%v): want 4 and more", len(sels[0].objects), sels[0].more, err)
	}

	tg := runTarget(t, e, spec, "r1")
	snap := tg.snapshot(true)
	if snap.ObjectsTotal != files || tg.objectsDone.Load() != files || tg.objectsFailed.Load() != 0 {
		t.Fatalf("total %d, done %d, failed %d: want %d done of %d", snap.ObjectsTotal, tg.objectsDone.Load(), tg.objectsFailed.Load(), files, files)
	}
	drepo, _ := dst.Repository(ctx, "proj", "r")
	for i := range files {
		want := fmt.Sprint("content ", i)
		if i%10 == 7 {
			want = "shared"
		}
		if got := readAllOf(t, drepo, fmt.Sprintf("/d%d/f%02d", i%3, i)); got != want {
			t.Errorf("/d%d/f%02d holds %q, want %q", i%3, i, got, want)
		}
	}
	if sent := tg.bytesSent.Load(); sent >= totalBytes(t, srepo) {
		t.Errorf("%d content bytes sent for %d stored: the shared content went twice", sent, totalBytes(t, srepo))
	}

	again := runTarget(t, e, spec, "r2")
	if again.objectsSkipped.Load() != files || again.bytesSent.Load() != 0 {
		t.Errorf("the unchanged re-run skipped %d of %d and sent %d bytes", again.objectsSkipped.Load(), files, again.bytesSent.Load())
	}
}

func readAllOf(t *testing.T, r store.Repository, path string) string {
	t.Helper()
	rd, err := r.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func totalBytes(t *testing.T, r store.Repository) int64 {
	t.Helper()
	var n int64
	if err := r.Walk(context.Background(), "/", func(nd store.Node) error { n += nd.Size; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A file written after the count, in a part not yet listed, is replicated
// too, and the total grows to it: done still adds up to the total.
func TestAPartListedAfterAWriteCountsIt(t *testing.T) {
	ctx := context.Background()
	src, dst, e, spec := quickSetup(t, nil)
	e.cfg.ListPart = 3
	srepo, _ := src.Repository(ctx, "proj", "r")
	for i := range 7 {
		srepo.Write(ctx, fmt.Sprintf("/f%d", i), strings.NewReader(fmt.Sprint("c", i)), store.WriteOptions{Size: -1})
	}
	x := &runExec{e: e, log: e.log, fail: func(error) {}, run: fsm.Run{ID: "r1", Spec: spec}}
	tg := newTargetExec(x, "beijing")
	x.targets = []*targetExec{tg}
	sels, err := selectAll(ctx, src, spec, x.targets, e.cfg.ListPart)
	if err != nil {
		t.Fatal(err)
	}
	tg.total(sels)
	srepo.Write(ctx, "/f9", strings.NewReader("late"), store.WriteOptions{Size: -1})
	tg.execute(ctx, sels)
	if snap := tg.snapshot(true); snap.ObjectsTotal != 8 || tg.objectsDone.Load() != 8 {
		t.Fatalf("total %d, done %d: want 8 and 8", snap.ObjectsTotal, tg.objectsDone.Load())
	}
	drepo, _ := dst.Repository(ctx, "proj", "r")
	if got := readAllOf(t, drepo, "/f9"); got != "late" {
		t.Fatalf("/f9 holds %q", got)
	}
}
