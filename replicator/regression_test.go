package replicator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"github.com/hashicorp/raft"
)

// failNth fails the nth PATCH request (1-based) once.
type failNth struct {
	mu sync.Mutex
	n  int
	i  int
}

func (f *failNth) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch {
		f.mu.Lock()
		f.i++
		fail := f.i == f.n
		f.mu.Unlock()
		if fail {
			return nil, errors.New("transient network error")
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A large file of more than objectAttempts chunks: one transient error
// after the 6th chunk should be resumed, not fail the object.
func TestUploadResumesAfterAnErrorPastManyChunks(t *testing.T) {
	ctx := context.Background()
	src, dst := twoStores(t)
	content := make([]byte, 8<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(r.Uint32())
	}
	repo, _ := src.Repository(ctx, "proj", "r")
	n, err := repo.Write(ctx, "/big.bin", bytes.NewReader(content), store.WriteOptions{Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	srv := replicaServer(t, dst, nil)
	e := targetOnlyExecutor(t, src, srv, 1<<20, &failNth{n: 7})
	x := &runExec{e: e, log: e.log, fail: func(error) {}, run: fsm.Run{ID: "r1", Spec: fsm.ReplicaSpec{
		SourceCluster: "shanghai", LocalProjectID: "proj", Setting: fsm.ReplicaSetting{ConflictStrategy: fsm.ConflictSkip, ErrorStrategy: fsm.ErrorContinue},
	}}}
	tg := newTargetExec(x, "beijing")
	tg.remote.retry = retryPolicy{attempts: 2, first: 1, max: 1}
	o := object{Path: "/big.bin", Size: n.Size, SHA256: n.SHA256}
	if err := passTo(tg, repo).upload(ctx, planned{o: o}); err != nil {
		t.Fatal(err)
	}
	x.mu.Lock()
	recs := x.records
	x.mu.Unlock()
	if tg.objectsDone.Load() != 1 || tg.objectsFailed.Load() != 0 {
		t.Fatalf("done %d failed %d; records %+v", tg.objectsDone.Load(), tg.objectsFailed.Load(), recs)
	}
}

// planBlocks answers plan calls only when the request is canceled.
func TestCancelDuringPlanDoesNotFailTheTarget(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	src.CreateProject(ctx, store.Project{Name: "proj"})
	src.CreateRepo(ctx, store.Repo{Project: "proj", Name: "r", Type: store.TypeGeneric})
	repo, _ := src.Repository(ctx, "proj", "r")
	for _, p := range []string{"/a", "/b", "/c"} {
		repo.Write(ctx, p, strings.NewReader(p), store.WriteOptions{Size: -1})
	}
	inPlan := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case inPlan <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}))
	defer srv.Close()
	e := targetOnlyExecutor(t, src, srv, 1<<20, nil)
	spec := repositorySpec(fsm.ConflictSkip)
	runCtx, cancel := context.WithCancelCause(ctx)
	x := &runExec{e: e, log: e.log, fail: cancel, run: fsm.Run{ID: "r1", Spec: spec}}
	tg := newTargetExec(x, "beijing")
	sel, err := firstSelection(ctx, src, spec)
	if err != nil {
		t.Fatal(err)
	}
	tg.total([]selection{sel})
	go func() { <-inPlan; cancel(errCanceled) }()
	tg.execute(runCtx, []selection{sel})
	p := tg.snapshot(true)
	t.Logf("after a user cancel: %+v", p)
	if p.State != fsm.RunCanceled {
		t.Fatalf("target state %s (error %q, failed %d), want CANCELED", p.State, p.Error, p.ObjectsFailed)
	}
}

// harness: an FSM and a Propose that applies directly.
type fsmHarness struct {
	mu    sync.Mutex
	f     *fsm.FSM
	index uint64
}

func (h *fsmHarness) apply(t testing.TB, cmd fsm.Command) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	cmd.Time = time.Now().UTC()
	b, err := cmd.Encode()
	if err != nil {
		return err
	}
	h.index++
	res := h.f.Apply(&raft.Log{Index: h.index, Type: raft.LogCommand, Data: b}).(fsm.Result)
	return res.Err
}

