package fsm

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// RunState is where a run is in its life.
type RunState string

const (
	RunWaiting  RunState = "WAITING"
	RunRunning  RunState = "RUNNING"
	RunSuccess  RunState = "SUCCESS"
	RunFailed   RunState = "FAILED"
	RunCanceled RunState = "CANCELED"
)

// Terminal reports whether the run has ended.
func (s RunState) Terminal() bool {
	return s == RunSuccess || s == RunFailed || s == RunCanceled || s == RunSkipped
}

// Object types, conflict and error strategies of a replication spec (the
// bkrepo task document's enums).
const (
	ObjectRepository = "REPOSITORY"
	ObjectPackage    = "PACKAGE"
	ObjectPath       = "PATH"

	ConflictSkip      = "SKIP"
	ConflictOverwrite = "OVERWRITE"
	ConflictFastFail  = "FAST_FAIL"

	ErrorContinue = "CONTINUE"
	ErrorFastFail = "FAST_FAIL"
)

// ReplicaSpec says what a run replicates, from where, to where and how.
type ReplicaSpec struct {
	SourceCluster     string          `json:"sourceClusterId"`
	LocalProjectID    string          `json:"localProjectId"`
	ReplicaObjectType string          `json:"replicaObjectType"`
	Objects           []ReplicaObject `json:"replicaTaskObjects"`
	RemoteClusterIDs  []string        `json:"remoteClusterIds"`
	Setting           ReplicaSetting  `json:"setting"`
}

// ReplicaObject is one repository of a spec with its constraints.
type ReplicaObject struct {
	LocalRepoName      string              `json:"localRepoName"`
	RemoteProjectID    string              `json:"remoteProjectId"`
	RemoteRepoName     string              `json:"remoteRepoName"`
	RepoType           string              `json:"repoType"`
	PackageConstraints []PackageConstraint `json:"packageConstraints,omitempty"`
	PathConstraints    []PathConstraint    `json:"pathConstraints,omitempty"`
	// FromSeq, on a REAL_TIME task, is the source repository's change-log
	// position the task starts after: what happened before it is not the
	// task's (an SWR rule replicates the pushes made after it exists).
	FromSeq uint64 `json:"fromSeq,omitempty"`
}

// PackageConstraint names a package and, optionally, some of its versions.
type PackageConstraint struct {
	PackageKey string   `json:"packageKey"`
	Versions   []string `json:"versions,omitempty"`
}

// PathConstraint is a file or folder of the repository.
type PathConstraint struct {
	Path string `json:"path"`
}

// UnmarshalJSON also takes a plain string, as users write path lists.
func (p *PathConstraint) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		p.Path = s
		return nil
	}
	type plain PathConstraint
	return json.Unmarshal(b, (*plain)(p))
}

// ReplicaSetting are the transfer settings of a spec.
type ReplicaSetting struct {
	// RateLimit is bytes per second per target; 0 is unlimited.
	RateLimit        int64  `json:"rateLimit"`
	IncludeMetadata  bool   `json:"includeMetadata"`
	ConflictStrategy string `json:"conflictStrategy"`
	ErrorStrategy    string `json:"errorStrategy"`
}

// TargetProgress is a run's progress towards one remote cluster.
type TargetProgress struct {
	ClusterID      string   `json:"clusterId"`
	State          RunState `json:"state"`
	ObjectsTotal   int64    `json:"objectsTotal"`
	ObjectsDone    int64    `json:"objectsDone"`
	ObjectsSkipped int64    `json:"objectsSkipped"`
	ObjectsFailed  int64    `json:"objectsFailed"`
	Conflicts      int64    `json:"conflicts"`
	BytesTotal     int64    `json:"bytesTotal"`
	BytesDone      int64    `json:"bytesDone"`
	BytesSkipped   int64    `json:"bytesSkipped"`
	BytesFailed    int64    `json:"bytesFailed"`
	BytesSent      int64    `json:"bytesSent"`
	BytesPerSecond int64    `json:"bytesPerSecond"`
	Error          string   `json:"error,omitempty"`
}

