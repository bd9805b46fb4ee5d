package bkrepo

import (
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
)

// What the dialect answers, in bk-repo's shapes. The task shapes are the
// bk-repo document's (ReplicaTaskInfo, ReplicaTaskDetail, ReplicaObjectInfo);
// the others follow TencentBlueKing/bk-repo's sources under
// src/backend/replication/api-replication/src/main/kotlin/com/tencent/bkrepo/
// replication/pojo/: record/ReplicaRecordInfo.kt, record/ReplicaTaskRecordInfo.kt,
// record/ReplicaRecordDetail.kt, record/ReplicaProgress.kt,
// record/ReplicaCount.kt, record/ReplicaOverview.kt, record/ExecutionStatus.kt,
// cluster/ClusterNodeInfo.kt, cluster/ClusterNodeStatus.kt and
// cluster/ClusterNodeType.kt. Kotlin's nullable fields are null here too.

// TaskInfo is bk-repo's ReplicaTaskInfo.
type TaskInfo struct {
	ID                  string           `json:"id"`
	Key                 string           `json:"key"`
	Name                string           `json:"name"`
	ProjectID           string           `json:"projectId"`
	ReplicaObjectType   string           `json:"replicaObjectType"`
	ReplicaType         string           `json:"replicaType"`
	Setting             Setting          `json:"setting"`
	RemoteClusters      []api.ClusterRef `json:"remoteClusters"`
	Description         *string          `json:"description"`
	LastExecutionStatus *string          `json:"lastExecutionStatus"`
	LastExecutionTime   *string          `json:"lastExecutionTime"`
	NextExecutionTime   *string          `json:"nextExecutionTime"`
	ExecutionTimes      int64            `json:"executionTimes"`
	Enabled             bool             `json:"enabled"`
	CreatedBy           string           `json:"createdBy"`
	CreatedDate         *string          `json:"createdDate"`
	LastModifiedBy      string           `json:"lastModifiedBy"`
	LastModifiedDate    *string          `json:"lastModifiedDate"`
}

// Setting is bk-repo's ReplicaSetting with its ExecutionPlan.
type Setting struct {
	RateLimit         int64         `json:"rateLimit"`
	IncludeMetadata   bool          `json:"includeMetadata"`
	ConflictStrategy  string        `json:"conflictStrategy"`
	ErrorStrategy     string        `json:"errorStrategy"`
	ExecutionStrategy string        `json:"executionStrategy"`
	ExecutionPlan     ExecutionPlan `json:"executionPlan"`
}

// ExecutionPlan shows executeTime and cronExpression only when set, as the
// document's samples do.
type ExecutionPlan struct {
	ExecuteImmediately bool    `json:"executeImmediately"`
	ExecuteTime        *string `json:"executeTime,omitempty"`
	CronExpression     string  `json:"cronExpression,omitempty"`
}

// TaskDetail is bk-repo's ReplicaTaskDetail.
type TaskDetail struct {
	Task    TaskInfo     `json:"task"`
	Objects []ObjectInfo `json:"objects"`
}

// ObjectInfo is bk-repo's ReplicaObjectInfo.
type ObjectInfo struct {
	LocalRepoName      string              `json:"localRepoName"`
	RemoteProjectID    string              `json:"remoteProjectId"`
	RemoteRepoName     string              `json:"remoteRepoName"`
	RepoType           string              `json:"repoType"`
	PackageConstraints []PackageConstraint `json:"packageConstraints"`
	PathConstraints    []PathConstraint    `json:"pathConstraints"`
}

// PackageConstraint is bk-repo's objects/PackageConstraint.
type PackageConstraint struct {
	PackageKey string   `json:"packageKey"`
	Versions   []string `json:"versions"`
}

