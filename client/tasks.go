package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The values of Task.ReplicaType.
const (
	TaskScheduled = "SCHEDULED" // runs as Setting.ExecutionStrategy says
	TaskRealTime  = "REAL_TIME" // a standing run that follows every change
)

// The values of TaskSetting.ExecutionStrategy, for SCHEDULED tasks.
const (
	ExecImmediately   = "IMMEDIATELY"     // once, as soon as the task exists
	ExecSpecifiedTime = "SPECIFIED_TIME"  // once, at ExecutionPlan.ExecuteTime
	ExecCron          = "CRON_EXPRESSION" // at each slot of ExecutionPlan.CronExpression
)

// The values of TaskQuery.SortType; the list is newest first either way.
const (
	SortCreatedTime       = "CREATED_TIME"
	SortLastExecutionTime = "LAST_EXECUTION_TIME"
	SortNextExecutionTime = "NEXT_EXECUTION_TIME"
)

// ExecutionPlan says when a SCHEDULED task runs.
type ExecutionPlan struct {
	ExecuteImmediately bool      `json:"executeImmediately"`
	ExecuteTime        time.Time `json:"executeTime,omitzero"`
	CronExpression     string    `json:"cronExpression,omitempty"`
}

// TaskSetting is a task's transfer settings (as a run's) and when it runs.
// In a TaskRequest an empty ExecutionStrategy and a zero ExecutionPlan leave
// the agent's defaults (IMMEDIATELY).
type TaskSetting struct {
	RunSetting
	ExecutionStrategy string        `json:"executionStrategy,omitempty"`
	ExecutionPlan     ExecutionPlan `json:"executionPlan,omitzero"`
}

// ClusterRef names a cluster.
type ClusterRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TaskRequest creates or replaces a task through POST /v1/tasks or
// PUT /v1/tasks/{key}. Empty fields take the agent's defaults: the addressed
// agent's cluster as the source, replicaType SCHEDULED, enabled, and the
// defaults of TaskSetting and RunSetting.
type TaskRequest struct {
	Name               string          `json:"name"`
	LocalProjectID     string          `json:"localProjectId"`
	SourceClusterID    string          `json:"sourceClusterId,omitempty"`
	ReplicaObjectType  string          `json:"replicaObjectType"`
	ReplicaTaskObjects []ReplicaObject `json:"replicaTaskObjects"`
	ReplicaType        string          `json:"replicaType,omitempty"`
	Setting            TaskSetting     `json:"setting,omitzero"`
	RemoteClusterIDs   []string        `json:"remoteClusterIds"`
	Enabled            *bool           `json:"enabled,omitempty"`
	Description        string          `json:"description,omitempty"`
	// ReplicateDeletes makes a REAL_TIME task delete on the targets what is
	// deleted on the source.
	ReplicateDeletes bool `json:"replicateDeletes,omitempty"`
	// KeepDifferingOnTarget makes a REAL_TIME task leave a path the target
	// holds with other content as it is (a conflict) instead of
	// overwriting it.
	KeepDifferingOnTarget bool `json:"keepDifferingOnTarget,omitempty"`
	// RunHistory is how many of its ended runs the task keeps (default: the
	// agent's).
	RunHistory int `json:"runHistory,omitempty"`
	// Record false keeps only the latest ended run; RecordReserveDays is
	// how long ended runs stay (1..60, default 30).
	Record            *bool `json:"record,omitempty"`
	RecordReserveDays int   `json:"recordReserveDays,omitempty"`
}

// Task is a replication task as the agent reports it. LastExecutionTime,
// NextExecutionTime and LastSlot are zero when the agent does not report
// them (a task that never ran, one that will not fire again).
type Task struct {
	Key                   string          `json:"key"`
	ID                    string          `json:"id"`
	Name                  string          `json:"name"`
	ProjectID             string          `json:"projectId"`
	SourceClusterID       string          `json:"sourceClusterId"`
	ReplicaObjectType     string          `json:"replicaObjectType"`
	ReplicaTaskObjects    []ReplicaObject `json:"replicaTaskObjects"`
	ReplicaType           string          `json:"replicaType"`
	Setting               TaskSetting     `json:"setting"`
	RemoteClusterIDs      []string        `json:"remoteClusterIds"`
	RemoteClusters        []ClusterRef    `json:"remoteClusters"`
	Enabled               bool            `json:"enabled"`
	Description           string          `json:"description"`
	ReplicateDeletes      bool            `json:"replicateDeletes"`
	KeepDifferingOnTarget bool            `json:"keepDifferingOnTarget,omitempty"`
	RunHistory            int             `json:"runHistory"`
	Record                *bool           `json:"record,omitempty"`
	RecordReserveDays     int             `json:"recordReserveDays,omitempty"`

	// Status is WAITING (for its next run), REPLICATING (a run is going; a
	// REAL_TIME task always is) or COMPLETED (a one-shot task that ran);
	// ReplicatedBytes and TotalBytes are its latest run's.
	Status          string `json:"status"`
	ReplicatedBytes int64  `json:"replicatedBytes"`
	TotalBytes      int64  `json:"totalBytes"`

	// LastExecutionStatus is RUNNING, SUCCESS or FAILED; empty before the
	// first run.
	LastExecutionStatus string    `json:"lastExecutionStatus,omitempty"`
	LastExecutionTime   time.Time `json:"lastExecutionTime,omitzero"`
	NextExecutionTime   time.Time `json:"nextExecutionTime,omitzero"`
	ExecutionTimes      int64     `json:"executionTimes"`
	LastSlot            time.Time `json:"lastSlot,omitzero"`

	CreatedBy        string    `json:"createdBy"`
	CreatedDate      time.Time `json:"createdDate,omitzero"`
	LastModifiedBy   string    `json:"lastModifiedBy"`
	LastModifiedDate time.Time `json:"lastModifiedDate,omitzero"`
}

