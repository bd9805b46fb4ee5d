package scheduler

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/hashicorp/raft"
)

type rv struct {
	f *fsm.FSM
	i uint64
}

func (a *rv) do(t *testing.T, typ fsm.CommandType, at time.Time, payload any) error {
	t.Helper()
	c, err := fsm.NewCommand(typ, payload)
	if err != nil {
		t.Fatal(err)
	}
	c.Time = at
	b, _ := c.Encode()
	a.i++
	return a.f.Apply(&raft.Log{Index: a.i, Type: raft.LogCommand, Data: b}).(fsm.Result).Err
}

func reviewFSM(t *testing.T) *rv {
	a := &rv{f: fsm.New()}
	for _, id := range []string{"shanghai", "beijing", "guangzhou"} {
		if err := a.do(t, fsm.CmdRegisterCluster, t0, fsm.ClusterRecord{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func reviewTask(key, name string) fsm.Task {
	return fsm.Task{Key: key, ID: key, Name: name, ProjectID: "p", SourceCluster: "shanghai", ReplicaObjectType: fsm.ObjectRepository,
		Objects: []fsm.ReplicaObject{{LocalRepoName: "r", RemoteProjectID: "p", RemoteRepoName: "r"}}, RemoteClusterIDs: []string{"beijing"},
		ReplicaType: fsm.ReplicaScheduled, Enabled: true, RunHistory: 50,
		Setting: fsm.TaskSetting{ReplicaSetting: fsm.ReplicaSetting{ConflictStrategy: fsm.ConflictSkip, ErrorStrategy: fsm.ErrorContinue},
			ExecutionStrategy: fsm.ExecCron, ExecutionPlan: fsm.ExecutionPlan{CronExpression: "0 0 * * * ?"}}}
}

// Enabling through an update skips the toggle's "count slots from now".
func TestAnUpdateNeitherEnablesNorFiresMissedSlots(t *testing.T) {
	a := reviewFSM(t)
	tk := reviewTask("k1", "hourly")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.do(t, fsm.CmdCreateTask, t0, tk))
	off := false
	must(a.do(t, fsm.CmdToggleTask, t0.Add(time.Minute), fsm.ToggleTask{Key: "k1", Enabled: &off}))
	// five hours later, an update (same schedule, enabled: true as the request default)
	tk.Description = "edited"
	at := t0.Add(5*time.Hour + 10*time.Minute)
	must(a.do(t, fsm.CmdUpdateTask, at, tk))
	got, _ := a.f.Task("k1")
	if slot, ok := Due(got, at.Add(time.Second), time.UTC); ok {
		t.Errorf("after re-enabling by update, slot %s (due while the task was disabled) fires at once", slot)
	}
}

// A REAL_TIME task updated to SCHEDULED keeps its standing run forever; a
// later disable does not stop it and every slot is SKIPPED.
func TestUpdatingARealTimeTaskEndsItsStandingRun(t *testing.T) {
	a := reviewFSM(t)
	tk := createRealTime(t, a, "k2")
	if err := a.do(t, fsm.CmdFireTask, t0, fsm.FireTask{Key: "k2", RunID: "standing", Trigger: fsm.TriggerRealTime}); err != nil {
		t.Fatal(err)
	}
	a.do(t, fsm.CmdStartRun, t0, fsm.RunRef{ID: "standing", Executor: "shanghai"})
	// update 1: disable through update -> standing run not canceled
	tk.Enabled = false
	a.do(t, fsm.CmdUpdateTask, t0.Add(time.Minute), tk)
	if r, _ := a.f.Run("standing"); !r.CancelRequested {
		t.Errorf("REAL_TIME task updated; standing run %s still going, cancelRequested=false", r.State)
	}
	if got, _ := a.f.Task("k2"); !got.Enabled {
		t.Error("an update disabled the task: enabled changes only through enable/disable")
	}
	// its executor stops it
	a.do(t, fsm.CmdFinishRun, t0.Add(time.Minute), fsm.RunProgress{ID: "standing", Executor: "shanghai", State: fsm.RunCanceled})
	// update 2: to SCHEDULED, enabled
	tk.Enabled = true
	tk.ReplicaType = fsm.ReplicaScheduled
	a.do(t, fsm.CmdUpdateTask, t0.Add(2*time.Minute), tk)
	off := false
	a.do(t, fsm.CmdToggleTask, t0.Add(3*time.Minute), fsm.ToggleTask{Key: "k2", Enabled: &off})
	if r, _ := a.f.Run("standing"); !r.CancelRequested {
		t.Errorf("task now SCHEDULED and disabled; standing REAL_TIME run %s still going, cancelRequested=false", r.State)
	}
	on := true
	a.do(t, fsm.CmdToggleTask, t0.Add(4*time.Minute), fsm.ToggleTask{Key: "k2", Enabled: &on})
	a.do(t, fsm.CmdFireTask, t0.Add(time.Hour), fsm.FireTask{Key: "k2", RunID: "slot1", Trigger: fsm.TriggerScheduled, Slot: t0.Add(time.Hour)})
	if r, _ := a.f.Run("slot1"); r.State == fsm.RunSkipped {
		t.Errorf("scheduled slot SKIPPED because the old REAL_TIME standing run never ends")
	}
}

// ExecutionPlan is compared with != : time.Time's *Location pointer makes an
// unchanged executeTime with a non-UTC offset look changed, so an unrelated
// update resets LastSlot and an IMMEDIATELY task fires again. Whether it does
// depends on the agent's local zone (TZ): replicas can diverge.
func TestAnUnrelatedUpdateDoesNotRefireAnImmediateTask(t *testing.T) {
	a := reviewFSM(t)
	tk := reviewTask("k3", "once")
	tk.Setting.ExecutionStrategy = fsm.ExecImmediately
	tk.Setting.ExecutionPlan = fsm.ExecutionPlan{ExecuteImmediately: true, ExecuteTime: time.Date(2026, 11, 23, 20, 0, 0, 0, time.FixedZone("", 5*3600+1800))}
	a.do(t, fsm.CmdCreateTask, t0, tk)
	got, _ := a.f.Task("k3")
	slot, ok := Due(got, t0.Add(time.Second), time.UTC)
	if !ok {
		t.Fatal("not due")
	}
	if err := a.do(t, fsm.CmdFireTask, t0.Add(time.Second), fsm.FireTask{Key: "k3", RunID: "r1", Trigger: fsm.TriggerScheduled, Slot: slot}); err != nil {
		t.Fatal(err)
	}
	a.do(t, fsm.CmdFinishRun, t0.Add(2*time.Second), fsm.RunProgress{ID: "r1", State: fsm.RunSuccess})
	tk.Description = "only the description changed"
	if err := a.do(t, fsm.CmdUpdateTask, t0.Add(time.Hour), tk); err != nil {
		t.Fatal(err)
	}
	got, _ = a.f.Task("k3")
	t.Logf("Local=%s lastSlot after the update: %s", time.Local, got.LastSlot)
	if _, ok := Due(got, t0.Add(time.Hour), time.UTC); ok {
		t.Errorf("IMMEDIATELY task due again after a description-only update (lastSlot reset)")
	}
}

// Ended runs of deleted tasks are kept DefaultRunHistory each, forever: the
// state grows with every task ever deleted.
func TestRunsOfDeletedTasksAreBounded(t *testing.T) {
	a := reviewFSM(t)
	for i := range 1200 {
		tk := reviewTask("key"+string(rune('a'+i%26))+time.Duration(i).String(), "n"+time.Duration(i).String())
		tk.Enabled = false
		at := t0.Add(time.Duration(i) * time.Second)
		if err := a.do(t, fsm.CmdCreateTask, at, tk); err != nil {
			t.Fatal(err)
		}
		a.do(t, fsm.CmdFireTask, at, fsm.FireTask{Key: tk.Key, RunID: "run" + tk.Key, Trigger: fsm.TriggerManual})
		a.do(t, fsm.CmdFinishRun, at, fsm.RunProgress{ID: "run" + tk.Key, State: fsm.RunFailed})
		a.do(t, fsm.CmdDeleteTask, at, fsm.TaskRef{Key: tk.Key})
	}
	if n := len(a.f.Runs(fsm.RunFilter{})); n > 1000 {
		t.Errorf("%d ended runs kept after 1200 task create/delete cycles (maxFinishedRuns is 1000; grows without bound)", n)
	}
}

// A slot whose fire Apply refuses for a reason other than "already fired"
// (a target cluster deregistered) is retried every second forever: one
// Raft entry per second per task, LastSlot never advances.
func TestASlotThatCannotStartIsSpentOnce(t *testing.T) {
	a := reviewFSM(t)
	tk := reviewTask("k5", "every")
	tk.Setting.ExecutionPlan.CronExpression = "* * * * * ?"
	now := time.Now().UTC()
	a.do(t, fsm.CmdCreateTask, now.Add(-3*time.Second), tk)
	a.do(t, fsm.CmdDeregisterCluster, now, fsm.DeregisterCluster{ID: "beijing"})
	proposed := map[time.Time]int{}
	l := Loop{State: a.f, Zone: time.UTC, Log: nopLog(), Fire: func(ctx contextT, key string, slot time.Time) (fsm.Run, error) {
		proposed[slot]++
		err := a.do(t, fsm.CmdFireTask, time.Now().UTC(), fsm.FireTask{Key: key, RunID: fsm.NewID(), Trigger: fsm.TriggerScheduled, Slot: slot})
		return fsm.Run{}, err
	}}
	runFor(&l, 2500*time.Millisecond)
	for slot, n := range proposed {
		if n != 1 {
			t.Errorf("slot %s proposed %d times", slot, n)
		}
	}
	runs := a.f.Runs(fsm.RunFilter{TaskKey: "k5"})
	if len(runs) == 0 || runs[0].State != fsm.RunFailed || !strings.Contains(runs[0].Error, "not a registered cluster") {
		t.Fatalf("a slot that cannot start: %+v", runs)
	}
}

// Toggling sets LastSlot = cmd.Time even when that is before the last fired
// slot (a new leader whose clock is behind the old one's): the same slot is
// accepted a second time.
func TestToggleNeverMovesTheLastSlotBack(t *testing.T) {
	a := reviewFSM(t)
	tk := reviewTask("k6", "every10s")
	tk.Setting.ExecutionPlan.CronExpression = "*/10 * * * * ?"
	a.do(t, fsm.CmdCreateTask, t0, tk)
	slot := t0.Add(60 * time.Second) // fired by leader A whose clock was 30 s fast
	if err := a.do(t, fsm.CmdFireTask, t0.Add(60*time.Second), fsm.FireTask{Key: "k6", RunID: "r1", Trigger: fsm.TriggerScheduled, Slot: slot}); err != nil {
		t.Fatal(err)
	}
	a.do(t, fsm.CmdFinishRun, t0.Add(61*time.Second), fsm.RunProgress{ID: "r1", State: fsm.RunSuccess})
	off, on := false, true
	// leader B, correct clock (30 s behind A)
	a.do(t, fsm.CmdToggleTask, t0.Add(32*time.Second), fsm.ToggleTask{Key: "k6", Enabled: &off})
	a.do(t, fsm.CmdToggleTask, t0.Add(33*time.Second), fsm.ToggleTask{Key: "k6", Enabled: &on})
	got, _ := a.f.Task("k6")
	if err := a.do(t, fsm.CmdFireTask, t0.Add(60*time.Second), fsm.FireTask{Key: "k6", RunID: "r2", Trigger: fsm.TriggerScheduled, Slot: slot}); err == nil {
		t.Errorf("slot %s committed twice (lastSlot moved back to %s)", slot, got.LastSlot)
	}
}

type contextT = context.Context

func nopLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func runFor(l *Loop, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	l.Run(ctx)
}
