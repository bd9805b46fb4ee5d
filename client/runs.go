package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// The states of a run. A run's targets are WAITING, RUNNING, SUCCESS or
// FAILED, never CANCELED.
const (
	RunWaiting  = "WAITING"
	RunRunning  = "RUNNING"
	RunSuccess  = "SUCCESS"
	RunFailed   = "FAILED"
	RunCanceled = "CANCELED"
)

// The values of RunSpec.ReplicaObjectType.
const (
	ReplicaRepository = "REPOSITORY" // everything in each repository
	ReplicaPackage    = "PACKAGE"    // the versions named in PackageConstraints (and a run's PathConstraints)
	ReplicaPath       = "PATH"       // the files under each of PathConstraints
)

// The values of RunSetting.ConflictStrategy and RunSetting.ErrorStrategy.
const (
	ConflictSkip      = "SKIP"
	ConflictOverwrite = "OVERWRITE"
	ConflictFastFail  = "FAST_FAIL"
	ErrorContinue     = "CONTINUE"
	ErrorFastFail     = "FAST_FAIL"
)

// RunSpec is what POST /v1/runs replicates: the bkrepo task document.
type RunSpec struct {
	// SourceClusterID defaults to the cluster of the agent taking the request.
	SourceClusterID    string          `json:"sourceClusterId,omitempty"`
	LocalProjectID     string          `json:"localProjectId"`
	ReplicaObjectType  string          `json:"replicaObjectType"`
	ReplicaTaskObjects []ReplicaObject `json:"replicaTaskObjects"`
	RemoteClusterIDs   []string        `json:"remoteClusterIds"`
	Setting            RunSetting      `json:"setting"`
}

// ReplicaObject is one repository of a run. RemoteProjectID and
// RemoteRepoName default to the local names; the target project and
// repository are created when missing.
type ReplicaObject struct {
	LocalRepoName      string              `json:"localRepoName"`
	RemoteProjectID    string              `json:"remoteProjectId,omitempty"`
	RemoteRepoName     string              `json:"remoteRepoName,omitempty"`
	RepoType           string              `json:"repoType,omitempty"`
	PackageConstraints []PackageConstraint `json:"packageConstraints,omitempty"`
	PathConstraints    []PathConstraint    `json:"pathConstraints,omitempty"`
}

// PackageConstraint names a package of a PACKAGE run; no Versions means
// every version.
type PackageConstraint struct {
	PackageKey string   `json:"packageKey"`
	Versions   []string `json:"versions,omitempty"`
}

// PathConstraint names a folder or file of a PATH run.
type PathConstraint struct {
	Path string `json:"path"`
}

// UnmarshalJSON accepts a plain string "/a/b" for {"path": "/a/b"}, as the
// agent does.
func (p *PathConstraint) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		p.Path = s
		return nil
	}
	type plain PathConstraint
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = PathConstraint(v)
	return nil
}

// RunSetting tunes a run. Empty strategies and a nil IncludeMetadata leave
// the agent's defaults (SKIP, CONTINUE, true).
type RunSetting struct {
	RateLimit        int64  `json:"rateLimit"` // bytes per second per target; 0 = unlimited
	IncludeMetadata  *bool  `json:"includeMetadata,omitempty"`
	ConflictStrategy string `json:"conflictStrategy,omitempty"`
	ErrorStrategy    string `json:"errorStrategy,omitempty"`
}

// Metadata reports whether the run copies metadata (the default).
func (s RunSetting) Metadata() bool { return s.IncludeMetadata == nil || *s.IncludeMetadata }

// Run is a replication run as the agent reports it. StartedAt and
// FinishedAt are zero until the run starts or ends.
type Run struct {
	ID                string      `json:"id"`
	TaskKey           string      `json:"taskKey"`
	Trigger           string      `json:"trigger"`
	Spec              RunSpec     `json:"spec"`
	State             string      `json:"state"`
	ExecutorClusterID string      `json:"executorClusterId"`
	CreatedBy         string      `json:"createdBy"`
	CreatedAt         time.Time   `json:"createdAt,omitzero"`
	StartedAt         time.Time   `json:"startedAt,omitzero"`
	FinishedAt        time.Time   `json:"finishedAt,omitzero"`
	CancelRequested   bool        `json:"cancelRequested"`
	Error             string      `json:"error"`
	Targets           []RunTarget `json:"targets"`
}

// Finished reports whether the run reached SUCCESS, FAILED or CANCELED.
func (r Run) Finished() bool {
	switch r.State {
	case RunSuccess, RunFailed, RunCanceled:
		return true
	}
	return false
}

