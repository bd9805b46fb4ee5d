package fsm

import (
	"encoding/json"
	"time"
)

// applyFireTask starts a run of a task. A scheduler slot at or before the
// last committed one is refused (a new leader never fires a committed slot);
// a slot that comes due while a run of the task is going is recorded as a
// SKIPPED run; a manual execution while a run is going is refused.
func applyFireTask(s *state, cmd Command) (any, error) {
	var p FireTask
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "task.fire: %v", err)
	}
	t, ok := s.tasks[p.Key]
	if !ok {
		return nil, errorf(KindNotFound, "task %s not found", p.Key)
	}
	if p.RunID == "" {
		return nil, errorf(KindInvalid, "task.fire: runId is required")
	}
	if _, dup := s.runs[p.RunID]; dup {
		return nil, errorf(KindConflict, "run %s already exists", p.RunID)
	}
	busy := len(s.activeRuns(t.Key)) > 0
	switch p.Trigger {
	case TriggerScheduled:
		if t.ReplicaType != ReplicaScheduled || !t.Enabled {
			return nil, errorf(KindConflict, "task %s is not an enabled SCHEDULED task", t.Key)
		}
		if p.Slot.IsZero() || !p.Slot.After(t.LastSlot) {
			return nil, errorf(KindConflict, "slot %s of task %s has already fired", p.Slot.Format(time.RFC3339Nano), t.Key)
		}
		t.LastSlot = p.Slot
	case TriggerManual:
		if err := manualFire(t, busy); err != nil {
			return nil, err
		}
	case TriggerRealTime:
		if t.ReplicaType != ReplicaRealTime || !t.Enabled || busy {
			return nil, errorf(KindConflict, "task %s is not an enabled REAL_TIME task without a run", t.Key)
		}
	default:
		return nil, errorf(KindInvalid, "task.fire: trigger %q is not SCHEDULED, MANUAL or REAL_TIME", p.Trigger)
	}
	specErr := ValidateSpec(t.Spec(), s.clusters)
	if specErr != nil && p.Trigger != TriggerScheduled {
		return nil, specErr
	}
	r := Run{ID: p.RunID, TaskKey: t.Key, Trigger: p.Trigger, Slot: p.Slot, Spec: t.Spec(), CreatedBy: p.By, CreatedAt: cmd.Time, Executor: t.SourceCluster}
	for _, id := range r.Spec.RemoteClusterIDs {
		r.Targets = append(r.Targets, TargetProgress{ClusterID: id, State: RunWaiting})
	}
	switch {
	case specErr != nil:
		// The slot is spent (not retried every second): the run says why
		// it could not start, e.g. a target cluster that left the group.
		r.State, r.StartedAt, r.FinishedAt, r.Error = RunFailed, cmd.Time, cmd.Time, specErr.Error()
		for i := range r.Targets {
			r.Targets[i].State = RunFailed
		}
		t.ExecutionTimes++
		t.LastExecutionStatus, t.LastExecutionTime = string(RunFailed), cmd.Time
	case busy:
		r.State, r.StartedAt, r.FinishedAt = RunSkipped, cmd.Time, cmd.Time
		r.Error = "the previous run of the task was still going when this slot came due"
		for i := range r.Targets {
			r.Targets[i].State = RunSkipped
		}
	default:
		r.State = RunWaiting
		t.ExecutionTimes++
		t.LastExecutionStatus, t.LastExecutionTime = string(RunRunning), cmd.Time
	}
	s.tasks[t.Key] = t
	s.putRun(r)
	s.pruneRuns(cmd.Time)
	return r.clone(), nil
}

// manualFire is whether a task may be executed by hand now.
func manualFire(t Task, busy bool) error {
	switch {
	case !t.Enabled:
		return refusal(KindConflict, RuleTaskDisabled, "task %s is disabled; enable it to execute it", t.Key)
	case busy || t.ReplicaType == ReplicaRealTime:
		return refusal(KindConflict, RuleTaskBusy, "task %s has a run going; it can be executed again when that run ends", t.Key)
	case t.Setting.ExecutionStrategy != ExecCron && t.NeverRun():
		return refusal(KindConflict, RuleTaskNotStarted, "task %s has not made its scheduled run yet; it can be executed once that has run", t.Key)
	}
	return nil
}
