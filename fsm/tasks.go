package fsm

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Replica types and execution strategies of a task (the bkrepo document's enums).
const (
	ReplicaScheduled = "SCHEDULED"
	ReplicaRealTime  = "REAL_TIME"

	ExecImmediately   = "IMMEDIATELY"
	ExecSpecifiedTime = "SPECIFIED_TIME"
	ExecCron          = "CRON_EXPRESSION"
)

// More run triggers and the state of a slot that came due while the task's
// previous run was still going.
const (
	TriggerScheduled = "SCHEDULED"
	TriggerRealTime  = "REAL_TIME"

	RunSkipped RunState = "SKIPPED"
)

// ExecutionPlan says when a SCHEDULED task runs.
type ExecutionPlan struct {
	ExecuteImmediately bool      `json:"executeImmediately"`
	ExecuteTime        time.Time `json:"executeTime,omitzero"`
	CronExpression     string    `json:"cronExpression,omitempty"`
}

// TaskSetting is a task's transfer settings plus when it executes.
type TaskSetting struct {
	ReplicaSetting
	ExecutionStrategy string        `json:"executionStrategy"`
	ExecutionPlan     ExecutionPlan `json:"executionPlan"`
}

// Task is a replication task: what to replicate, where, and when.
type Task struct {
	Key               string          `json:"key"`
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	ProjectID         string          `json:"projectId"`
	SourceCluster     string          `json:"sourceClusterId"`
	ReplicaObjectType string          `json:"replicaObjectType"`
	Objects           []ReplicaObject `json:"replicaTaskObjects"`
	ReplicaType       string          `json:"replicaType"`
	Setting           TaskSetting     `json:"setting"`
	RemoteClusterIDs  []string        `json:"remoteClusterIds"`
	Enabled           bool            `json:"enabled"`
	Description       string          `json:"description"`
	// ReplicateDeletes makes a REAL_TIME task delete on the targets what is
	// deleted on the source.
	ReplicateDeletes bool `json:"replicateDeletes"`
	// KeepDifferingOnTarget makes a REAL_TIME task leave a path the target
	// holds with other content as the target has it (a conflict, SWR's
	// override false); without it a change on the source overwrites.
	KeepDifferingOnTarget bool `json:"keepDifferingOnTarget,omitempty"`
	// RunHistory is how many of its ended runs the task keeps.
	RunHistory int `json:"runHistory"`
	// Record and RecordReserveDays are bk-repo's: whether the task's runs
	// are kept as records (nil: yes), and for how many days after they end
	// (0: DefaultRecordReserveDays). Without records only the latest ended
	// run stays.
	Record            *bool `json:"record,omitempty"`
	RecordReserveDays int   `json:"recordReserveDays,omitempty"`

	LastExecutionStatus string    `json:"lastExecutionStatus,omitempty"`
	LastExecutionTime   time.Time `json:"lastExecutionTime,omitzero"`
	ExecutionTimes      int64     `json:"executionTimes"`
	// LastSlot is the due time of the last slot the scheduler committed: a
	// slot at or before it never fires again.
	LastSlot time.Time `json:"lastSlot,omitzero"`

	CreatedBy        string    `json:"createdBy"`
	CreatedDate      time.Time `json:"createdDate"`
	LastModifiedBy   string    `json:"lastModifiedBy"`
	LastModifiedDate time.Time `json:"lastModifiedDate"`
}

// RealTimeConflict is the conflict strategy of a REAL_TIME task's
// deliveries: a change on the source is newer than what the target holds,
// so it overwrites, unless the task keeps what differs on the target.
func (t Task) RealTimeConflict() string {
	if t.KeepDifferingOnTarget {
		return ConflictSkip
	}
	return ConflictOverwrite
}

func (t Task) clone() Task {
	t.Objects = slices.Clone(t.Objects)
	t.RemoteClusterIDs = slices.Clone(t.RemoteClusterIDs)
	return t
}

// Spec is what a run of the task replicates. A PACKAGE task replicates its
// packages only: bk-repo ignores the pathConstraints of such a task (its
// clients send []), which a run would otherwise copy too.
func (t Task) Spec() ReplicaSpec {
	objects := slices.Clone(t.Objects)
	if t.ReplicaObjectType == ObjectPackage {
		for i := range objects {
			objects[i].PathConstraints = nil
		}
	}
	return ReplicaSpec{
		SourceCluster: t.SourceCluster, LocalProjectID: t.ProjectID, ReplicaObjectType: t.ReplicaObjectType,
		Objects: objects, RemoteClusterIDs: slices.Clone(t.RemoteClusterIDs), Setting: t.Setting.ReplicaSetting,
	}
}

// DefaultRunHistory is the ended runs a task keeps when it does not say.
const DefaultRunHistory = 50

// Bounds of a task's name, in characters (bk-repo's 2..256).
const (
	MinTaskName = 2
	MaxTaskName = 256
)

// DefaultRecordReserveDays is how long a task's records stay when it does
// not say; MaxRecordReserveDays the longest it may ask (bk-repo's 1..60).
const (
	DefaultRecordReserveDays = 30
	MaxRecordReserveDays     = 60
)

// KeepsRecords is whether the task's ended runs stay beyond the latest.
func (t Task) KeepsRecords() bool { return t.Record == nil || *t.Record }

// ReserveDays is how many days the task's ended runs stay.
func (t Task) ReserveDays() int {
	if t.RecordReserveDays == 0 {
		return DefaultRecordReserveDays
	}
	return t.RecordReserveDays
}

// ValidateTask checks a task against the registry, as ValidateSpec does for
// runs. Cron syntax and times in the past are checked by the agent (with the
// scheduler's parser) and, for times, in Apply against the command's time.
func ValidateTask(t Task, clusters map[string]ClusterRecord) error {
	switch n := utf8.RuneCountInString(t.Name); {
	case strings.TrimSpace(t.Name) == "":
		return FieldError("name", "it is required")
	case n < MinTaskName || n > MaxTaskName:
		return FieldError("name", "it has %d characters; a name has %d to %d", n, MinTaskName, MaxTaskName)
	case t.ReplicaType != ReplicaScheduled && t.ReplicaType != ReplicaRealTime:
		return FieldError("replicaType", "%q is not SCHEDULED or REAL_TIME", t.ReplicaType)
	case t.RunHistory < 1 || t.RunHistory > 10000:
		return FieldError("runHistory", "%d is not within 1..10000", t.RunHistory)
	case t.RecordReserveDays < 0 || t.RecordReserveDays > MaxRecordReserveDays:
		return FieldError("recordReserveDays", "%d is not within 1..%d", t.RecordReserveDays, MaxRecordReserveDays)
	}
	if err := ValidateSpec(t.Spec(), clusters); err != nil {
		return err
	}
	if t.ReplicaType == ReplicaRealTime {
		return nil
	}
	p := t.Setting.ExecutionPlan
	switch t.Setting.ExecutionStrategy {
	case ExecImmediately:
	case ExecSpecifiedTime:
		if p.ExecuteTime.IsZero() {
			return FieldError("executionPlan.executeTime", "it is required when executionStrategy is SPECIFIED_TIME")
		}
	case ExecCron:
		if strings.TrimSpace(p.CronExpression) == "" {
			return FieldError("executionPlan.cronExpression", "it is required when executionStrategy is CRON_EXPRESSION")
		}
	default:
		return FieldError("executionStrategy", "%q is not IMMEDIATELY, SPECIFIED_TIME or CRON_EXPRESSION", t.Setting.ExecutionStrategy)
	}
	return nil
}

// PastExecuteTime refuses a SPECIFIED_TIME task whose time has passed; the
// agent asks with its clock, Apply with the command's time.
func PastExecuteTime(at time.Time) *Error {
	return FieldError("executionPlan.executeTime", "%s is in the past", at.Format(time.RFC3339))
}

// Payloads of the task commands.
type (
	// TaskRef names a task (CmdDeleteTask).
	TaskRef struct {
		Key string `json:"key"`
	}
	// ToggleTask enables or disables a task; without Enabled it flips it.
	ToggleTask struct {
		Key     string `json:"key"`
		Enabled *bool  `json:"enabled,omitempty"`
		By      string `json:"by"`
	}
	// UpdateTask replaces a task (CmdUpdateTask). IfNeverRun refuses the
	// update once the task has run (bk-repo's rule: a task that has run is
	// not edited); NameUnchecked lets the new name equal another task's
	// (bk-repo's update does not look).
	UpdateTask struct {
		Task
		IfNeverRun    bool `json:"ifNeverRun,omitempty"`
		NameUnchecked bool `json:"nameUnchecked,omitempty"`
	}
	// FireTask starts a run of a task (CmdFireTask): the scheduler's slot
	// (Slot set), a manual execution, or a REAL_TIME task's standing run.
	FireTask struct {
		Key     string    `json:"key"`
		RunID   string    `json:"runId"`
		Trigger string    `json:"trigger"`
		Slot    time.Time `json:"slot,omitzero"`
		By      string    `json:"by"`
	}
)

func applyCreateTask(s *state, cmd Command) (any, error) {
	var t Task
	if err := json.Unmarshal(cmd.Payload, &t); err != nil {
		return nil, errorf(KindInvalid, "task.create: %v", err)
	}
	if t.Key == "" || t.ID == "" {
		return nil, errorf(KindInvalid, "task.create: key and id are required")
	}
	t.Setting.ExecutionPlan.ExecuteTime = t.Setting.ExecutionPlan.ExecuteTime.UTC()
	if _, ok := s.tasks[t.Key]; ok {
		return nil, errorf(KindConflict, "task %s already exists", t.Key)
	}
	if err := checkTask(s, t, cmd.Time, true); err != nil {
		return nil, err
	}
	t.CreatedDate, t.LastModifiedDate, t.LastModifiedBy = cmd.Time, cmd.Time, t.CreatedBy
	t.LastExecutionStatus, t.LastExecutionTime, t.ExecutionTimes, t.LastSlot = "", time.Time{}, 0, time.Time{}
	s.tasks[t.Key] = t
	return t.clone(), nil
}

// checkTask validates t and, when asked, that no other task has its name:
// names are unique across all projects, as bk-repo's are.
func checkTask(s *state, t Task, now time.Time, uniqueName bool) error {
	if err := ValidateTask(t, s.clusters); err != nil {
		return err
	}
	if t.ReplicaType == ReplicaScheduled && t.Setting.ExecutionStrategy == ExecSpecifiedTime && t.Setting.ExecutionPlan.ExecuteTime.Before(now) {
		return PastExecuteTime(t.Setting.ExecutionPlan.ExecuteTime)
	}
	if !uniqueName {
		return nil
	}
	if other, ok := s.taskNamed(t.Name); ok && other.Key != t.Key {
		return refusal(KindConflict, RuleNameTaken, "task name %q is taken (by task %s of project %s)", t.Name, other.Key, other.ProjectID)
	}
	return nil
}

func (s *state) taskNamed(name string) (Task, bool) {
	for _, t := range s.tasks {
		if t.Name == name {
			return t, true
		}
	}
	return Task{}, false
}

// NeverRun is true while the task has not run: bk-repo's WAITING task
// without a last execution.
func (t Task) NeverRun() bool { return t.ExecutionTimes == 0 && t.LastExecutionStatus == "" }

// applyUpdateTask replaces what a task does. A run already going keeps the
// spec it started with; the change applies from the next run.
func applyUpdateTask(s *state, cmd Command) (any, error) {
	var u UpdateTask
	if err := json.Unmarshal(cmd.Payload, &u); err != nil {
		return nil, errorf(KindInvalid, "task.update: %v", err)
	}
	t := u.Task
	old, ok := s.tasks[t.Key]
	if !ok {
		return nil, errorf(KindNotFound, "task %s not found", t.Key)
	}
	if u.IfNeverRun && (!old.NeverRun() || len(s.activeRuns(old.Key)) > 0) {
		return nil, refusal(KindConflict, RuleTaskHasRun, "task %s has run; only a task that never ran is updated", old.Key)
	}
	t.Setting.ExecutionPlan.ExecuteTime = t.Setting.ExecutionPlan.ExecuteTime.UTC()
	if err := checkTask(s, t, cmd.Time, !u.NameUnchecked); err != nil {
		return nil, err
	}
	// What the task has done stays, and so does enabled (enable and disable
	// have their own rules, task.toggle); a new schedule counts from now.
	t.ID, t.CreatedBy, t.CreatedDate, t.Enabled = old.ID, old.CreatedBy, old.CreatedDate, old.Enabled
	t.LastExecutionStatus, t.LastExecutionTime, t.ExecutionTimes = old.LastExecutionStatus, old.LastExecutionTime, old.ExecutionTimes
	t.LastSlot = old.LastSlot
	if !samePlan(old.Setting, t.Setting) {
		t.LastSlot = time.Time{}
		if t.Setting.ExecutionStrategy == ExecCron {
			t.LastSlot = laterOf(old.LastSlot, cmd.Time)
		}
	}
	// A REAL_TIME task's standing run has the old spec: it ends, and its
	// source starts a new one with the new spec (or none, if no longer
	// REAL_TIME).
	if old.ReplicaType == ReplicaRealTime {
		for _, r := range s.activeRuns(t.Key) {
			cancelRun(s, r, cmd.Time, "its task was updated")
		}
	}
	t.LastModifiedDate = cmd.Time
	s.tasks[t.Key] = t
	return t.clone(), nil
}

// samePlan compares schedules; times by instant, not by representation.
func samePlan(a, b TaskSetting) bool {
	pa, pb := a.ExecutionPlan, b.ExecutionPlan
	return a.ExecutionStrategy == b.ExecutionStrategy && pa.ExecuteImmediately == pb.ExecuteImmediately &&
		pa.CronExpression == pb.CronExpression && pa.ExecuteTime.Equal(pb.ExecuteTime)
}

// laterOf keeps a task's last slot from moving back (a new leader's clock
// may be behind the one that fired it).
func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// applyDeleteTask removes a task: it never fires again and a run of it that
// is going is asked to stop. Its ended runs stay in the run history (bounded
// like every run) for audit.
func applyDeleteTask(s *state, cmd Command) (any, error) {
	var p TaskRef
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "task.delete: %v", err)
	}
	if _, ok := s.tasks[p.Key]; !ok {
		return nil, errorf(KindNotFound, "task %s not found", p.Key)
	}
	delete(s.tasks, p.Key)
	for _, r := range s.activeRuns(p.Key) {
		cancelRun(s, r, cmd.Time, "its task was deleted")
	}
	s.pruneRuns(cmd.Time)
	return nil, nil
}