func (h *fsmHarness) must(t testing.TB, typ fsm.CommandType, payload any) {
	t.Helper()
	cmd, err := fsm.NewCommand(typ, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.apply(t, cmd); err != nil {
		t.Fatal(err)
	}
}

// A run canceled while its executor was down (or while it waited for a
// slot) stays RUNNING forever once the executor is back.
func TestCancelWhileTheExecutorIsAwayEndsTheRun(t *testing.T) {
	h := &fsmHarness{f: fsm.New()}
	for _, id := range []string{"shanghai", "beijing"} {
		h.must(t, fsm.CmdRegisterCluster, fsm.ClusterRecord{ID: id, Name: id})
	}
	spec := repositorySpec(fsm.ConflictSkip)
	h.must(t, fsm.CmdCreateRun, fsm.Run{ID: "run1", Spec: spec})
	h.must(t, fsm.CmdStartRun, fsm.RunRef{ID: "run1", Executor: "shanghai"}) // executed before the restart
	h.must(t, fsm.CmdCancelRun, fsm.RunRef{ID: "run1"})                      // canceled while it was down

	e, err := New(Config{ClusterID: "shanghai", Dir: t.TempDir(), Store: openStore(t), FSM: h.f,
		Propose: func(ctx context.Context, cmd fsm.Command) error { return h.apply(t, cmd) },
		APIAddr: func(string) (string, bool) { return "", false }, Logger: slog.New(slog.DiscardHandler), ProgressInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	defer e.Stop()
	if r := waitTerminal(t, h.f, "run1"); r.State != fsm.RunCanceled {
		t.Fatalf("run is %s with cancelRequested=%v", r.State, r.CancelRequested)
	}
}

// At start-up the FSM may not hold runs newer than the last snapshot yet:
// the first prune deletes their object detail.
func TestStartupKeepsDetailOfRunsTheStateHasNotReplayed(t *testing.T) {
	dir := t.TempDir()
	l, err := openLocalDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	l.add("run-after-snapshot", []ObjectRecord{{Target: "beijing", Path: "/a", Status: StatusSuccess, Time: time.Now()}})
	l.Close()
	e, err := New(Config{ClusterID: "shanghai", Dir: dir, Store: openStore(t), FSM: fsm.New(),
		Propose: func(context.Context, fsm.Command) error { return nil }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	// A prune while the state lacks the run (it has not replayed the log).
	if err := e.objects.prune(e.keepDetail); err != nil {
		t.Fatal(err)
	}
	p, _ := e.Objects("run-after-snapshot", fsm.ObjectFilter{}, store.PageRequest{})
	if p.TotalRecords != 1 {
		t.Fatalf("object detail of a run the FSM had not replayed yet was pruned at start-up (records %d)", p.TotalRecords)
	}
}

// waitTerminal waits, with a deadline, for a run to end in the state.
func waitTerminal(t *testing.T, f *fsm.FSM, id string) fsm.Run {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		changed := f.Changed()
		r, _ := f.Run(id)
		if r.State.Terminal() {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is still %s (cancelRequested=%v)", id, r.State, r.CancelRequested)
		}
		select {
		case <-changed:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// One path that cannot be written on the target makes every other path
// with the same content fail too (they wait to be linked to content that
// never arrives), and a re-run fails them again.
func TestFailedFirstCopyDoesNotFailOtherPathsWithTheSameContent(t *testing.T) {
	ctx := context.Background()
	src, dst := twoStores(t)
	srepo, _ := src.Repository(ctx, "proj", "r")
	drepo, _ := dst.Repository(ctx, "proj", "r")
	srepo.Write(ctx, "/a/blocked/x", strings.NewReader("same"), store.WriteOptions{Size: -1})
	srepo.Write(ctx, "/b/fine/y", strings.NewReader("same"), store.WriteOptions{Size: -1})
	drepo.Write(ctx, "/a/blocked", strings.NewReader("a file"), store.WriteOptions{Size: -1})

	srv := replicaServer(t, dst, nil)
	e := targetOnlyExecutor(t, src, srv, 1<<20, nil)
	spec := repositorySpec(fsm.ConflictSkip)
	x := &runExec{e: e, log: e.log, fail: func(error) {}, run: fsm.Run{ID: "r1", Spec: spec}}
	tg := newTargetExec(x, "beijing")
	sel, _ := firstSelection(ctx, src, spec)
	tg.total([]selection{sel})
	tg.execute(ctx, []selection{sel})
	for _, r := range x.records {
		t.Logf("%s %s %s %s", r.Path, r.Status, r.Action, r.Error)
	}
	if _, err := drepo.Stat(ctx, "/b/fine/y"); err != nil {
		t.Fatalf("/b/fine/y was never sent: %v", err)
	}
}

func TestEnumerationFailureFailsTheTargets(t *testing.T) {
	h := &fsmHarness{f: fsm.New()}
	for _, id := range []string{"shanghai", "beijing"} {
		h.must(t, fsm.CmdRegisterCluster, fsm.ClusterRecord{ID: id, Name: id})
	}
	spec := fsm.ReplicaSpec{SourceCluster: "shanghai", LocalProjectID: "proj", ReplicaObjectType: fsm.ObjectRepository,
		Objects:          []fsm.ReplicaObject{{LocalRepoName: "missing", RemoteProjectID: "proj", RemoteRepoName: "r"}},
		RemoteClusterIDs: []string{"beijing"},
		Setting:          fsm.ReplicaSetting{ConflictStrategy: fsm.ConflictSkip, ErrorStrategy: fsm.ErrorContinue}}
	h.must(t, fsm.CmdCreateRun, fsm.Run{ID: "run1", Spec: spec})
	e, err := New(Config{ClusterID: "shanghai", Dir: t.TempDir(), Store: openStore(t), FSM: h.f,
		Propose: func(ctx context.Context, cmd fsm.Command) error { return h.apply(t, cmd) },
		APIAddr: func(string) (string, bool) { return "", false }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	defer e.Stop()
	r := waitTerminal(t, h.f, "run1")
	if r.State != fsm.RunFailed || r.Targets[0].State != fsm.RunFailed {
		t.Fatalf("run %s %q targets %+v: want the run and its target FAILED", r.State, r.Error, r.Targets)
	}
}

func TestFastFailConflictStillCountsWhatTheTargetLinked(t *testing.T) {
	ctx := context.Background()
	src, dst := twoStores(t)
	srepo, _ := src.Repository(ctx, "proj", "r")
	drepo, _ := dst.Repository(ctx, "proj", "r")
	srepo.Write(ctx, "/a", strings.NewReader("A from source"), store.WriteOptions{Size: -1})
	srepo.Write(ctx, "/b", strings.NewReader("shared"), store.WriteOptions{Size: -1})
	drepo.Write(ctx, "/a", strings.NewReader("A on target"), store.WriteOptions{Size: -1})
	drepo.Write(ctx, "/other", strings.NewReader("shared"), store.WriteOptions{Size: -1})
	srv := replicaServer(t, dst, nil)
	e := targetOnlyExecutor(t, src, srv, 1<<20, nil)
	spec := repositorySpec(fsm.ConflictFastFail)
	runCtx, cancel := context.WithCancelCause(ctx)
	x := &runExec{e: e, log: e.log, fail: cancel, run: fsm.Run{ID: "r1", Spec: spec}}
	tg := newTargetExec(x, "beijing")
	sel, _ := firstSelection(ctx, src, spec)
	tg.total([]selection{sel})
	tg.execute(runCtx, []selection{sel})
	p := tg.snapshot(true)
	_, err := drepo.Stat(ctx, "/b")
	t.Logf("target: %+v; /b on target: %v", p, err)
	if err == nil && p.ObjectsDone == 0 {
		t.Fatal("/b was linked on the target but the run reports it failed")
	}
}

// An executor that comes back (a restart) finds its RUNNING run in the state
// and finishes it: it plans again and sends what the target still lacks.
func TestARestartedExecutorResumesItsRunningRun(t *testing.T) {
	ctx := context.Background()
	h := &fsmHarness{f: fsm.New()}
	for _, id := range []string{"shanghai", "beijing"} {
		h.must(t, fsm.CmdRegisterCluster, fsm.ClusterRecord{ID: id, Name: id})
	}
	src, dst := twoStores(t)
	srepo, _ := src.Repository(ctx, "proj", "r")
	for i := range 5 {
		srepo.Write(ctx, fmt.Sprintf("/f%d", i), strings.NewReader(fmt.Sprint("c", i)), store.WriteOptions{Size: -1})
	}
	// The target already got some of it before the executor went away.
	drepo, _ := dst.Repository(ctx, "proj", "r")
	drepo.Write(ctx, "/f0", strings.NewReader("c0"), store.WriteOptions{Size: -1})
	srv := replicaServer(t, dst, nil)
	spec := repositorySpec(fsm.ConflictSkip)
	h.must(t, fsm.CmdCreateRun, fsm.Run{ID: "run1", Spec: spec})
	h.must(t, fsm.CmdStartRun, fsm.RunRef{ID: "run1", Executor: "shanghai"}) // by the executor before it stopped

	e, err := New(Config{ClusterID: "shanghai", Dir: t.TempDir(), Store: src, FSM: h.f, Token: testToken,
		Propose: func(ctx context.Context, cmd fsm.Command) error { return h.apply(t, cmd) },
		APIAddr: func(string) (string, bool) { return strings.TrimPrefix(srv.URL, "http://"), true },
		Logger:  slog.New(slog.DiscardHandler), ProgressInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	defer e.Stop()
	r := waitTerminal(t, h.f, "run1")
	if tg := r.Targets[0]; r.State != fsm.RunSuccess || tg.ObjectsDone != 4 || tg.ObjectsSkipped != 1 {
		t.Fatalf("resumed run %s %q %+v", r.State, r.Error, r.Targets)
	}
	for i := range 5 {
		if _, err := drepo.Stat(ctx, fmt.Sprintf("/f%d", i)); err != nil {
			t.Fatal(err)
		}
	}
}