// Run is one execution of a replication spec.
type Run struct {
	ID      string `json:"id"`
	TaskKey string `json:"taskKey"`
	Trigger string `json:"trigger"`
	// Slot is the scheduled time the run fired for (SCHEDULED runs).
	Slot     time.Time   `json:"slot,omitzero"`
	Spec     ReplicaSpec `json:"spec"`
	State    RunState    `json:"state"`
	Executor string      `json:"executorClusterId"`
	// CreatedBy names the caller; times are stamped by the leader.
	CreatedBy       string           `json:"createdBy"`
	CreatedAt       time.Time        `json:"createdAt"`
	StartedAt       time.Time        `json:"startedAt,omitzero"`
	FinishedAt      time.Time        `json:"finishedAt,omitzero"`
	CancelRequested bool             `json:"cancelRequested"`
	Error           string           `json:"error,omitempty"`
	Targets         []TargetProgress `json:"targets"`
	// Feed, on a Pulp sync, is what the run fetches (fsm/pulpsync.go).
	Feed *FeedSpec `json:"feed,omitempty"`
	// PulpContent, on a run that installs a Pulp consumer's units in its
	// region, names the consumer and the action.
	PulpContent *PulpContent `json:"pulpContent,omitempty"`
	// Index is the log index of the run's last change: watchers compare it.
	Index uint64 `json:"index"`
}

func (r Run) clone() Run {
	r.Spec.Objects = slices.Clone(r.Spec.Objects)
	r.Spec.RemoteClusterIDs = slices.Clone(r.Spec.RemoteClusterIDs)
	r.Targets = slices.Clone(r.Targets)
	if r.Feed != nil {
		f := *r.Feed
		r.Feed = &f
	}
	if r.PulpContent != nil {
		p := *r.PulpContent
		r.PulpContent = &p
	}
	return r
}

// Triggers of a run.
const (
	TriggerManual = "MANUAL"
)

// maxFinishedRuns bounds the ended runs kept in the state; the oldest go first.
const maxFinishedRuns = 1000

// Payloads of the run commands.
type (
	// RunProgress reports counters (CmdRunProgress) or, with a terminal
	// State, the end of the run (CmdFinishRun).
	RunProgress struct {
		ID       string           `json:"id"`
		Executor string           `json:"executorClusterId"`
		State    RunState         `json:"state,omitempty"`
		Error    string           `json:"error,omitempty"`
		Targets  []TargetProgress `json:"targets,omitempty"`
	}
	// RunRef names a run (CmdStartRun, CmdCancelRun).
	RunRef struct {
		ID       string `json:"id"`
		Executor string `json:"executorClusterId,omitempty"`
	}
)

// ValidateSpec checks a spec against the cluster registry. It is pure, so the
// agent that takes a request and Apply give the same answer.
func ValidateSpec(sp ReplicaSpec, clusters map[string]ClusterRecord) error {
	switch {
	case sp.SourceCluster == "":
		return FieldError("sourceClusterId", "it is required")
	case sp.LocalProjectID == "":
		return FieldError("localProjectId", "it is required")
	case len(sp.Objects) == 0:
		return FieldError("replicaTaskObjects", "it must name at least one repository")
	case len(sp.RemoteClusterIDs) == 0:
		return FieldError("remoteClusterIds", "it must name at least one cluster")
	case sp.Setting.RateLimit < 0:
		return FieldError("setting.rateLimit", "it must be 0 (unlimited) or a positive number of bytes per second")
	}
	if _, ok := clusters[sp.SourceCluster]; !ok {
		return FieldError("sourceClusterId", "%q is not a registered cluster", sp.SourceCluster)
	}
	switch sp.ReplicaObjectType {
	case ObjectRepository, ObjectPackage, ObjectPath:
	default:
		return FieldError("replicaObjectType", "%q is not one of REPOSITORY, PACKAGE, PATH", sp.ReplicaObjectType)
	}
	switch sp.Setting.ConflictStrategy {
	case ConflictSkip, ConflictOverwrite, ConflictFastFail:
	default:
		return FieldError("setting.conflictStrategy", "%q is not one of SKIP, OVERWRITE, FAST_FAIL", sp.Setting.ConflictStrategy)
	}
	switch sp.Setting.ErrorStrategy {
	case ErrorContinue, ErrorFastFail:
	default:
		return FieldError("setting.errorStrategy", "%q is not one of CONTINUE, FAST_FAIL", sp.Setting.ErrorStrategy)
	}
	seen := map[string]bool{}
	for _, id := range sp.RemoteClusterIDs {
		switch {
		case id == sp.SourceCluster:
			return FieldError("remoteClusterIds", "%q is the source cluster itself", id)
		case seen[id]:
			return FieldError("remoteClusterIds", "%q is named twice", id)
		}
		if _, ok := clusters[id]; !ok {
			e := FieldError("remoteClusterIds", "%q is not a registered cluster", id)
			e.Rule = RuleUnknownCluster
			return e
		}
		seen[id] = true
	}
	for i, o := range sp.Objects {
		if o.LocalRepoName == "" {
			return FieldError(fmt.Sprintf("replicaTaskObjects[%d].localRepoName", i), "it is required")
		}
		if o.RemoteProjectID == "" || o.RemoteRepoName == "" {
			return FieldError(fmt.Sprintf("replicaTaskObjects[%d]", i), "remoteProjectId and remoteRepoName are required")
		}
		if err := validateConstraints(sp.ReplicaObjectType, i, o); err != nil {
			return err
		}
	}
	return nil
}