// applyToggleTask enables or disables a task. A cron task counts its slots
// from the moment it is enabled: slots that came due while it was disabled
// never fire. Disabling stops a REAL_TIME task's standing run.
func applyToggleTask(s *state, cmd Command) (any, error) {
	var p ToggleTask
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "task.toggle: %v", err)
	}
	t, ok := s.tasks[p.Key]
	if !ok {
		return nil, errorf(KindNotFound, "task %s not found", p.Key)
	}
	enabled := !t.Enabled
	if p.Enabled != nil {
		enabled = *p.Enabled
	}
	if enabled && !t.Enabled && t.Setting.ExecutionStrategy == ExecCron {
		t.LastSlot = laterOf(t.LastSlot, cmd.Time)
	}
	if !enabled && t.ReplicaType == ReplicaRealTime {
		for _, r := range s.activeRuns(t.Key) {
			cancelRun(s, r, cmd.Time, "its task was disabled")
		}
	}
	t.Enabled, t.LastModifiedBy, t.LastModifiedDate = enabled, p.By, cmd.Time
	s.tasks[t.Key] = t
	return t.clone(), nil
}

// taskRunEnded records a run's outcome on its task.
func taskRunEnded(s *state, r Run) {
	t, ok := s.tasks[r.TaskKey]
	if !ok || r.State == RunSkipped {
		return
	}
	switch r.State {
	case RunSuccess:
		t.LastExecutionStatus = string(RunSuccess)
	default:
		t.LastExecutionStatus = string(RunFailed)
	}
	s.tasks[t.Key] = t
}

// activeRuns are a task's runs that have not ended, by id.
func (s *state) activeRuns(key string) []Run {
	var out []Run
	for _, r := range s.runs {
		if r.TaskKey == key && !r.State.Terminal() {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Run) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Tasks lists every task ordered by creation, then key.
func (f *FSM) Tasks() []Task {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Task, 0, len(f.s.tasks))
	for _, t := range f.s.tasks {
		out = append(out, t.clone())
	}
	slices.SortFunc(out, func(a, b Task) int {
		if c := a.CreatedDate.Compare(b.CreatedDate); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// TaskNamed is the task of that name, in any project.
func (f *FSM) TaskNamed(name string) (Task, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	t, ok := f.s.taskNamed(name)
	return t.clone(), ok
}

// Task returns one task.
func (f *FSM) Task(key string) (Task, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	t, ok := f.s.tasks[key]
	return t.clone(), ok
}

func sortedTasks(m map[string]Task) []Task {
	out := make([]Task, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}
