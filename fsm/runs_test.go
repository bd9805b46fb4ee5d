package fsm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func spec() ReplicaSpec {
	return ReplicaSpec{
		SourceCluster: "shanghai", LocalProjectID: "bkrepo", ReplicaObjectType: ObjectRepository,
		Objects:          []ReplicaObject{{LocalRepoName: "maven-local", RemoteProjectID: "bkrepo", RemoteRepoName: "maven-local", RepoType: "MAVEN"}},
		RemoteClusterIDs: []string{"beijing", "guangzhou"},
		Setting:          ReplicaSetting{IncludeMetadata: true, ConflictStrategy: ConflictSkip, ErrorStrategy: ErrorContinue},
	}
}

func TestRunLifecycle(t *testing.T) {
	f, a := populated(t)
	res := a.apply(t, command(t, CmdCreateRun, t0, Run{ID: "r1", Spec: spec(), CreatedBy: "alice"}))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	r, _ := f.Run("r1")
	if r.State != RunWaiting || r.Executor != "shanghai" || r.Trigger != TriggerManual || len(r.Targets) != 2 || !r.CreatedAt.Equal(t0) || r.Index != res.Index {
		t.Fatalf("created run %+v", r)
	}
	// Only the executor may report on its run.
	if res := a.apply(t, command(t, CmdStartRun, t0, RunRef{ID: "r1", Executor: "beijing"})); KindOf(res.Err) != KindConflict {
		t.Fatalf("start by another agent: %v", res.Err)
	}
	if res := a.apply(t, command(t, CmdRunProgress, t0, RunProgress{ID: "r1", Executor: "shanghai"})); KindOf(res.Err) != KindConflict {
		t.Fatalf("progress of a waiting run: %v", res.Err)
	}
	a.apply(t, command(t, CmdStartRun, t0.Add(time.Second), RunRef{ID: "r1", Executor: "shanghai"}))
	prog := TargetProgress{ClusterID: "beijing", State: RunRunning, ObjectsTotal: 10, ObjectsDone: 4, BytesSent: 400}
	a.apply(t, command(t, CmdRunProgress, t0.Add(2*time.Second), RunProgress{ID: "r1", Executor: "shanghai", Targets: []TargetProgress{prog}}))
	r, _ = f.Run("r1")
	if r.State != RunRunning || r.Targets[0] != prog || r.Targets[1].State != RunRunning {
		t.Fatalf("running run %+v", r)
	}
	if res := a.apply(t, command(t, CmdFinishRun, t0, RunProgress{ID: "r1", Executor: "shanghai", State: RunRunning})); KindOf(res.Err) != KindInvalid {
		t.Fatalf("finish with a non-terminal state: %v", res.Err)
	}
	a.apply(t, command(t, CmdFinishRun, t0.Add(3*time.Second), RunProgress{ID: "r1", Executor: "shanghai", State: RunSuccess}))
	r, _ = f.Run("r1")
	if r.State != RunSuccess || !r.FinishedAt.Equal(t0.Add(3*time.Second)) || r.Targets[0].State != RunSuccess || r.Targets[0].ObjectsDone != 4 {
		t.Fatalf("finished run %+v", r)
	}
	for _, c := range []Command{
		command(t, CmdCancelRun, t0, RunRef{ID: "r1"}),
		command(t, CmdRunProgress, t0, RunProgress{ID: "r1", Executor: "shanghai"}),
		command(t, CmdFinishRun, t0, RunProgress{ID: "r1", State: RunFailed}),
	} {
		if res := a.apply(t, c); KindOf(res.Err) != KindConflict {
			t.Fatalf("%s on an ended run: %v", c.Type, res.Err)
		}
	}
}

func TestCancelEndsAWaitingRunAndAsksARunningOneToStop(t *testing.T) {
	f, a := populated(t)
	a.apply(t, command(t, CmdCreateRun, t0, Run{ID: "waiting", Spec: spec()}))
	a.apply(t, command(t, CmdCreateRun, t0, Run{ID: "running", Spec: spec()}))
	a.apply(t, command(t, CmdStartRun, t0, RunRef{ID: "running", Executor: "shanghai"}))
	a.apply(t, command(t, CmdCancelRun, t0, RunRef{ID: "waiting"}))
	a.apply(t, command(t, CmdCancelRun, t0, RunRef{ID: "running"}))
	if r, _ := f.Run("waiting"); r.State != RunCanceled || !r.CancelRequested {
		t.Fatalf("waiting run after cancel: %+v", r)
	}
	if r, _ := f.Run("running"); r.State != RunRunning || !r.CancelRequested {
		t.Fatalf("running run after cancel: %+v", r)
	}
}

