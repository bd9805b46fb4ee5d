package fsm

import (
	"encoding/json"
	"testing"
	"time"
)

// A client cannot propose the agents' reports nor a scheduler's firing,
// and whatever author its payload names, the command names the caller.
func TestForClient(t *testing.T) {
	for _, typ := range []CommandType{CmdStartRun, CmdRunProgress, CmdFinishRun, CmdPulpStartContent, CmdRegisterCluster, CmdPulpFire, CmdPulpRecordTask} {
		cmd, err := NewCommand(typ, struct{}{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ForClient(cmd, "token:a"); err == nil {
			t.Errorf("a client proposed %s", typ)
		}
	}
	for _, f := range []FireTask{
		{Key: "k", RunID: "r", Trigger: TriggerScheduled, Slot: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), By: "scheduler"},
		{Key: "k", RunID: "r", Trigger: TriggerManual, Slot: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Key: "k", RunID: "r", Trigger: TriggerRealTime},
	} {
		cmd, _ := NewCommand(CmdFireTask, f)
		if _, err := ForClient(cmd, "token:a"); err == nil {
			t.Errorf("a client fired %+v", f)
		}
	}
	manual, _ := NewCommand(CmdFireTask, FireTask{Key: "k", RunID: "r", Trigger: TriggerManual, By: "management"})
	got, err := ForClient(manual, "token:a")
	var f FireTask
	if err != nil || json.Unmarshal(got.Payload, &f) != nil || f.By != "token:a" || f.Key != "k" {
		t.Errorf("a manual execution: %+v %v", f, err)
	}
	run, _ := NewCommand(CmdCreateRun, Run{ID: "r", CreatedBy: "management"})
	got, err = ForClient(run, "token:a")
	var r Run
	if err != nil || json.Unmarshal(got.Payload, &r) != nil || r.CreatedBy != "token:a" || r.ID != "r" || got.ID != run.ID {
		t.Errorf("run.create: %+v %v", r, err)
	}
	upd, _ := NewCommand(CmdUpdateTask, UpdateTask{Task: Task{Key: "k", LastModifiedBy: "management"}, IfNeverRun: true})
	got, _ = ForClient(upd, "ak:x")
	var u UpdateTask
	if json.Unmarshal(got.Payload, &u) != nil || u.LastModifiedBy != "ak:x" || !u.IfNeverRun {
		t.Errorf("task.update: %+v", u)
	}
	if _, err := ForClient(Command{Type: CmdCreateRun, ID: "x", Payload: json.RawMessage(`{`)}, "token:a"); err == nil {
		t.Error("a bad payload passed")
	}
}
