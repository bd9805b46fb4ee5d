package api

import (
	"slices"
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// TaskRequest creates or updates a task: the bk-repo create body plus
// sourceClusterId, replicateDeletes and runHistory. Absent fields take the
// document's defaults (NewTaskRequest).
type TaskRequest struct {
	Name              string              `json:"name"`
	LocalProjectID    string              `json:"localProjectId"`
	SourceClusterID   string              `json:"sourceClusterId,omitempty"`
	ReplicaObjectType string              `json:"replicaObjectType"`
	Objects           []fsm.ReplicaObject `json:"replicaTaskObjects"`
	ReplicaType       string              `json:"replicaType"`
	Setting           fsm.TaskSetting     `json:"setting"`
	RemoteClusterIDs  []string            `json:"remoteClusterIds"`
	Enabled           bool                `json:"enabled"`
	Description       string              `json:"description"`
	ReplicateDeletes  bool                `json:"replicateDeletes"`
	RunHistory        int                 `json:"runHistory,omitempty"`
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
	}
}

// ClusterRef names a cluster, as bk-repo's remoteClusters do.
type ClusterRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TaskView is a task as the API shows it: with the remote clusters' names
// and when the scheduler will fire it next.
type TaskView struct {
	fsm.Task
	RemoteClusters    []ClusterRef `json:"remoteClusters"`
	NextExecutionTime time.Time    `json:"nextExecutionTime,omitzero"`
}

// TaskFilter selects and orders tasks (bk-repo's page query).
type TaskFilter struct {
	ProjectID           string
	NamePrefix          string
	LastExecutionStatus string
	Enabled             *bool
	// SortType: CREATED_TIME (default), LAST_EXECUTION_TIME, NEXT_EXECUTION_TIME.
	SortType string
}