func TestLeaderFailsARunOfALostExecutor(t *testing.T) {
	f, a := populated(t)
	a.apply(t, command(t, CmdCreateRun, t0, Run{ID: "r", Spec: spec()}))
	a.apply(t, command(t, CmdStartRun, t0, RunRef{ID: "r", Executor: "shanghai"}))
	// The leader's payload names no executor.
	if res := a.apply(t, command(t, CmdFinishRun, t0, RunProgress{ID: "r", State: RunFailed, Error: "shanghai failed"})); res.Err != nil {
		t.Fatal(res.Err)
	}
	if r, _ := f.Run("r"); r.State != RunFailed || r.Error != "shanghai failed" {
		t.Fatalf("%+v", r)
	}
}

func TestRunSpecValidation(t *testing.T) {
	_, a := populated(t)
	for name, c := range map[string]struct {
		mutate func(*ReplicaSpec)
		want   string
	}{
		"no source":        {func(s *ReplicaSpec) { s.SourceCluster = "" }, "sourceClusterId is required"},
		"unknown source":   {func(s *ReplicaSpec) { s.SourceCluster = "mars" }, `"mars" is not a registered cluster`},
		"no project":       {func(s *ReplicaSpec) { s.LocalProjectID = "" }, "localProjectId is required"},
		"no objects":       {func(s *ReplicaSpec) { s.Objects = nil }, "replicaTaskObjects"},
		"no targets":       {func(s *ReplicaSpec) { s.RemoteClusterIDs = nil }, "remoteClusterIds"},
		"self target":      {func(s *ReplicaSpec) { s.RemoteClusterIDs = []string{"shanghai"} }, "the source cluster itself"},
		"unknown target":   {func(s *ReplicaSpec) { s.RemoteClusterIDs = []string{"651095dfe0524ce9b3ab53d13532361c"} }, "not a registered cluster"},
		"twice":            {func(s *ReplicaSpec) { s.RemoteClusterIDs = []string{"beijing", "beijing"} }, "named twice"},
		"bad type":         {func(s *ReplicaSpec) { s.ReplicaObjectType = "FILE" }, "replicaObjectType"},
		"bad conflict":     {func(s *ReplicaSpec) { s.Setting.ConflictStrategy = "MERGE" }, "conflictStrategy"},
		"bad error":        {func(s *ReplicaSpec) { s.Setting.ErrorStrategy = "" }, "errorStrategy"},
		"negative rate":    {func(s *ReplicaSpec) { s.Setting.RateLimit = -1 }, "rateLimit"},
		"package, no pkgs": {func(s *ReplicaSpec) { s.ReplicaObjectType = ObjectPackage }, "packageConstraints is required"},
		"path, no paths":   {func(s *ReplicaSpec) { s.ReplicaObjectType = ObjectPath }, "pathConstraints is required"},
		"package, relative path": {func(s *ReplicaSpec) {
			s.ReplicaObjectType = ObjectPackage
			s.Objects[0].PathConstraints = []PathConstraint{{"a"}}
		}, "must start with /"},
		"relative path": {func(s *ReplicaSpec) {
			s.ReplicaObjectType = ObjectPath
			s.Objects[0].PathConstraints = []PathConstraint{{"a/b"}}
		}, "must start with /"},
		"no local repo name": {func(s *ReplicaSpec) { s.Objects[0].LocalRepoName = "" }, "localRepoName is required"},
	} {
		sp := spec()
		sp.Objects = append([]ReplicaObject(nil), sp.Objects...)
		c.mutate(&sp)
		res := a.apply(t, command(t, CmdCreateRun, t0, Run{ID: name, Spec: sp}))
		if KindOf(res.Err) != KindInvalid || !strings.Contains(res.Err.Error(), c.want) {
			t.Errorf("%s: got %v, want invalid %q", name, res.Err, c.want)
		}
	}
}

