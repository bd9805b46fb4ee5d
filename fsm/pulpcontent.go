package fsm

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// A consumer's content action (install, update, uninstall of units) is a
// task in two steps, because only the agent of the consumer's Pulp server
// can look into its store for the units:
//
//	pulp.content.queue / pulp.fire   ->  a waiting task carrying the call
//	pulp.content.start (that agent)  ->  the task ends, or becomes the run
//	                                     (of the same id) that copies them
//
// The waiting task is in the replicated state, so a call is neither lost nor
// carried out twice when that agent restarts between the steps.

// Pulp content actions.
const (
	PulpInstall   = "install"
	PulpUpdate    = "update"
	PulpUninstall = "uninstall"
)

// PulpContentActions are the content actions, in Pulp's order.
var PulpContentActions = []string{PulpInstall, PulpUpdate, PulpUninstall}

// PulpUnit is a unit a content action names: its type and its key ({"name":
// ...}, for packages also "version").
type PulpUnit struct {
	TypeID  string                     `json:"typeId"`
	UnitKey map[string]json.RawMessage `json:"unitKey"`
}

// Key is a string of the unit key, "" when absent or not a string.
func (u PulpUnit) Key(name string) string {
	var s string
	if json.Unmarshal(u.UnitKey[name], &s) != nil {
		return ""
	}
	return s
}

// PulpContentCall is a content action on a consumer: what a content
// schedule dispatches and what a waiting content task carries out.
type PulpContentCall struct {
	Consumer string                     `json:"consumer"`
	Action   string                     `json:"action"`
	Units    []PulpUnit                 `json:"units"`
	Options  map[string]json.RawMessage `json:"options,omitempty"`
	// ScheduleID, on a task, is the schedule that dispatched it.
	ScheduleID string `json:"scheduleId,omitempty"`
}

func (c *PulpContentCall) clone() *PulpContentCall {
	if c == nil {
		return nil
	}
	out := *c
	out.Units = slices.Clone(c.Units)
	for i := range out.Units {
		out.Units[i].UnitKey = maps.Clone(out.Units[i].UnitKey)
	}
	out.Options = maps.Clone(c.Options)
	return &out
}

// contentTask is the waiting task of a content call.
func contentTask(id, cluster, by string, call *PulpContentCall) PulpTask {
	return PulpTask{ID: id, Cluster: cluster, Type: "pulp.server.managers.consumer.agent." + call.Action,
		Tags:  []string{"pulp:consumer:" + call.Consumer, "pulp:action:unit_" + call.Action},
		State: PulpTaskWaiting, CreatedBy: by, Content: call.clone()}
}

// PulpContentQueue asks for a content action now (CmdPulpQueueContent).
type PulpContentQueue struct {
	TaskID  string          `json:"taskId"`
	Cluster string          `json:"cluster"`
	Call    PulpContentCall `json:"call"`
	By      string          `json:"by"`
}

func applyPulpQueueContent(s *state, cmd Command) (any, error) {
	var p PulpContentQueue
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.content.queue: %v", err)
	}
	if err := s.checkContentCall(p.Cluster, p.Call); err != nil {
		return nil, err
	}
	if _, dup := s.pulpTasks[p.TaskID]; dup || p.TaskID == "" {
		return nil, errorf(KindConflict, "task %q exists", p.TaskID)
	}
	p.Call.ScheduleID = ""
	return s.queueContent(p.TaskID, p.Cluster, p.By, cmd.Time, &p.Call), nil
}

func (s *state) queueContent(id, cluster, by string, at time.Time, call *PulpContentCall) PulpTask {
	t := contentTask(id, cluster, by, call)
	t.StartTime, t.Index = at, s.applying
	s.pulpTasks[t.ID] = t
	return t.clone()
}

// checkContentCall is whether a region's consumer exists for the action.
func (s *state) checkContentCall(cluster string, c PulpContentCall) error {
	if !slices.Contains(PulpContentActions, c.Action) {
		return FieldError("action", "%q is not install, update or uninstall", c.Action)
	}
	if _, ok := s.pulpConsumers[PulpRepoKey(cluster, c.Consumer)]; !ok {
		return &Error{Kind: KindNotFound, Field: "consumer", Reason: "consumer " + c.Consumer + " not found"}
	}
	if len(c.Units) == 0 {
		return FieldError("units", "it is required")
	}
	return nil
}

