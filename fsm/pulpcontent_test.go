package fsm

import (
	"encoding/json"
	"testing"
	"time"
)

func contentFixture(t *testing.T) (*FSM, *applier) {
	f, a := populated(t)
	mustApply(t, a, command(t, CmdPulpCreateRepo, t0, PulpRepo{Cluster: "shanghai", ID: "isos", Distributors: []PulpDistributor{{ID: "iso", TypeID: PulpISODistributor}}}))
	mustApply(t, a, command(t, CmdPulpCreateConsumer, t0, PulpConsumer{Cluster: "shanghai", ID: "web", Notes: map[string]json.RawMessage{PulpRegionNote: raw(`"beijing"`)}}))
	return f, a
}

var isoUnit = PulpUnit{TypeID: "iso", UnitKey: map[string]json.RawMessage{"name": raw(`"1.iso"`)}}

func installSpec() ReplicaSpec {
	return ReplicaSpec{SourceCluster: "shanghai", LocalProjectID: "pulp", ReplicaObjectType: ObjectPath, RemoteClusterIDs: []string{"beijing"},
		Setting: ReplicaSetting{ConflictStrategy: ConflictOverwrite, ErrorStrategy: ErrorContinue},
		Objects: []ReplicaObject{{LocalRepoName: "isos", RemoteProjectID: "pulp", RemoteRepoName: "isos", PathConstraints: []PathConstraint{{Path: "/1.iso"}}}}}
}

// A content action waits in the state until its region's agent starts it:
// the copy becomes a run of the task's id, and a second start is refused.
func TestPulpContentTaskBecomesItsRun(t *testing.T) {
	f, a := contentFixture(t)
	q := PulpContentQueue{TaskID: "c1", Cluster: "shanghai", By: "ops", Call: PulpContentCall{Consumer: "web", Action: PulpInstall, Units: []PulpUnit{isoUnit}}}
	mustApply(t, a, command(t, CmdPulpQueueContent, t0, q))
	if w := f.WaitingPulpContent("shanghai"); len(w) != 1 || w[0].ID != "c1" || w[0].State != PulpTaskWaiting || w[0].Content.Units[0].Key("name") != "1.iso" {
		t.Fatalf("waiting %+v", w)
	}
	if len(f.WaitingPulpContent("beijing")) != 0 {
		t.Fatal("another region's agent would carry it out")
	}
	for _, bad := range []PulpContentQueue{
		{TaskID: "c2", Cluster: "shanghai", Call: PulpContentCall{Consumer: "nope", Action: PulpInstall, Units: []PulpUnit{isoUnit}}},
		{TaskID: "c2", Cluster: "shanghai", Call: PulpContentCall{Consumer: "web", Action: "explode", Units: []PulpUnit{isoUnit}}},
		{TaskID: "c2", Cluster: "shanghai", Call: PulpContentCall{Consumer: "web", Action: PulpInstall}},
		{TaskID: "c1", Cluster: "shanghai", Call: PulpContentCall{Consumer: "web", Action: PulpInstall, Units: []PulpUnit{isoUnit}}},
	} {
		if res := a.apply(t, command(t, CmdPulpQueueContent, t0, bad)); res.Err == nil {
			t.Errorf("%+v queued", bad)
		}
	}
	start := PulpContentStart{TaskID: "c1", Run: &Run{Spec: installSpec()}}
	mustApply(t, a, command(t, CmdPulpStartContent, t0.Add(time.Second), start))
	r, ok := f.Run("c1")
	if _, still := f.PulpTask("c1"); !ok || still || r.State != RunWaiting || r.Executor != "shanghai" || r.CreatedBy != "ops" ||
		r.PulpContent == nil || r.PulpContent.Consumer != "web" || r.PulpContent.Action != PulpInstall || !r.CreatedAt.Equal(t0) {
		t.Fatalf("run %+v (task still there: %v)", r, still)
	}
	if res := a.apply(t, command(t, CmdPulpStartContent, t0, start)); KindOf(res.Err) != KindConflict {
		t.Fatalf("started twice: %v", res.Err)
	}

	// A waiting one canceled is not started after.
	q.TaskID = "c3"
	mustApply(t, a, command(t, CmdPulpQueueContent, t0, q))
	mustApply(t, a, command(t, CmdPulpCancelTask, t0, PulpTaskCancel{ID: "c3", Cluster: "shanghai"}))
	if tk, _ := f.PulpTask("c3"); tk.State != PulpTaskCanceled || len(f.WaitingPulpContent("shanghai")) != 0 {
		t.Fatalf("canceled %+v", tk)
	}
	if res := a.apply(t, command(t, CmdPulpStartContent, t0, PulpContentStart{TaskID: "c3"})); KindOf(res.Err) != KindConflict {
		t.Fatalf("a canceled task started: %v", res.Err)
	}
}

