package replicator

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

func runTarget(t *testing.T, e *Executor, spec fsm.ReplicaSpec, id string) *targetExec {
	ctx := context.Background()
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	x := &runExec{e: e, log: e.log, fail: cancel, run: fsm.Run{ID: id, Spec: spec}}
	tg := newTargetExec(x, "beijing")
	x.targets = []*targetExec{tg}
	sels, err := selectAll(ctx, e.cfg.Store, spec, x.targets, e.cfg.ListPart)
	if err != nil {
		t.Fatal(err)
	}
	tg.total(sels)
	tg.execute(runCtx, sels)
	return tg
}

func quickSetup(t *testing.T, onHead func(int)) (*store.Local, *store.Local, *Executor, fsm.ReplicaSpec) {
	src, dst := twoStores(t)
	srv := replicaServer(t, dst, countHeads(onHead))
	e := targetOnlyExecutor(t, src, srv, 1<<20, nil)
	spec := repositorySpec(fsm.ConflictSkip)
	return src, dst, e, spec
}

// A target repository deleted and re-created (empty) keeps its change-log
// sequence: the quick check then calls it identical.
func TestARecreatedTargetIsNotQuickSkipped(t *testing.T) {
	ctx := context.Background()
	src, dst, e, spec := quickSetup(t, nil)
	srepo, _ := src.Repository(ctx, "proj", "r")
	for i := range 5 {
		srepo.Write(ctx, fmt.Sprintf("/f%d", i), strings.NewReader(fmt.Sprint("c", i)), store.WriteOptions{Size: -1})
	}
	tg := runTarget(t, e, spec, "r1")
	t.Logf("run1: %+v", tg.snapshot(true))
	if err := dst.DeleteRepo(ctx, "proj", "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.CreateRepo(ctx, store.Repo{Project: "proj", Name: "r", Type: store.TypeGeneric}); err != nil {
		t.Fatal(err)
	}
	tg = runTarget(t, e, spec, "r2")
	t.Logf("run2: %+v", tg.snapshot(true))
	drepo, _ := dst.Repository(ctx, "proj", "r")
	p, _ := drepo.List(ctx, store.ListOptions{Path: "/", Recursive: true})
	if p.TotalRecords != 5 {
		t.Errorf("after run2 the re-created target holds %d files, want 5 (run2 state %s, skipped %d)", p.TotalRecords, tg.snapshot(true).State, tg.objectsSkipped.Load())
	}
}

// A foreign delete on the target that lands before the post-run head read
// (the run's second head call: the first is taken before planning) must not
// be folded into the mark: the next run plans and restores the file.
func TestAForeignWriteDuringTheRunIsNotFoldedIntoTheMark(t *testing.T) {
	ctx := context.Background()
	var dst *store.Local
	fired := false
	src, d, e, spec := quickSetup(t, func(n int) {
		if n == 2 && !fired {
			fired = true
			r, _ := dst.Repository(ctx, "proj", "r")
			if err := r.Delete(ctx, "/f0", "someone"); err != nil {
				panic(err)
			}
		}
	})
	dst = d
	srepo, _ := src.Repository(ctx, "proj", "r")
	for i := range 5 {
		srepo.Write(ctx, fmt.Sprintf("/f%d", i), strings.NewReader(fmt.Sprint("c", i)), store.WriteOptions{Size: -1})
	}
	runTarget(t, e, spec, "r1")
	tg := runTarget(t, e, spec, "r2")
	drepo, _ := dst.Repository(ctx, "proj", "r")
	if _, err := drepo.Stat(ctx, "/f0"); err != nil {
		t.Errorf("/f0 deleted on the target during run1 is never restored: run2 %+v", tg.snapshot(true))
	}
}

// FAST_FAIL on a conflict in the first plan batch: with plans pipelined, the
// target has already linked objects of later batches.
func TestAFastFailConflictStopsTheTargetActingOnLaterBatches(t *testing.T) {
	ctx := context.Background()
	src, dst, e, spec := quickSetup(t, nil)
	spec.Setting.ConflictStrategy = fsm.ConflictFastFail
	srepo, _ := src.Repository(ctx, "proj", "r")
	dst.CreateRepo(ctx, store.Repo{Project: "proj", Name: "other", Type: store.TypeGeneric})
	orepo, _ := dst.Repository(ctx, "proj", "other")
	drepo, _ := dst.Repository(ctx, "proj", "r")
	const n = 4000
	var files []store.BatchFile
	var ofiles []store.BatchFile
	for i := range n {
		c := fmt.Sprint("content-", i)
		files = append(files, store.BatchFile{Path: fmt.Sprintf("/f%05d", i), Content: []byte(c), Opt: store.WriteOptions{Size: -1}})
		ofiles = append(ofiles, store.BatchFile{Path: fmt.Sprintf("/o%05d", i), Content: []byte(c), Opt: store.WriteOptions{Size: -1}})
	}
	for s := 0; s < n; s += 1000 {
		if _, err := srepo.(store.Bulk).WriteBatch(ctx, files[s:s+1000]); err != nil {
			t.Fatal(err)
		}
		if _, err := orepo.(store.Bulk).WriteBatch(ctx, ofiles[s:s+1000]); err != nil {
			t.Fatal(err)
		}
	}
	drepo.Write(ctx, "/f00000", strings.NewReader("different"), store.WriteOptions{Size: -1})
	tg := runTarget(t, e, spec, "r1")
	p, _ := drepo.List(ctx, store.ListOptions{Path: "/", Recursive: true})
	s := tg.snapshot(true)
	t.Logf("target holds %d files; done=%d skipped=%d failed=%d total=%d state=%s", p.TotalRecords, s.ObjectsDone, s.ObjectsSkipped, s.ObjectsFailed, s.ObjectsTotal, s.State)
	if p.TotalRecords > 1000 {
		t.Errorf("FAST_FAIL at the first batch, yet the target linked %d paths (> one plan batch); %d counted done", p.TotalRecords-1, s.ObjectsDone)
	}
}