// RunTarget is a run's progress towards one remote cluster.
//
// ObjectsDone/BytesDone count what arrived (sent, or linked from content the
// target already held); ObjectsSkipped/BytesSkipped what was already
// identical there or a conflict skipped by SKIP. BytesSent is what went over
// the wire; Conflicts the paths that held different content. BytesPerSecond
// is the current sending rate.
type RunTarget struct {
	ClusterID      string `json:"clusterId"`
	State          string `json:"state"`
	ObjectsTotal   int64  `json:"objectsTotal"`
	ObjectsDone    int64  `json:"objectsDone"`
	ObjectsSkipped int64  `json:"objectsSkipped"`
	ObjectsFailed  int64  `json:"objectsFailed"`
	Conflicts      int64  `json:"conflicts"`
	BytesTotal     int64  `json:"bytesTotal"`
	BytesDone      int64  `json:"bytesDone"`
	BytesSkipped   int64  `json:"bytesSkipped"`
	BytesFailed    int64  `json:"bytesFailed"`
	BytesSent      int64  `json:"bytesSent"`
	BytesPerSecond int64  `json:"bytesPerSecond"`
	Error          string `json:"error"`
}

// RunObject is what happened to one object of a run at one target. Status
// is SUCCESS, SKIPPED or FAILED; Action sent, linked, identical, metadata,
// conflict or error.
type RunObject struct {
	Target     string    `json:"target"`
	Path       string    `json:"path"`
	PackageKey string    `json:"packageKey"`
	Version    string    `json:"version"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Status     string    `json:"status"`
	Action     string    `json:"action"`
	Error      string    `json:"error"`
	Time       time.Time `json:"time,omitzero"`
}

// RunPage is one page of runs, newest first. Page numbers start at 1.
type RunPage struct {
	PageNumber   int   `json:"pageNumber"`
	PageSize     int   `json:"pageSize"`
	TotalRecords int64 `json:"totalRecords"`
	TotalPages   int64 `json:"totalPages"`
	Records      []Run `json:"records"`
}

// ObjectPage is one page of a run's objects.
type ObjectPage struct {
	PageNumber   int         `json:"pageNumber"`
	PageSize     int         `json:"pageSize"`
	TotalRecords int64       `json:"totalRecords"`
	TotalPages   int64       `json:"totalPages"`
	Records      []RunObject `json:"records"`
}

// RunQuery filters Runs. Zero fields are left to the agent.
type RunQuery struct {
	State      string
	TaskKey    string
	PageNumber int
	PageSize   int
}

// ObjectQuery filters RunObjects. Zero fields are left to the agent.
type ObjectQuery struct {
	Status     string
	Target     string
	PageNumber int
	PageSize   int
}

// runPath is /v1/runs/{id}.
func runPath(id string) (string, error) {
	s, err := escapeSegment("run id", id)
	return "/v1/runs/" + s, err
}

// StartRun starts a run through POST /v1/runs and returns it as accepted.
func (c *Client) StartRun(ctx context.Context, spec RunSpec) (Run, error) {
	return call[Run](ctx, c, http.MethodPost, route{path: "/v1/runs"}, spec)
}

// Runs returns one page of runs, newest first, through GET /v1/runs.
func (c *Client) Runs(ctx context.Context, q RunQuery) (RunPage, error) {
	v := query(q.PageNumber, q.PageSize, "state", q.State, "taskKey", q.TaskKey)
	return call[RunPage](ctx, c, http.MethodGet, route{path: "/v1/runs"}.with(v), nil)
}

// Run returns a run through GET /v1/runs/{id}.
func (c *Client) Run(ctx context.Context, id string) (Run, error) {
	return call[Run](ctx, c, http.MethodGet, at(runPath(id)), nil)
}

// RunObjects returns one page of a run's objects through
// GET /v1/runs/{id}/objects; the executor serves it through any agent.
func (c *Client) RunObjects(ctx context.Context, id string, q ObjectQuery) (ObjectPage, error) {
	v := query(q.PageNumber, q.PageSize, "status", q.Status, "target", q.Target)
	return call[ObjectPage](ctx, c, http.MethodGet, at(runPath(id)).sub("/objects").with(v), nil)
}

// CancelRun asks for a run to stop through POST /v1/runs/{id}/cancel and
// returns the run. A run that already ended answers an *Error with Status 409.
func (c *Client) CancelRun(ctx context.Context, id string) (Run, error) {
	return call[Run](ctx, c, http.MethodPost, at(runPath(id)).sub("/cancel"), nil)
}