// validateConstraints checks what one object of a PACKAGE or PATH spec
// selects. A PACKAGE object may name files beside its packages (a Pulp
// consumer's units are both, copied in one run), so it needs one or the
// other; a task's PACKAGE object never does (Task.Spec).
func validateConstraints(typ string, i int, o ReplicaObject) error {
	switch {
	case typ == ObjectPackage && len(o.PackageConstraints) == 0 && len(o.PathConstraints) == 0:
		return FieldError(fmt.Sprintf("replicaTaskObjects[%d].packageConstraints", i), "it is required when replicaObjectType is PACKAGE")
	case typ == ObjectPath && len(o.PathConstraints) == 0:
		return FieldError(fmt.Sprintf("replicaTaskObjects[%d].pathConstraints", i), "it is required when replicaObjectType is PATH")
	case typ != ObjectPackage && typ != ObjectPath:
		return nil
	}
	for j, c := range o.PackageConstraints {
		if typ == ObjectPackage && c.PackageKey == "" {
			return FieldError(fmt.Sprintf("replicaTaskObjects[%d].packageConstraints[%d].packageKey", i, j), "it is required")
		}
	}
	for j, c := range o.PathConstraints {
		if !strings.HasPrefix(c.Path, "/") {
			return FieldError(fmt.Sprintf("replicaTaskObjects[%d].pathConstraints[%d].path", i, j), "%q must start with /", c.Path)
		}
	}
	return nil
}

func applyCreateRun(s *state, cmd Command) (any, error) {
	var r Run
	if err := json.Unmarshal(cmd.Payload, &r); err != nil {
		return nil, errorf(KindInvalid, "run.create: %v", err)
	}
	if r.ID == "" {
		return nil, errorf(KindInvalid, "run.create: id is required")
	}
	if _, ok := s.runs[r.ID]; ok {
		return nil, errorf(KindConflict, "run %s already exists", r.ID)
	}
	if err := ValidateSpec(r.Spec, s.clusters); err != nil {
		return nil, err
	}
	// Task runs come only from task.fire, feed runs from pulp.sync.
	r.Trigger, r.TaskKey, r.Slot, r.Feed = TriggerManual, "", time.Time{}, nil
	r.State, r.Executor, r.CreatedAt = RunWaiting, r.Spec.SourceCluster, cmd.Time
	r.StartedAt, r.FinishedAt, r.CancelRequested, r.Error = time.Time{}, time.Time{}, false, ""
	r.Targets = nil
	for _, id := range r.Spec.RemoteClusterIDs {
		r.Targets = append(r.Targets, TargetProgress{ClusterID: id, State: RunWaiting})
	}
	s.putRun(r)
	s.pruneRuns(cmd.Time)
	return r.clone(), nil
}

// runOf finds a run the executor named in the payload may change.
func runOf(s *state, id, executor string) (Run, error) {
	r, ok := s.runs[id]
	if !ok {
		return Run{}, errorf(KindNotFound, "run %s not found", id)
	}
	if executor != "" && r.Executor != executor {
		return Run{}, errorf(KindConflict, "run %s is executed by %s, not %s", id, r.Executor, executor)
	}
	if r.State.Terminal() {
		return Run{}, errorf(KindConflict, "run %s has already ended (%s)", id, r.State)
	}
	return r, nil
}

func applyStartRun(s *state, cmd Command) (any, error) {
	var p RunRef
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "run.start: %v", err)
	}
	r, err := runOf(s, p.ID, p.Executor)
	if err != nil {
		return nil, err
	}
	if r.State == RunWaiting {
		r.State, r.StartedAt = RunRunning, cmd.Time
		for i := range r.Targets {
			r.Targets[i].State = RunRunning
		}
	}
	s.putRun(r)
	return r.clone(), nil
}

