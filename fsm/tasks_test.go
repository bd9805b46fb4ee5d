package fsm

import (
	"strings"
	"testing"
	"time"
)

// task is an enabled IMMEDIATELY task of project bkrepo.
func task(key, name string) Task {
	return Task{
		ID: "id-" + key, Key: key, Name: name, ProjectID: "bkrepo", SourceCluster: "shanghai", ReplicaObjectType: ObjectRepository,
		Objects:     []ReplicaObject{{LocalRepoName: "generic-local", RemoteProjectID: "bkrepo", RemoteRepoName: "generic-local", RepoType: "GENERIC"}},
		ReplicaType: ReplicaScheduled, RemoteClusterIDs: []string{"beijing"}, Enabled: true, RunHistory: DefaultRunHistory,
		Setting: TaskSetting{ReplicaSetting: ReplicaSetting{ConflictStrategy: ConflictSkip, ErrorStrategy: ErrorContinue},
			ExecutionStrategy: ExecImmediately, ExecutionPlan: ExecutionPlan{ExecuteImmediately: true}},
	}
}

func cron(t Task) Task {
	t.Setting.ExecutionStrategy, t.Setting.ExecutionPlan = ExecCron, ExecutionPlan{CronExpression: "0 0 12 * * ?"}
	return t
}

func mustApply(t *testing.T, a *applier, cmd Command) Result {
	t.Helper()
	res := a.apply(t, cmd)
	if res.Err != nil {
		t.Fatalf("%s: %v", cmd.Type, res.Err)
	}
	return res
}

// Names are unique across all projects and have 2 to 256 characters.
func TestTaskNamesAreGlobal(t *testing.T) {
	f, a := populated(t)
	mustApply(t, a, command(t, CmdCreateTask, t0, task("a", "计划")))
	other := task("b", "计划")
	other.ProjectID = "other"
	if res := a.apply(t, command(t, CmdCreateTask, t0, other)); RuleOf(res.Err) != RuleNameTaken {
		t.Fatalf("the same name in another project: %v", res.Err)
	}
	for _, name := range []string{"x", strings.Repeat("计", 257)} {
		if res := a.apply(t, command(t, CmdCreateTask, t0, task("c", name))); KindOf(res.Err) != KindInvalid {
			t.Errorf("name of %d characters: %v", len([]rune(name)), res.Err)
		}
	}
	mustApply(t, a, command(t, CmdCreateTask, t0, task("c", strings.Repeat("计", 256))))
	// An update renames to a taken name only when it asks not to check.
	b := task("b", "bb")
	mustApply(t, a, command(t, CmdCreateTask, t0, b))
	b.Name = "计划"
	if res := a.apply(t, command(t, CmdUpdateTask, t0, UpdateTask{Task: b})); RuleOf(res.Err) != RuleNameTaken {
		t.Fatalf("rename to a taken name: %v", res.Err)
	}
	mustApply(t, a, command(t, CmdUpdateTask, t0, UpdateTask{Task: b, NameUnchecked: true}))
	if got, _ := f.Task("b"); got.Name != "计划" {
		t.Fatalf("renamed %q", got.Name)
	}
}

// An update asked only of a task that never ran is refused once it has run,
// and while its first run is going.
func TestUpdateIfNeverRun(t *testing.T) {
	f, a := populated(t)
	c := cron(task("c", "cron"))
	mustApply(t, a, command(t, CmdCreateTask, t0, c))
	c.Description = "edited"
	mustApply(t, a, command(t, CmdUpdateTask, t0, UpdateTask{Task: c, IfNeverRun: true}))
	mustApply(t, a, command(t, CmdFireTask, t0.Add(time.Hour), FireTask{Key: "c", RunID: "r1", Trigger: TriggerManual}))
	c.Description = "again"
	if res := a.apply(t, command(t, CmdUpdateTask, t0, UpdateTask{Task: c, IfNeverRun: true})); RuleOf(res.Err) != RuleTaskHasRun {
		t.Fatalf("update of a task that ran: %v", res.Err)
	}
	if got, _ := f.Task("c"); got.Description != "edited" {
		t.Fatalf("the refused update changed the task: %q", got.Description)
	}
	// The native API's update has no such rule.
	mustApply(t, a, command(t, CmdUpdateTask, t0, UpdateTask{Task: c}))
}

