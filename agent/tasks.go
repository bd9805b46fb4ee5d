package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/scheduler"
)

// Tasks: validated here (with the scheduler's cron parser and this agent's
// clock), then proposed; fsm checks again what it can decide alone.

func (a *Agent) taskFromRequest(req api.TaskRequest, by string) (fsm.Task, error) {
	t := fsm.Task{
		Name: strings.TrimSpace(req.Name), ProjectID: req.LocalProjectID, SourceCluster: req.SourceClusterID,
		ReplicaObjectType: req.ReplicaObjectType, Objects: slices.Clone(req.Objects), ReplicaType: req.ReplicaType,
		Setting: req.Setting, RemoteClusterIDs: req.RemoteClusterIDs, Enabled: req.Enabled, Description: req.Description,
		ReplicateDeletes: req.ReplicateDeletes, RunHistory: req.RunHistory, CreatedBy: by, LastModifiedBy: by,
		Record: req.Record, RecordReserveDays: req.RecordReserveDays, KeepDifferingOnTarget: req.KeepDifferingOnTarget,
	}
	a.specDefaults(&t.SourceCluster, t.ProjectID, t.Objects)
	normalizeTask(&t)
	if t.RunHistory == 0 {
		t.RunHistory = a.cfg.TaskRunHistory
	}
	if err := fsm.ValidateTask(t, a.clusterRegistry()); err != nil {
		return fsm.Task{}, err
	}
	if t.ReplicaType == fsm.ReplicaScheduled {
		p := t.Setting.ExecutionPlan
		switch t.Setting.ExecutionStrategy {
		case fsm.ExecCron:
			if _, err := scheduler.ParseCron(p.CronExpression, a.cfg.Location()); err != nil {
				return fsm.Task{}, fsm.FieldError("executionPlan.cronExpression", "%v", err)
			}
		case fsm.ExecSpecifiedTime:
			if p.ExecuteTime.Before(time.Now()) {
				return fsm.Task{}, fsm.PastExecuteTime(p.ExecuteTime)
			}
		}
	}
	return t, nil
}

