package replicator

import (
	"context"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A change the target refuses (a per-item error) stays in the outbox: once
// the target is fixed, it is delivered.
func TestAFailedObjectKeepsItsChangeInTheOutbox(t *testing.T) {
	ctx := context.Background()
	src, dst := twoStores(t)
	srepo, _ := src.Repository(ctx, "proj", "r")
	drepo, _ := dst.Repository(ctx, "proj", "r")
	drepo.Write(ctx, "/a/blocked", strings.NewReader("a file on the target"), store.WriteOptions{Size: -1})
	srepo.Write(ctx, "/a/blocked/x", strings.NewReader("x"), store.WriteOptions{Size: -1})

	srv := replicaServer(t, dst, nil)
	e := newTestExecutor(t, src, srv)
	defer e.Stop()
	task := fsm.Task{Key: "task1", ProjectID: "proj", SourceCluster: "shanghai", ReplicaObjectType: fsm.ObjectRepository, ReplicaType: fsm.ReplicaRealTime,
		Objects: []fsm.ReplicaObject{{LocalRepoName: "r", RemoteProjectID: "proj", RemoteRepoName: "r"}}, RemoteClusterIDs: []string{"beijing"}}
	tg := realTimeTarget(e, task)
	if _, _, err := tg.deliver(ctx, task, 0, task.Objects[0]); err == nil {
		t.Fatal("a round with a failed object succeeded")
	}
	if cur, _ := e.objects.cursor(outboxKey("task1", "beijing", "proj", 0, task.Objects[0])); cur != 0 {
		t.Fatalf("the cursor moved to %d past a change the target refused", cur)
	}
	// The target is fixed: the next round delivers the change.
	drepo.Delete(ctx, "/a/blocked", "admin")
	if _, _, err := tg.deliver(ctx, task, 0, task.Objects[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := drepo.Stat(ctx, "/a/blocked/x"); err != nil {
		t.Fatalf("/a/blocked/x never arrived: %v", err)
	}
}

// Two objects of one task watching the same local repository (different
// paths, or different remote repos) each have their own cursor.
func TestTwoObjectsOnOneRepositoryHaveTheirOwnCursors(t *testing.T) {
	ctx := context.Background()
	src, dst := twoStores(t)
	srepo, _ := src.Repository(ctx, "proj", "r")
	drepo, _ := dst.Repository(ctx, "proj", "r")
	srepo.Write(ctx, "/a/1", strings.NewReader("a"), store.WriteOptions{Size: -1})
	srepo.Write(ctx, "/b/1", strings.NewReader("b"), store.WriteOptions{Size: -1})
	srv := replicaServer(t, dst, nil)
	e := newTestExecutor(t, src, srv)
	defer e.Stop()
	task := fsm.Task{Key: "task1", ProjectID: "proj", SourceCluster: "shanghai", ReplicaObjectType: fsm.ObjectPath, ReplicaType: fsm.ReplicaRealTime,
		Objects: []fsm.ReplicaObject{
			{LocalRepoName: "r", RemoteProjectID: "proj", RemoteRepoName: "r", PathConstraints: []fsm.PathConstraint{{Path: "/a"}}},
			{LocalRepoName: "r", RemoteProjectID: "proj", RemoteRepoName: "r", PathConstraints: []fsm.PathConstraint{{Path: "/b"}}},
		}, RemoteClusterIDs: []string{"beijing"}}
	tg := realTimeTarget(e, task)
	for range 3 {
		if _, err := tg.deliverAll(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	_, errA := drepo.Stat(ctx, "/a/1")
	_, errB := drepo.Stat(ctx, "/b/1")
	t.Logf("/a/1: %v, /b/1: %v", errA, errB)
	if errA == nil && errB != nil {
		t.Errorf("/b/1 never delivered: the second object shares the first one's cursor")
	}
}

// A file replaced by a folder: the deletion goes first, so the new file
// below it can be created on the target.
func TestFileReplacedByAFolderArrives(t *testing.T) {
	ctx := context.Background()
	src, dst := twoStores(t)
	srepo, _ := src.Repository(ctx, "proj", "r")
	drepo, _ := dst.Repository(ctx, "proj", "r")
	srv := replicaServer(t, dst, nil)
	e := newTestExecutor(t, src, srv)
	defer e.Stop()
	task := fsm.Task{Key: "task1", ProjectID: "proj", SourceCluster: "shanghai", ReplicaObjectType: fsm.ObjectRepository, ReplicaType: fsm.ReplicaRealTime,
		ReplicateDeletes: true,
		Objects:          []fsm.ReplicaObject{{LocalRepoName: "r", RemoteProjectID: "proj", RemoteRepoName: "r"}}, RemoteClusterIDs: []string{"beijing"}}
	tg := realTimeTarget(e, task)
	srepo.Write(ctx, "/p", strings.NewReader("file"), store.WriteOptions{Size: -1})
	if _, err := tg.deliverAll(ctx, task); err != nil {
		t.Fatal(err)
	}
	if err := srepo.Delete(ctx, "/p", "u"); err != nil {
		t.Fatal(err)
	}
	if _, err := srepo.Write(ctx, "/p/x", strings.NewReader("in a dir now"), store.WriteOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := tg.deliverAll(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	_, errP := drepo.Stat(ctx, "/p")
	_, errX := drepo.Stat(ctx, "/p/x")
	t.Logf("failed=%d; target /p: %v; /p/x: %v", tg.objectsFailed.Load(), errP, errX)
	if errX != nil {
		t.Errorf("/p/x never reaches the target")
	}
}

// CmdCreateRun keeps the client's trigger and taskKey: a REAL_TIME-triggered
// one-shot run (no task) makes the executor restart it in a tight loop, one
// run.start Raft entry per round.
func TestAClientCannotMakeARealTimeRun(t *testing.T) {
	h := &fsmHarness{f: fsm.New()}
	for _, id := range []string{"shanghai", "beijing"} {
		h.must(t, fsm.CmdRegisterCluster, fsm.ClusterRecord{ID: id, Name: id})
	}
	spec := repositorySpec(fsm.ConflictSkip)
	h.must(t, fsm.CmdCreateRun, fsm.Run{ID: "run1", Trigger: fsm.TriggerRealTime, Spec: spec})
	var proposals atomic.Int64
	e, err := New(Config{ClusterID: "shanghai", Dir: t.TempDir(), Store: openStore(t), FSM: h.f,
		Propose: func(ctx context.Context, cmd fsm.Command) error { proposals.Add(1); return h.apply(t, cmd) },
		APIAddr: func(string) (string, bool) { return "", false }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	time.Sleep(time.Second)
	e.Stop()
	r, _ := h.f.Run("run1")
	t.Logf("run %s trigger %s; proposals in 1 s: %d", r.State, r.Trigger, proposals.Load())
	if proposals.Load() > 10 {
		t.Errorf("%d proposals in 1 s for one run (spin)", proposals.Load())
	}
}

// newTestExecutor is shanghai's executor over src, reaching every target at
// srv, with a state of its own and proposals that go nowhere.
func newTestExecutor(t *testing.T, src *store.Local, srv *httptest.Server) *Executor {
	t.Helper()
	e, err := New(Config{ClusterID: "shanghai", Dir: t.TempDir(), Store: src, FSM: fsm.New(), Token: testToken,
		Propose: func(context.Context, fsm.Command) error { return nil },
		APIAddr: func(string) (string, bool) { return strings.TrimPrefix(srv.URL, "http://"), true },
		Logger:  slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// realTimeTarget is task's delivery to beijing from e, as its standing run
// makes it (the task's real-time conflict strategy, errors continuing).
func realTimeTarget(e *Executor, task fsm.Task) *targetExec {
	spec := task.Spec()
	spec.Setting = fsm.ReplicaSetting{ConflictStrategy: task.RealTimeConflict(), ErrorStrategy: fsm.ErrorContinue}
	x := &runExec{e: e, log: e.log, fail: func(error) {}, run: fsm.Run{ID: "run1", Spec: spec}}
	return newTargetExec(x, "beijing")
}

// gaugeValue is the value of the gauge vector's series for target.
func gaugeValue(t *testing.T, g *prometheus.GaugeVec, target string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(g)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "target" && l.GetValue() == target {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no series for target %s", target)
	return 0
}

func TestDepthGauge(t *testing.T) {
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "depth", Help: "test"}, []string{"target"})
	g := depthGauge{gauge: gauge}
	g.set("t1", "b", 5)
	g.set("t2", "b", 0)
	g.set("t1", "c", 2)
	if got := gaugeValue(t, gauge, "b"); got != 5 {
		t.Errorf("b sums %v, want 5", got)
	}
	depths := map[string]OutboxDepth{}
	for _, d := range g.all() {
		depths[d.Task+">"+d.Target] = d
	}
	if len(depths) != 3 || depths["t1>b"].Depth != 5 || !depths["t1>b"].CaughtUp.IsZero() || depths["t2>b"].CaughtUp.IsZero() {
		t.Errorf("depths %+v: a depth of 0 is caught up, another is not", depths)
	}
	g.forget("t1")
	if got := gaugeValue(t, gauge, "b"); got != 0 {
		t.Errorf("b sums %v after t1 is forgotten, want 0", got)
	}
	if all := g.all(); len(all) != 1 || all[0].Task != "t2" {
		t.Errorf("after forget: %+v", all)
	}
}