// A content schedule's slot queues its call; what the agent made of it
// counts on the schedule, and a failure threshold disables it.
func TestPulpContentScheduleCountsItsCalls(t *testing.T) {
	f, a := contentFixture(t)
	one := 1
	sc := PulpSchedule{ID: "cs", Cluster: "shanghai", Schedule: "PT1H", PulpCall: PulpCall{FirstRun: t0, Enabled: true, FailureThreshold: &one},
		Content: &PulpContentCall{Consumer: "web", Action: PulpUpdate, Units: []PulpUnit{isoUnit}}}
	mustApply(t, a, command(t, CmdPulpPutSchedule, t0, PulpSchedulePut{Schedule: sc}))
	other := sc
	other.Content = &PulpContentCall{Consumer: "web", Action: PulpInstall, Units: []PulpUnit{isoUnit}}
	if res := a.apply(t, command(t, CmdPulpPutSchedule, t0, PulpSchedulePut{Schedule: other})); KindOf(res.Err) != KindNotFound {
		t.Fatalf("a schedule moved to another action: %v", res.Err)
	}
	mustApply(t, a, command(t, CmdPulpFire, t0, PulpFire{ID: "cs", Slot: t0, RunID: "k1"}))
	w := f.WaitingPulpContent("shanghai")
	if len(w) != 1 || w[0].ID != "k1" || w[0].Content.ScheduleID != "cs" || w[0].CreatedBy != "schedule:cs" {
		t.Fatalf("waiting %+v", w)
	}
	if got, _ := f.PulpSchedule("cs"); got.TotalRunCount != 1 || !got.Enabled {
		t.Fatalf("after the fire %+v", got)
	}
	mustApply(t, a, command(t, CmdPulpStartContent, t0, PulpContentStart{TaskID: "k1", Error: "units not found: iso:1.iso"}))
	if tk, _ := f.PulpTask("k1"); tk.State != PulpTaskError || tk.FinishTime.IsZero() {
		t.Fatalf("task %+v", tk)
	}
	if got, _ := f.PulpSchedule("cs"); got.Enabled || got.ConsecutiveFailures != 1 {
		t.Fatalf("after a failure with threshold 1: %+v", got)
	}
	mustApply(t, a, command(t, CmdPulpDeleteConsumer, t0, PulpRepoRef{Cluster: "shanghai", ID: "web"}))
	if _, ok := f.PulpSchedule("cs"); ok {
		t.Fatal("the deleted consumer's schedule stays")
	}
}

// A canceled scheduled sync is neither a success nor a failure of its
// schedule (Pulp calls neither handler for a revoked task).
func TestCanceledSyncDoesNotCountOnItsSchedule(t *testing.T) {
	f, a := populated(t)
	mustApply(t, a, command(t, CmdPulpCreateRepo, t0, PulpRepo{Cluster: "shanghai", ID: "isos",
		Importer: &PulpImporter{TypeID: PulpISOImporter, Config: map[string]json.RawMessage{"feed": raw(`"http://127.0.0.1:1/"`)}}}))
	sc := PulpSchedule{ID: "s1", Cluster: "shanghai", Repo: "isos", Importer: PulpISOImporter, Schedule: "PT1H",
		PulpCall: PulpCall{FirstRun: t0, Enabled: true, ConsecutiveFailures: 1}}
	mustApply(t, a, command(t, CmdPulpPutSchedule, t0, PulpSchedulePut{Schedule: sc}))
	mustApply(t, a, command(t, CmdPulpFire, t0, PulpFire{ID: "s1", Slot: t0, RunID: "r1", Project: "pulp"}))
	mustApply(t, a, command(t, CmdCancelRun, t0, RunRef{ID: "r1"}))
	if got, _ := f.PulpSchedule("s1"); got.ConsecutiveFailures != 1 {
		t.Fatalf("a cancel counted: %+v", got)
	}
	if repo, _ := f.PulpRepo("shanghai", "isos"); !repo.Importer.LastSync.IsZero() {
		t.Fatalf("a sync that never started set last_sync %v", repo.Importer.LastSync)
	}
}
