package bkrepo

import (
	"time"

	"github.com/ferrysync/ferry/api"
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
	Description         string           `json:"description"`
	Status              api.TaskStatus   `json:"status"`
	ReplicatedBytes     int64            `json:"replicatedBytes"`
	TotalBytes          int64            `json:"totalBytes"`
	LastExecutionStatus *string          `json:"lastExecutionStatus"`
	LastExecutionTime   *string          `json:"lastExecutionTime"`
	NextExecutionTime   *string          `json:"nextExecutionTime"`
	ExecutionTimes      int64            `json:"executionTimes"`
	Enabled             bool             `json:"enabled"`
	Record              bool             `json:"record"`
	RecordReserveDays   int              `json:"recordReserveDays"`
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

// ExecutionPlan is bk-repo's: executeTime and cronExpression are null when
// unset.
type ExecutionPlan struct {
	ExecuteImmediately bool    `json:"executeImmediately"`
	ExecuteTime        *string `json:"executeTime"`
	CronExpression     *string `json:"cronExpression"`
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

// taskInfo shows a task as bk-repo does. Its nextExecutionTime is a cron
// task's next slot; bk-repo has none for a one-shot task.
func taskInfo(v api.TaskView, loc *time.Location) TaskInfo {
	p := v.Setting.ExecutionPlan
	refs := v.RemoteClusters
	if refs == nil {
		refs = []api.ClusterRef{}
	}
	var next *string
	if v.ReplicaType == fsm.ReplicaScheduled && v.Setting.ExecutionStrategy == fsm.ExecCron {
		next = FormatTime(v.NextExecutionTime, loc)
	}
	return TaskInfo{
		ID: v.ID, Key: v.Key, Name: v.Name, ProjectID: v.ProjectID,
		ReplicaObjectType: v.ReplicaObjectType, ReplicaType: v.ReplicaType,
		Setting: Setting{
			RateLimit: v.Setting.RateLimit, IncludeMetadata: v.Setting.IncludeMetadata,
			ConflictStrategy: v.Setting.ConflictStrategy, ErrorStrategy: v.Setting.ErrorStrategy,
			ExecutionStrategy: v.Setting.ExecutionStrategy,
			ExecutionPlan: ExecutionPlan{
				ExecuteImmediately: p.ExecuteImmediately, ExecuteTime: FormatTime(p.ExecuteTime, loc), CronExpression: nullable(p.CronExpression),
			},
		},
		RemoteClusters:      refs,
		Description:         v.Description,
		Status:              v.Status,
		ReplicatedBytes:     v.ReplicatedBytes,
		TotalBytes:          v.TotalBytes,
		LastExecutionStatus: nullable(v.LastExecutionStatus),
		LastExecutionTime:   FormatTime(v.LastExecutionTime, loc),
		NextExecutionTime:   next,
		ExecutionTimes:      v.ExecutionTimes,
		Enabled:             v.Enabled,
		Record:              v.KeepsRecords(),
		RecordReserveDays:   v.ReserveDays(),
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