// A task is executed by hand only when it is enabled, has no run going, is
// not REAL_TIME (which always has one) and, unless it is a cron task, has
// made its scheduled run; a refusal starts no run.
func TestManualExecutionRules(t *testing.T) {
	f, a := populated(t)
	disabled := cron(task("off", "off"))
	disabled.Enabled = false
	realTime := task("rt", "rt")
	realTime.ReplicaType = ReplicaRealTime
	for _, tk := range []Task{disabled, realTime, task("once", "once"), cron(task("cron", "cron"))} {
		mustApply(t, a, command(t, CmdCreateTask, t0, tk))
	}
	fire := func(key, run string) error {
		return a.apply(t, command(t, CmdFireTask, t0.Add(time.Minute), FireTask{Key: key, RunID: run, Trigger: TriggerManual})).Err
	}
	for key, want := range map[string]Rule{"off": RuleTaskDisabled, "rt": RuleTaskBusy, "once": RuleTaskNotStarted} {
		if err := fire(key, "r-"+key); RuleOf(err) != want || KindOf(err) != KindConflict {
			t.Errorf("execute %s: %v, want %s", key, err, want)
		}
		if _, ok := f.Run("r-" + key); ok {
			t.Errorf("a refused execution of %s made a run", key)
		}
	}
	if err := fire("cron", "r1"); err != nil {
		t.Fatalf("a cron task that never ran: %v", err)
	}
	if err := fire("cron", "r2"); RuleOf(err) != RuleTaskBusy {
		t.Fatalf("execute while a run is going: %v", err)
	}
	// Once it has fired, a one-shot task is executed by hand like any other.
	mustApply(t, a, command(t, CmdFireTask, t0.Add(time.Minute), FireTask{Key: "once", RunID: "slot", Trigger: TriggerScheduled, Slot: t0}))
	mustApply(t, a, command(t, CmdCancelRun, t0.Add(time.Minute), RunRef{ID: "slot"}))
	if err := fire("once", "r3"); err != nil {
		t.Fatalf("a one-shot task that has run: %v", err)
	}
}

// A task keeps its ended runs recordReserveDays (30 by default), its latest
// one always, and only that one when it keeps no records.
func TestEndedRunsExpire(t *testing.T) {
	f, a := populated(t)
	kept := cron(task("kept", "kept"))
	kept.RecordReserveDays = 2
	no := false
	one := cron(task("one", "one"))
	one.Record = &no
	for _, tk := range []Task{kept, one} {
		mustApply(t, a, command(t, CmdCreateTask, t0, tk))
	}
	day := 24 * time.Hour
	for i := range 4 {
		at := t0.Add(time.Duration(i) * day)
		for _, key := range []string{"kept", "one"} {
			id := key + string(rune('0'+i))
			mustApply(t, a, command(t, CmdFireTask, at, FireTask{Key: key, RunID: id, Trigger: TriggerManual}))
			mustApply(t, a, command(t, CmdCancelRun, at, RunRef{ID: id}))
		}
	}
	ids := func(key string) (out []string) {
		for _, r := range f.Runs(RunFilter{TaskKey: key}) {
			out = append(out, r.ID)
		}
		return out
	}
	if got := strings.Join(ids("kept"), " "); got != "kept3 kept2 kept1" {
		t.Errorf("runs kept 2 days at day 3: %s", got)
	}
	if got := strings.Join(ids("one"), " "); got != "one3" {
		t.Errorf("runs of a task without records: %s", got)
	}
	// Long after, the latest run stays.
	mustApply(t, a, command(t, CmdCreateTask, t0.Add(100*day), task("later", "later")))
	mustApply(t, a, command(t, CmdFireTask, t0.Add(100*day), FireTask{Key: "later", RunID: "l", Trigger: TriggerScheduled, Slot: t0.Add(100 * day)}))
	if got := strings.Join(ids("kept"), " "); got != "kept3" {
		t.Errorf("runs kept 2 days at day 100: %s", got)
	}
	if (Task{}).ReserveDays() != DefaultRecordReserveDays || !(Task{}).KeepsRecords() {
		t.Error("defaults: records kept 30 days")
	}
}

func TestObjectFilter(t *testing.T) {
	r := ObjectRecord{Target: "beijing", Repo: "maven-local", Path: "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", PackageKey: "gav://com.alibaba:fastjson", Version: "1.2.47", Status: ObjectSkipped}
	for _, f := range []ObjectFilter{{}, {Status: "SUCCESS,SKIPPED"}, {Target: "beijing", Repo: "maven-local", Version: "1.2.47"}, {PathPrefix: "/com/alibaba"},
		{PackagePrefix: "gav://com.ali"}, {PackagePrefix: "com.alibaba:fast"}} {
		if !f.Matches(r) {
			t.Errorf("%+v does not select %+v", f, r)
		}
	}
	for _, f := range []ObjectFilter{{Status: "SUCCESS"}, {Target: "bei"}, {Repo: "maven"}, {Version: "1.2"}, {PathPrefix: "/org"}, {PackagePrefix: "npm://"}, {PackagePrefix: "alibaba"}} {
		if f.Matches(r) {
			t.Errorf("%+v selects %+v", f, r)
		}
	}
}