func TestEndedRunsAreBounded(t *testing.T) {
	f, a := populated(t)
	for i := range maxFinishedRuns + 5 {
		id := fmt.Sprintf("r%05d", i)
		at := t0.Add(time.Duration(i) * time.Second)
		a.apply(t, command(t, CmdCreateRun, at, Run{ID: id, Spec: spec()}))
		a.apply(t, command(t, CmdCancelRun, at, RunRef{ID: id}))
	}
	a.apply(t, command(t, CmdCreateRun, t0, Run{ID: "live", Spec: spec()}))
	runs := f.Runs(RunFilter{})
	if len(runs) != maxFinishedRuns+1 {
		t.Fatalf("%d runs kept", len(runs))
	}
	if _, ok := f.Run("r00000"); ok {
		t.Fatal("the oldest ended run was kept")
	}
	if _, ok := f.Run("live"); !ok {
		t.Fatal("a waiting run was pruned")
	}
	if got := f.Runs(RunFilter{State: RunWaiting}); len(got) != 1 || got[0].ID != "live" {
		t.Fatalf("filter by state: %d runs", len(got))
	}
}

func TestRunsSurviveSnapshotRestore(t *testing.T) {
	f, a := populated(t)
	a.apply(t, command(t, CmdCreateRun, t0, Run{ID: "r", Spec: spec()}))
	a.apply(t, command(t, CmdStartRun, t0, RunRef{ID: "r", Executor: "shanghai"}))
	snap := persist(t, f)
	g := New()
	if err := g.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(persist(t, g), snap) {
		t.Fatal("restored runs differ")
	}
	if r, ok := g.Run("r"); !ok || r.State != RunRunning {
		t.Fatalf("restored run %+v", r)
	}
}

func TestPathConstraintTakesAStringOrAnObject(t *testing.T) {
	var got []PathConstraint
	if err := json.Unmarshal([]byte(`["/a", {"path": "/b"}]`), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Path != "/a" || got[1].Path != "/b" {
		t.Fatalf("%+v", got)
	}
}

func FuzzRunSpec(f *testing.F) {
	b, _ := json.Marshal(spec())
	f.Add(b)
	f.Add([]byte(`{"replicaObjectType":"PATH","replicaTaskObjects":[{"pathConstraints":["/a",{"path":"b"}]}]}`))
	clusters := map[string]ClusterRecord{"shanghai": {}, "beijing": {}}
	f.Fuzz(func(t *testing.T, b []byte) {
		var sp ReplicaSpec
		if json.Unmarshal(b, &sp) != nil {
			return
		}
		if err := ValidateSpec(sp, clusters); err != nil && KindOf(err) != KindInvalid {
			t.Fatalf("a spec refusal must be invalid, got %v", err)
		}
	})
}

// A PACKAGE run may name files beside its packages, or only files (one
// object of a Pulp consumer's install whose repository holds only its file
// units); a PACKAGE task's pathConstraints are not its runs' (bk-repo
// ignores them), so such a task still needs packages.
func TestPackageObjectsMayNameFiles(t *testing.T) {
	_, a := populated(t)
	sp := spec()
	sp.ReplicaObjectType = ObjectPackage
	sp.Objects = []ReplicaObject{
		{LocalRepoName: "a", RemoteProjectID: "p", RemoteRepoName: "a", PackageConstraints: []PackageConstraint{{PackageKey: "rpm://x"}}, PathConstraints: []PathConstraint{{"/f"}}},
		{LocalRepoName: "b", RemoteProjectID: "p", RemoteRepoName: "b", PathConstraints: []PathConstraint{{"/g"}}},
	}
	if res := a.apply(t, command(t, CmdCreateRun, t0, Run{ID: "mixed", Spec: sp})); res.Err != nil {
		t.Fatal(res.Err)
	}
	task := Task{SourceCluster: sp.SourceCluster, ProjectID: "p", ReplicaObjectType: ObjectPackage, Objects: sp.Objects, RemoteClusterIDs: sp.RemoteClusterIDs}
	task.Setting.ReplicaSetting = sp.Setting
	got := task.Spec().Objects
	if got[0].PathConstraints != nil || got[1].PathConstraints != nil || task.Objects[0].PathConstraints == nil {
		t.Fatalf("task spec objects %+v (task's %+v)", got, task.Objects)
	}
	if err := ValidateSpec(task.Spec(), map[string]ClusterRecord{"shanghai": {}, "beijing": {}, "guangzhou": {}}); err == nil || !strings.Contains(err.Error(), "packageConstraints is required") {
		t.Fatalf("task of files only: %v", err)
	}
}