// Request is the request that makes a task like t, for UpdateTask after
// changing some of it.
func (t Task) Request() TaskRequest {
	enabled := t.Enabled
	return TaskRequest{
		Name: t.Name, LocalProjectID: t.ProjectID, SourceClusterID: t.SourceClusterID,
		ReplicaObjectType: t.ReplicaObjectType, ReplicaTaskObjects: t.ReplicaTaskObjects, ReplicaType: t.ReplicaType,
		Setting: t.Setting, RemoteClusterIDs: t.RemoteClusterIDs, Enabled: &enabled, Description: t.Description,
		ReplicateDeletes: t.ReplicateDeletes, KeepDifferingOnTarget: t.KeepDifferingOnTarget, RunHistory: t.RunHistory, Record: t.Record, RecordReserveDays: t.RecordReserveDays,
	}
}

// TaskPage is one page of tasks. Page numbers start at 1.
type TaskPage struct {
	PageNumber   int    `json:"pageNumber"`
	PageSize     int    `json:"pageSize"`
	TotalRecords int64  `json:"totalRecords"`
	TotalPages   int64  `json:"totalPages"`
	Records      []Task `json:"records"`
}

// TaskQuery filters and orders Tasks. Zero fields are left to the agent.
type TaskQuery struct {
	ProjectID string
	// NamePrefix keeps the tasks whose name starts with it.
	NamePrefix string
	// LastExecutionStatus is RUNNING, SUCCESS or FAILED.
	LastExecutionStatus string
	Enabled             *bool
	// SortType is one of the Sort constants (default SortCreatedTime).
	SortType   string
	PageNumber int
	PageSize   int
}

// values is the query string of GET /v1/tasks for q.
func (q TaskQuery) values() url.Values {
	var enabled string
	if q.Enabled != nil {
		enabled = strconv.FormatBool(*q.Enabled)
	}
	return query(q.PageNumber, q.PageSize, "projectId", q.ProjectID, "name", q.NamePrefix,
		"lastExecutionStatus", q.LastExecutionStatus, "enabled", enabled, "sortType", q.SortType)
}

// taskPath is /v1/tasks/{key}.
func taskPath(key string) (string, error) {
	s, err := escapeSegment("task key", key)
	return "/v1/tasks/" + s, err
}

// CreateTask creates a task through POST /v1/tasks and returns it. A task
// that is enabled and SCHEDULED IMMEDIATELY starts its run at once.
func (c *Client) CreateTask(ctx context.Context, req TaskRequest) (Task, error) {
	return call[Task](ctx, c, http.MethodPost, route{path: "/v1/tasks"}, req)
}

// UpdateTask replaces what task key does through PUT /v1/tasks/{key} and
// returns the task; a run already going keeps the spec it started with.
func (c *Client) UpdateTask(ctx context.Context, key string, req TaskRequest) (Task, error) {
	return call[Task](ctx, c, http.MethodPut, at(taskPath(key)), req)
}

// Task returns a task through GET /v1/tasks/{key}.
func (c *Client) Task(ctx context.Context, key string) (Task, error) {
	return call[Task](ctx, c, http.MethodGet, at(taskPath(key)), nil)
}

// Tasks returns one page of tasks through GET /v1/tasks, newest first by
// q.SortType.
func (c *Client) Tasks(ctx context.Context, q TaskQuery) (TaskPage, error) {
	return call[TaskPage](ctx, c, http.MethodGet, route{path: "/v1/tasks"}.with(q.values()), nil)
}

// DeleteTask deletes a task through DELETE /v1/tasks/{key}; a run of it that
// is going is asked to stop, and its ended runs stay listed.
func (c *Client) DeleteTask(ctx context.Context, key string) error {
	p, err := taskPath(key)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodDelete, p, nil, nil)
	return err
}

// EnableTask enables a task through POST /v1/tasks/{key}/enable and returns it.
func (c *Client) EnableTask(ctx context.Context, key string) (Task, error) {
	return call[Task](ctx, c, http.MethodPost, at(taskPath(key)).sub("/enable"), nil)
}

// DisableTask disables a task through POST /v1/tasks/{key}/disable and
// returns it; a REAL_TIME task's standing run stops.
func (c *Client) DisableTask(ctx context.Context, key string) (Task, error) {
	return call[Task](ctx, c, http.MethodPost, at(taskPath(key)).sub("/disable"), nil)
}

// ExecuteTask starts a run of a task now through
// POST /v1/tasks/{key}/execute and returns the run as accepted. A task with
// a run going answers an *Error with Status 409.
func (c *Client) ExecuteTask(ctx context.Context, key string) (Run, error) {
	return call[Run](ctx, c, http.MethodPost, at(taskPath(key)).sub("/execute"), nil)
}

// CopyTask creates a task (with a new key) doing what task key does, named
// name, through POST /v1/tasks/{key}/copy, and returns it.
func (c *Client) CopyTask(ctx context.Context, key, name, description string) (Task, error) {
	body := struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}{name, description}
	return call[Task](ctx, c, http.MethodPost, at(taskPath(key)).sub("/copy"), body)
}

// TaskRuns returns one page of a task's runs, newest first, through
// GET /v1/tasks/{key}/runs. Zero page numbers and sizes are left to the
// agent.
func (c *Client) TaskRuns(ctx context.Context, key string, pageNumber, pageSize int) (RunPage, error) {
	return call[RunPage](ctx, c, http.MethodGet, at(taskPath(key)).sub("/runs").with(query(pageNumber, pageSize)), nil)
}