func applyRunProgress(s *state, cmd Command) (any, error) {
	var p RunProgress
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "run.progress: %v", err)
	}
	r, err := runOf(s, p.ID, p.Executor)
	if err != nil {
		return nil, err
	}
	if r.State != RunRunning {
		return nil, errorf(KindConflict, "run %s is %s, not RUNNING", p.ID, r.State)
	}
	r.Targets = mergeTargets(r.Targets, p.Targets)
	s.putRun(r)
	return nil, nil
}

// applyFinishRun ends a run: the executor reports its outcome, or the leader
// fails a run whose executor is gone (Executor empty in the payload).
func applyFinishRun(s *state, cmd Command) (any, error) {
	var p RunProgress
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "run.finish: %v", err)
	}
	if !p.State.Terminal() || p.State == RunSkipped {
		return nil, errorf(KindInvalid, "run.finish: state %q is not SUCCESS, FAILED or CANCELED", p.State)
	}
	r, err := runOf(s, p.ID, p.Executor)
	if err != nil {
		return nil, err
	}
	r.Targets = mergeTargets(r.Targets, p.Targets)
	for i := range r.Targets {
		if !r.Targets[i].State.Terminal() {
			r.Targets[i].State = p.State
		}
		r.Targets[i].BytesPerSecond = 0
	}
	r.State, r.Error, r.FinishedAt = p.State, p.Error, cmd.Time
	if r.StartedAt.IsZero() {
		r.StartedAt = cmd.Time
	}
	s.putRun(r)
	taskRunEnded(s, r)
	s.pulpRunEnded(r)
	s.pruneRuns(cmd.Time)
	return r.clone(), nil
}

// applyCancelRun ends a waiting run at once; a running one is asked to stop
// and its executor reports CANCELED when it has.
func applyCancelRun(s *state, cmd Command) (any, error) {
	var p RunRef
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "run.cancel: %v", err)
	}
	r, err := runOf(s, p.ID, "")
	if err != nil {
		return nil, err
	}
	return cancelRun(s, r, cmd.Time, "canceled before it started").clone(), nil
}

// cancelRun asks r to stop; a run that has not started ends at once.
func cancelRun(s *state, r Run, at time.Time, reason string) Run {
	r.CancelRequested = true
	if r.State == RunWaiting {
		r.State, r.FinishedAt, r.Error = RunCanceled, at, reason
		for i := range r.Targets {
			r.Targets[i].State = RunCanceled
		}
	}
	s.putRun(r)
	if r.State.Terminal() {
		taskRunEnded(s, r)
		s.pulpRunEnded(r)
		s.pruneRuns(at)
	}
	return r
}

// mergeTargets replaces the counters of the targets reported.
func mergeTargets(have, got []TargetProgress) []TargetProgress {
	out := slices.Clone(have)
	for _, g := range got {
		for i := range out {
			if out[i].ClusterID == g.ClusterID {
				out[i] = g
			}
		}
	}
	return out
}

func (s *state) putRun(r Run) {
	r.Index = s.applying
	s.runs[r.ID] = r
}

// RunFilter selects runs.
type RunFilter struct {
	State    RunState
	TaskKey  string
	Executor string
	// Projects, when set, keeps the runs of those source projects only.
	Projects []string
}

// Runs lists the runs that match, newest first.
func (f *FSM) Runs(filter RunFilter) []Run {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []Run
	for _, r := range f.s.runs {
		if (filter.State == "" || r.State == filter.State) && (filter.TaskKey == "" || r.TaskKey == filter.TaskKey) &&
			(len(filter.Projects) == 0 || slices.Contains(filter.Projects, r.Spec.LocalProjectID)) &&
			(filter.Executor == "" || r.Executor == filter.Executor) {
			out = append(out, r.clone())
		}
	}
	slices.SortFunc(out, func(a, b Run) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

// Run returns one run.
func (f *FSM) Run(id string) (Run, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r, ok := f.s.runs[id]
	return r.clone(), ok
}

// Changed returns a channel closed at the next applied index.
func (f *FSM) Changed() <-chan struct{} {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.applied
}

func sortedRuns(m map[string]Run) []Run {
	out := make([]Run, 0, len(m))
	for _, id := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[id])
	}
	return out
}