// PulpContentStart is what the consumer's Pulp server made of a waiting
// content task (CmdPulpStartContent): Run, the copy of the units to the
// consumer's region, which takes the task's id; or, without Run, the task's
// end (Error empty: finished).
type PulpContentStart struct {
	TaskID string `json:"taskId"`
	Run    *Run   `json:"run,omitempty"`
	Error  string `json:"error,omitempty"`
}

func applyPulpStartContent(s *state, cmd Command) (any, error) {
	var p PulpContentStart
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.content.start: %v", err)
	}
	t, ok := s.pulpTasks[p.TaskID]
	if !ok || t.Content == nil || t.State != PulpTaskWaiting {
		return nil, errorf(KindConflict, "task %s is not a waiting content action", p.TaskID)
	}
	if p.Run == nil {
		return s.endContent(t, p.Error, cmd.Time), nil
	}
	r := *p.Run
	if err := ValidateSpec(r.Spec, s.clusters); err != nil {
		return nil, err
	}
	if _, dup := s.runs[t.ID]; dup {
		return nil, errorf(KindConflict, "run %s already exists", t.ID)
	}
	r.ID, r.Trigger, r.TaskKey, r.Slot, r.Feed = t.ID, TriggerManual, "", time.Time{}, nil
	r.PulpContent = &PulpContent{Cluster: t.Cluster, Consumer: t.Content.Consumer, Action: t.Content.Action, ScheduleID: t.Content.ScheduleID}
	r.CreatedBy, r.CreatedAt, r.State, r.Executor = t.CreatedBy, t.StartTime, RunWaiting, r.Spec.SourceCluster
	r.StartedAt, r.FinishedAt, r.CancelRequested, r.Error, r.Targets = time.Time{}, time.Time{}, false, "", nil
	if t.Content.ScheduleID != "" {
		r.Trigger = TriggerScheduled
	}
	for _, id := range r.Spec.RemoteClusterIDs {
		r.Targets = append(r.Targets, TargetProgress{ClusterID: id, State: RunWaiting})
	}
	delete(s.pulpTasks, t.ID) // the run is the task from here on
	s.putRun(r)
	s.pruneRuns(cmd.Time)
	return r.clone(), nil
}

// endContent ends a waiting content task, and counts it on its schedule.
func (s *state) endContent(t PulpTask, reason string, at time.Time) PulpTask {
	t = t.clone()
	t.State, t.Error, t.FinishTime, t.Index = PulpTaskFinished, reason, at, s.applying
	if reason != "" {
		t.State = PulpTaskError
	}
	s.pulpTasks[t.ID] = t
	s.pulpCallEnded(t.Content.ScheduleID, reason == "")
	s.prunePulpTasks()
	return t.clone()
}

// PulpTaskCancel cancels a region's waiting content task
// (CmdPulpCancelTask); a task already complete stays as it is.
type PulpTaskCancel struct {
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
}

func applyPulpCancelTask(s *state, cmd Command) (any, error) {
	var p PulpTaskCancel
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.task.cancel: %v", err)
	}
	t, ok := s.pulpTasks[p.ID]
	if !ok || t.Cluster != p.Cluster {
		return nil, errorf(KindNotFound, "task %s not found", p.ID)
	}
	if t.State != PulpTaskWaiting {
		return t.clone(), nil
	}
	t = t.clone()
	t.State, t.FinishTime, t.Index = PulpTaskCanceled, cmd.Time, s.applying
	s.pulpTasks[t.ID] = t
	return t.clone(), nil
}

// WaitingPulpContent are a region's content tasks its agent has yet to
// carry out, oldest first.
func (f *FSM) WaitingPulpContent(cluster string) []PulpTask {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []PulpTask
	for _, t := range f.s.pulpTasks {
		if t.Cluster == cluster && t.Content != nil && t.State == PulpTaskWaiting {
			out = append(out, t.clone())
		}
	}
	slices.SortFunc(out, func(a, b PulpTask) int { return cmpIndex(a.Index, b.Index, a.ID, b.ID) })
	return out
}