// PathConstraint is bk-repo's objects/PathConstraint.
type PathConstraint struct {
	Path string `json:"path"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func taskInfo(v api.TaskView, loc *time.Location) TaskInfo {
	p := v.Setting.ExecutionPlan
	refs := v.RemoteClusters
	if refs == nil {
		refs = []api.ClusterRef{}
	}
	return TaskInfo{
		ID: v.ID, Key: v.Key, Name: v.Name, ProjectID: v.ProjectID,
		ReplicaObjectType: v.ReplicaObjectType, ReplicaType: v.ReplicaType,
		Setting: Setting{
			RateLimit: v.Setting.RateLimit, IncludeMetadata: v.Setting.IncludeMetadata,
			ConflictStrategy: v.Setting.ConflictStrategy, ErrorStrategy: v.Setting.ErrorStrategy,
			ExecutionStrategy: v.Setting.ExecutionStrategy,
			ExecutionPlan: ExecutionPlan{
				ExecuteImmediately: p.ExecuteImmediately, ExecuteTime: FormatTime(p.ExecuteTime, loc), CronExpression: p.CronExpression,
			},
		},
		RemoteClusters:      refs,
		Description:         nullable(v.Description),
		LastExecutionStatus: nullable(v.LastExecutionStatus),
		LastExecutionTime:   FormatTime(v.LastExecutionTime, loc),
		NextExecutionTime:   FormatTime(v.NextExecutionTime, loc),
		ExecutionTimes:      v.ExecutionTimes,
		Enabled:             v.Enabled,
		CreatedBy:           v.CreatedBy,
		CreatedDate:         FormatTime(v.CreatedDate, loc),
		LastModifiedBy:      v.LastModifiedBy,
		LastModifiedDate:    FormatTime(v.LastModifiedDate, loc),
	}
}

func objectInfos(objs []fsm.ReplicaObject) []ObjectInfo {
	out := make([]ObjectInfo, 0, len(objs))
	for _, o := range objs {
		oi := ObjectInfo{
			LocalRepoName: o.LocalRepoName, RemoteProjectID: o.RemoteProjectID, RemoteRepoName: o.RemoteRepoName,
			RepoType: o.RepoType, PackageConstraints: []PackageConstraint{}, PathConstraints: []PathConstraint{},
		}
		for _, c := range o.PackageConstraints {
			oi.PackageConstraints = append(oi.PackageConstraints, PackageConstraint{PackageKey: c.PackageKey, Versions: c.Versions})
		}
		for _, c := range o.PathConstraints {
			oi.PathConstraints = append(oi.PathConstraints, PathConstraint{Path: c.Path})
		}
		out = append(out, oi)
	}
	return out
}

// Records. A record is a run of the task (bk-repo: one execution of it).
// Run states map to bk-repo's ExecutionStatus, which has only RUNNING,
// SUCCESS and FAILED:
//
//   - WAITING and RUNNING are RUNNING;
//   - SUCCESS is SUCCESS;
//   - FAILED and CANCELED are FAILED: a canceled run did not complete, and
//     its errorReason says why (canceled, its task deleted or disabled);
//   - SKIPPED is no record at all: it is a scheduled slot that came due while
//     the previous run was still going and never executed. bk-repo's
//     scheduler skips such a slot without a record, and the task's
//     executionTimes does not count it either.

// Execution statuses (bk-repo's ExecutionStatus).
const (
	StatusRunning = "RUNNING"
	StatusSuccess = "SUCCESS"
	StatusFailed  = "FAILED"
)

func executionStatus(s fsm.RunState) string {
	switch s {
	case fsm.RunWaiting, fsm.RunRunning:
		return StatusRunning
	case fsm.RunSuccess:
		return StatusSuccess
	}
	return StatusFailed
}

// RecordInfo is bk-repo's ReplicaRecordInfo.
type RecordInfo struct {
	ID              string    `json:"id"`
	TaskKey         string    `json:"taskKey"`
	Status          string    `json:"status"`
	StartTime       *string   `json:"startTime"`
	EndTime         *string   `json:"endTime"`
	ErrorReason     *string   `json:"errorReason"`
	ReplicatedBytes int64     `json:"replicatedBytes"`
	TotalBytes      int64     `json:"totalBytes"`
	ReplicaOverview *Overview `json:"replicaOverview"`
}

// TaskRecordInfo is bk-repo's ReplicaTaskRecordInfo: GET /task/record/{id}.
type TaskRecordInfo struct {
	ReplicaObjectType string     `json:"replicaObjectType"`
	Record            RecordInfo `json:"record"`
}

// Overview is bk-repo's ReplicaOverview: object counts over the run's
// targets, each object once. Ferry counts a conflict where the strategy put
// it (skipped under SKIP, done under OVERWRITE, failed under FAST_FAIL) and
// also in conflicts; here it is only a conflict.
type Overview struct {
	Success  int64 `json:"success"`
	Failed   int64 `json:"failed"`
	Conflict int64 `json:"conflict"`
}

// RecordDetail is bk-repo's ReplicaRecordDetail: here one per target cluster
// of the run, with that target's progress. artifactName, version, size and
// sha256 describe one artifact in bk-repo; a target's detail has none.
type RecordDetail struct {
	ID                string             `json:"id"`
	RecordID          string             `json:"recordId"`
	LocalCluster      string             `json:"localCluster"`
	RemoteCluster     string             `json:"remoteCluster"`
	LocalRepoName     string             `json:"localRepoName"`
	RepoType          string             `json:"repoType"`
	PackageConstraint *PackageConstraint `json:"packageConstraint"`
	PathConstraint    *PathConstraint    `json:"pathConstraint"`
	ArtifactName      *string            `json:"artifactName"`
	Version           *string            `json:"version"`
	ConflictStrategy  *string            `json:"conflictStrategy"`
	Size              *int64             `json:"size"`
	Sha256            *string            `json:"sha256"`
	Status            string             `json:"status"`
	Progress          Progress           `json:"progress"`
	StartTime         *string            `json:"startTime"`
	EndTime           *string            `json:"endTime"`
	ErrorReason       *string            `json:"errorReason"`
	ExecuteType       *string            `json:"executeType"`
}

// Progress is bk-repo's ReplicaProgress. Ferry replicates files (bk-repo's
// nodes): node holds the target's object counts, totalSize the bytes that
// arrived; Ferry does not count blobs or package versions apart.
type Progress struct {
	Blob      *Count `json:"blob"`
	Node      *Count `json:"node"`
	Version   *Count `json:"version"`
	TotalSize int64  `json:"totalSize"`
}

// Count is bk-repo's ReplicaCount.
type Count struct {
	Success int64 `json:"success"`
	Skip    int64 `json:"skip"`
	Failed  int64 `json:"failed"`
}

// startTime is when the run started, or was created while it waits (bk-repo's
// startTime is never null).
func startTime(r fsm.Run) time.Time {
	if r.StartedAt.IsZero() {
		return r.CreatedAt
	}
	return r.StartedAt
}

func overview(r fsm.Run) Overview {
	var o Overview
	for _, t := range r.Targets {
		success, failed := t.ObjectsDone+t.ObjectsSkipped, t.ObjectsFailed
		if r.Spec.Setting.ConflictStrategy == fsm.ConflictFastFail {
			failed -= t.Conflicts
		} else {
			success -= t.Conflicts
		}
		// A conflict is counted when planned, its outcome later.
		o.Success += max(success, 0)
		o.Failed += max(failed, 0)
		o.Conflict += t.Conflicts
	}
	return o
}

func recordInfo(r fsm.Run, loc *time.Location) RecordInfo {
	ov := overview(r)
	ri := RecordInfo{
		ID: r.ID, TaskKey: r.TaskKey, Status: executionStatus(r.State),
		StartTime: FormatTime(startTime(r), loc), EndTime: FormatTime(r.FinishedAt, loc),
		ErrorReason: nullable(r.Error), ReplicaOverview: &ov,
	}
	for _, t := range r.Targets {
		ri.ReplicatedBytes += t.BytesDone
		ri.TotalBytes += t.BytesTotal
	}
	return ri
}

// recordDetails are a run's details, one per target, in the run's order.
// With one object the detail names its repository (and its constraint when
// it has exactly one); with several it names them all, comma-separated, and
// their types likewise.
func recordDetails(r fsm.Run, names map[string]string, loc *time.Location) []RecordDetail {
	var repos, types []string
	for _, o := range r.Spec.Objects {
		repos = append(repos, o.LocalRepoName)
		if !slices.Contains(types, o.RepoType) {
			types = append(types, o.RepoType)
		}
	}
	var pkg *PackageConstraint
	var path *PathConstraint
	if len(r.Spec.Objects) == 1 {
		o := r.Spec.Objects[0]
		if len(o.PackageConstraints) == 1 {
			pkg = &PackageConstraint{PackageKey: o.PackageConstraints[0].PackageKey, Versions: o.PackageConstraints[0].Versions}
		}
		if len(o.PathConstraints) == 1 {
			path = &PathConstraint{Path: o.PathConstraints[0].Path}
		}
	}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	out := make([]RecordDetail, 0, len(r.Targets))
	for _, t := range r.Targets {
		d := RecordDetail{
			ID: r.ID + "-" + t.ClusterID, RecordID: r.ID,
			LocalCluster: name(r.Spec.SourceCluster), RemoteCluster: name(t.ClusterID),
			LocalRepoName: strings.Join(repos, ","), RepoType: strings.Join(types, ","),
			PackageConstraint: pkg, PathConstraint: path,
			ConflictStrategy: nullable(r.Spec.Setting.ConflictStrategy),
			Status:           executionStatus(t.State),
			Progress: Progress{
				Node:      &Count{Success: t.ObjectsDone, Skip: t.ObjectsSkipped, Failed: t.ObjectsFailed},
				TotalSize: t.BytesDone,
			},
			StartTime:   FormatTime(startTime(r), loc),
			ErrorReason: nullable(t.Error),
		}
		if t.State.Terminal() {
			d.EndTime = FormatTime(r.FinishedAt, loc)
		}
		out = append(out, d)
	}
	return out
}

// Clusters. Ferry's clusters are peers, each a full region that replicates
// to the others: bk-repo's STANDALONE node type ("独立节点"), not its
// center/edge pair. Their health is what this agent's gossip says.

// ClusterNodeInfo is bk-repo's ClusterNodeInfo. username, password and
// certificate are null: agents authenticate with the group's token.
type ClusterNodeInfo struct {
	ID               string  `json:"id"`
	Name             string  `json:"name"`
	Status           string  `json:"status"`
	ErrorReason      *string `json:"errorReason"`
	Type             string  `json:"type"`
	URL              string  `json:"url"`
	Username         *string `json:"username"`
	Password         *string `json:"password"`
	Certificate      *string `json:"certificate"`
	CreatedBy        string  `json:"createdBy"`
	CreatedDate      *string `json:"createdDate"`
	LastModifiedBy   string  `json:"lastModifiedBy"`
	LastModifiedDate *string `json:"lastModifiedDate"`
}

// Cluster node statuses and the type (ClusterNodeStatus, ClusterNodeType).
const (
	ClusterHealthy    = "HEALTHY"
	ClusterUnhealthy  = "UNHEALTHY"
	ClusterStandalone = "STANDALONE"
)

// clusterInfo shows a registered cluster; member is its gossip view, if any.
// Only an alive member is HEALTHY; suspect, failed and left ones, and those
// gossip does not know, are UNHEALTHY with the reason.
func clusterInfo(c fsm.ClusterRecord, m *cluster.MemberView, loc *time.Location) ClusterNodeInfo {
	ci := ClusterNodeInfo{
		ID: c.ID, Name: c.Name, Status: ClusterHealthy, Type: ClusterStandalone,
		CreatedBy: "system", CreatedDate: FormatTime(c.CreatedAt, loc),
		LastModifiedBy: "system", LastModifiedDate: FormatTime(c.UpdatedAt, loc),
	}
	if c.APIAddr != "" {
		ci.URL = "http://" + c.APIAddr
	}
	switch {
	case m == nil:
		ci.Status, ci.ErrorReason = ClusterUnhealthy, nullable("this agent's gossip does not know the cluster's agent")
	case m.Status != cluster.StatusAlive:
		ci.Status, ci.ErrorReason = ClusterUnhealthy, nullable("gossip reports the cluster's agent "+string(m.Status))
	}
	return ci
}
