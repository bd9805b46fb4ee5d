package api

import (
	"slices"
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// TaskRequest creates or updates a task: the bk-repo create body plus
// sourceClusterId, replicateDeletes, keepDifferingOnTarget and runHistory. Absent fields take the
// document's defaults (NewTaskRequest).
type TaskRequest struct {
	Name                  string              `json:"name"`
	LocalProjectID        string              `json:"localProjectId"`
	SourceClusterID       string              `json:"sourceClusterId,omitempty"`
	ReplicaObjectType     string              `json:"replicaObjectType"`
	Objects               []fsm.ReplicaObject `json:"replicaTaskObjects"`
	ReplicaType           string              `json:"replicaType"`
	Setting               fsm.TaskSetting     `json:"setting"`
	RemoteClusterIDs      []string            `json:"remoteClusterIds"`
	Enabled               bool                `json:"enabled"`
	Description           string              `json:"description"`
	ReplicateDeletes      bool                `json:"replicateDeletes"`
	KeepDifferingOnTarget bool                `json:"keepDifferingOnTarget,omitempty"`
	RunHistory            int                 `json:"runHistory,omitempty"`
	Record                *bool               `json:"record,omitempty"`
	RecordReserveDays     int                 `json:"recordReserveDays,omitempty"`
}

// UpdateOptions are the rules a caller asks of an update besides the
// task's own (bk-repo's update asks both).
type UpdateOptions struct {
	// IfNeverRun refuses the update of a task that has run
	// (fsm.RuleTaskHasRun).
	IfNeverRun bool
	// NameUnchecked accepts a name another task has.
	NameUnchecked bool
}

// NewTaskRequest has the bk-repo document's defaults.
func NewTaskRequest() TaskRequest {
	return TaskRequest{
		ReplicaType: fsm.ReplicaScheduled, Enabled: true,
		Setting: fsm.TaskSetting{
			ReplicaSetting:    fsm.ReplicaSetting{IncludeMetadata: true, ConflictStrategy: fsm.ConflictSkip, ErrorStrategy: fsm.ErrorContinue},
			ExecutionStrategy: fsm.ExecImmediately, ExecutionPlan: fsm.ExecutionPlan{ExecuteImmediately: true},
		},
	}
}

// TaskRequestOf is the request that would write t as it is: what an update
// starts from, and a copy.
func TaskRequestOf(t fsm.Task) TaskRequest {
	return TaskRequest{
		Name: t.Name, LocalProjectID: t.ProjectID, SourceClusterID: t.SourceCluster, ReplicaObjectType: t.ReplicaObjectType,
		Objects: slices.Clone(t.Objects), ReplicaType: t.ReplicaType, Setting: t.Setting, RemoteClusterIDs: slices.Clone(t.RemoteClusterIDs),
		Enabled: t.Enabled, Description: t.Description, ReplicateDeletes: t.ReplicateDeletes, RunHistory: t.RunHistory,
		KeepDifferingOnTarget: t.KeepDifferingOnTarget, Record: t.Record, RecordReserveDays: t.RecordReserveDays,
	}
}

// ClusterRef names a cluster, as bk-repo's remoteClusters do.
type ClusterRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TaskView is a task as the API shows it: with the remote clusters' names,
// when the scheduler will fire it next, its status and the bytes of its
// latest run.
type TaskView struct {
	fsm.Task
	RemoteClusters    []ClusterRef `json:"remoteClusters"`
	NextExecutionTime time.Time    `json:"nextExecutionTime,omitzero"`
	Status            TaskStatus   `json:"status"`
	// ReplicatedBytes and TotalBytes are the latest run's, over its targets.
	ReplicatedBytes int64 `json:"replicatedBytes"`
	TotalBytes      int64 `json:"totalBytes"`
}

// TaskStatus is where a task is in its life (bk-repo's ReplicaStatus).
type TaskStatus string

const (
	// TaskWaiting: the task waits for its next run (a cron task between
	// runs, a one-shot task before it fires).
	TaskWaiting TaskStatus = "WAITING"
	// TaskReplicating: a run is going; a REAL_TIME task always replicates.
	TaskReplicating TaskStatus = "REPLICATING"
	// TaskCompleted: a one-shot task that has run and will not again.
	TaskCompleted TaskStatus = "COMPLETED"
)

// TaskFilter selects and orders tasks (bk-repo's page query).
type TaskFilter struct {
	ProjectID string
	// Projects, when set, keeps the tasks of those projects only (the
	// caller's scope).
	Projects            []string
	NamePrefix          string
	LastExecutionStatus string
	Enabled             *bool
	// SortType: CREATED_TIME (default), LAST_EXECUTION_TIME, NEXT_EXECUTION_TIME.
	SortType string
	// Ascending sorts oldest first; the default is newest first.
	Ascending bool
}