// normalizeTask reads a request as bk-repo does: the remote clusters are a
// set (an id named twice is one), a rate limit of 0 or below is unlimited,
// and a path is absolute ("dir" is "/dir").
func normalizeTask(t *fsm.Task) {
	var ids []string
	for _, id := range t.RemoteClusterIDs {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	t.RemoteClusterIDs = ids
	t.Setting.RateLimit = max(t.Setting.RateLimit, 0)
	for i, o := range t.Objects {
		if len(o.PathConstraints) == 0 {
			continue
		}
		o.PathConstraints = slices.Clone(o.PathConstraints)
		for j, c := range o.PathConstraints {
			if c.Path != "" && !strings.HasPrefix(c.Path, "/") {
				o.PathConstraints[j].Path = "/" + c.Path
			}
		}
		t.Objects[i] = o
	}
}

// CreateTask implements api.Tasks.
func (a *Agent) CreateTask(ctx context.Context, req api.TaskRequest) (api.TaskView, error) {
	t, err := a.taskFromRequest(req, api.CallerOf(ctx).Name)
	if err != nil {
		return api.TaskView{}, err
	}
	t.Key, t.ID = newTaskKey(), fsm.RandomHex(12)
	return a.proposeTask(ctx, fsm.CmdCreateTask, t, t.Key)
}

// UpdateTask implements api.Tasks.
func (a *Agent) UpdateTask(ctx context.Context, key string, req api.TaskRequest, opts api.UpdateOptions) (api.TaskView, error) {
	if old, ok := a.fsm.Task(key); ok && opts.IfNeverRun && !old.NeverRun() {
		return api.TaskView{}, &fsm.Error{Kind: fsm.KindConflict, Rule: fsm.RuleTaskHasRun, Reason: fmt.Sprintf("task %s has run; only a task that never ran is updated", key)}
	}
	t, err := a.taskFromRequest(req, api.CallerOf(ctx).Name)
	if err != nil {
		return api.TaskView{}, err
	}
	t.Key = key
	return a.proposeTask(ctx, fsm.CmdUpdateTask, fsm.UpdateTask{Task: t, IfNeverRun: opts.IfNeverRun, NameUnchecked: opts.NameUnchecked}, key)
}

// CopyTask implements api.Tasks: a new task (new key) with the same
// settings, disabled and never run, as bk-repo copies: a copy is a draft,
// and enabling it is what starts it. The name is checked first, as
// bk-repo does.
func (a *Agent) CopyTask(ctx context.Context, key, name, description string) (api.TaskView, error) {
	if other, ok := a.fsm.TaskNamed(strings.TrimSpace(name)); ok {
		return api.TaskView{}, &fsm.Error{Kind: fsm.KindConflict, Rule: fsm.RuleNameTaken, Reason: fmt.Sprintf("task name %q is taken (by task %s of project %s)", other.Name, other.Key, other.ProjectID)}
	}
	old, ok := a.fsm.Task(key)
	if !ok {
		return api.TaskView{}, &fsm.Error{Kind: fsm.KindNotFound, Reason: fmt.Sprintf("task %s not found", key)}
	}
	req := api.TaskRequestOf(old)
	req.Name, req.Description, req.Enabled = name, description, false
	return a.CreateTask(ctx, req)
}

// DeleteTask implements api.Tasks.
func (a *Agent) DeleteTask(ctx context.Context, key string) error {
	cmd, err := fsm.NewCommand(fsm.CmdDeleteTask, fsm.TaskRef{Key: key})
	if err != nil {
		return err
	}
	return a.propose(ctx, api.CallerOf(ctx).Secret, cmd)
}

// ToggleTask implements api.Tasks; a nil enabled flips the task.
func (a *Agent) ToggleTask(ctx context.Context, key string, enabled *bool) (api.TaskView, error) {
	return a.proposeTask(ctx, fsm.CmdToggleTask, fsm.ToggleTask{Key: key, Enabled: enabled, By: api.CallerOf(ctx).Name}, key)
}

// ExecuteTask implements api.Tasks: a manual run of the task now.
func (a *Agent) ExecuteTask(ctx context.Context, key string) (fsm.Run, error) {
	id := fsm.NewID()
	caller := api.CallerOf(ctx)
	cmd, err := fsm.NewCommand(fsm.CmdFireTask, fsm.FireTask{Key: key, RunID: id, Trigger: fsm.TriggerManual, By: caller.Name})
	if err != nil {
		return fsm.Run{}, err
	}
	if err := a.propose(ctx, caller.Secret, cmd); err != nil {
		return fsm.Run{}, err
	}
	return a.runAfterWrite(id)
}

func (a *Agent) proposeTask(ctx context.Context, t fsm.CommandType, payload any, key string) (api.TaskView, error) {
	cmd, err := fsm.NewCommand(t, payload)
	if err != nil {
		return api.TaskView{}, err
	}
	if err := a.propose(ctx, api.CallerOf(ctx).Secret, cmd); err != nil {
		return api.TaskView{}, err
	}
	v, ok := a.Task(key)
	if !ok {
		return api.TaskView{}, fmt.Errorf("task %s was written but is already gone", key)
	}
	return v, nil
}

// Task implements api.Tasks.
func (a *Agent) Task(key string) (api.TaskView, bool) {
	t, ok := a.fsm.Task(key)
	if !ok {
		return api.TaskView{}, false
	}
	return a.taskView(t), true
}

func (a *Agent) taskView(t fsm.Task) api.TaskView {
	v := api.TaskView{Task: t, RemoteClusters: []api.ClusterRef{}}
	for _, id := range t.RemoteClusterIDs {
		name := id
		if rec, ok := a.fsm.Cluster(id); ok {
			name = rec.Name
		}
		v.RemoteClusters = append(v.RemoteClusters, api.ClusterRef{ID: id, Name: name})
	}
	if next, ok := scheduler.Next(t, a.cfg.Location()); ok {
		v.NextExecutionTime = next
	}
	runs := a.fsm.Runs(fsm.RunFilter{TaskKey: t.Key})
	v.Status = taskStatus(t, runs)
	for _, r := range runs {
		if r.State != fsm.RunSkipped {
			for _, tg := range r.Targets {
				v.ReplicatedBytes += tg.BytesDone
				v.TotalBytes += tg.BytesTotal
			}
			break
		}
	}
	return v
}

// taskStatus is bk-repo's ReplicaStatus of a task whose runs, newest first,
// are runs.
func taskStatus(t fsm.Task, runs []fsm.Run) api.TaskStatus {
	for _, r := range runs {
		if !r.State.Terminal() {
			return api.TaskReplicating
		}
	}
	switch {
	case t.ReplicaType == fsm.ReplicaRealTime && t.Enabled:
		return api.TaskReplicating
	case t.NeverRun(), t.ReplicaType == fsm.ReplicaRealTime, t.Setting.ExecutionStrategy == fsm.ExecCron:
		return api.TaskWaiting
	}
	return api.TaskCompleted
}

// ListTasks implements api.Tasks: the tasks that match, ordered as asked
// (newest first), for every dialect.
func (a *Agent) ListTasks(f api.TaskFilter) []api.TaskView {
	var out []api.TaskView
	for _, t := range a.fsm.Tasks() {
		if (f.ProjectID != "" && t.ProjectID != f.ProjectID) || (len(f.Projects) > 0 && !slices.Contains(f.Projects, t.ProjectID)) ||
			!strings.HasPrefix(t.Name, f.NamePrefix) ||
			(f.LastExecutionStatus != "" && t.LastExecutionStatus != f.LastExecutionStatus) ||
			(f.Enabled != nil && t.Enabled != *f.Enabled) {
			continue
		}
		out = append(out, a.taskView(t))
	}
	key := func(v api.TaskView) time.Time {
		switch f.SortType {
		case "LAST_EXECUTION_TIME":
			return v.LastExecutionTime
		case "NEXT_EXECUTION_TIME":
			return v.NextExecutionTime
		}
		return v.CreatedDate
	}
	slices.SortStableFunc(out, func(x, y api.TaskView) int {
		if f.Ascending {
			return key(x).Compare(key(y))
		}
		return key(y).Compare(key(x))
	})
	return out
}

// newTaskKey is a bk-repo style key: 32 hex digits.
func newTaskKey() string { return fsm.RandomHex(16) }

// Location implements api.Tasks.
func (a *Agent) Location() *time.Location { return a.cfg.Location() }
