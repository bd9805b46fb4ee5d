package bkrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// Records, in bk-repo's shapes (api-replication's pojo/record/:
// ReplicaRecordInfo.kt, ReplicaTaskRecordInfo.kt, ReplicaRecordDetail.kt,
// ReplicaProgress.kt, ReplicaOverview.kt, ExecutionStatus.kt). A record is a
// run of the task (bk-repo: one execution of it). Run states map to
// bk-repo's ExecutionStatus, which has only RUNNING, SUCCESS and FAILED:
//
//   - WAITING and RUNNING are RUNNING;
//   - SUCCESS is SUCCESS;
//   - FAILED and CANCELED are FAILED: a canceled run did not complete, and
//     its errorReason says why (canceled, its task deleted or disabled);
//   - SKIPPED is no record at all: it is a scheduled slot that came due while
//     the previous run was still going and never executed. bk-repo's
//     scheduler skips such a slot without a record, and the task's
//     executionTimes does not count it either.
//
// A record's details are its objects: one per file the run replicated to
// one target, from the executor's object records (fsm.ObjectRecord). A file
// that was already there (skipped) is a SUCCESS with progress.skip 1.

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
	ReplicaType       string     `json:"replicaType"`
	Record            RecordInfo `json:"record"`
}

// Overview is bk-repo's ReplicaOverview: object counts over the run's
// targets. Ferry counts a conflict where the strategy put it (skipped under
// SKIP, done under OVERWRITE, failed under FAST_FAIL) and also in
// conflicts; here it is only a conflict. fileSuccess and fileFailed count
// the files, conflicts where the strategy put them.
type Overview struct {
	Success     int64 `json:"success"`
	Failed      int64 `json:"failed"`
	Conflict    int64 `json:"conflict"`
	FileSuccess int64 `json:"fileSuccess"`
	FileFailed  int64 `json:"fileFailed"`
}

// RecordDetail is bk-repo's ReplicaRecordDetail: one object of the run, to
// one target.
type RecordDetail struct {
	ID                string             `json:"id"`
	RecordID          string             `json:"recordId"`
	LocalCluster      string             `json:"localCluster"`
	RemoteCluster     string             `json:"remoteCluster"`
	LocalRepoName     string             `json:"localRepoName"`
	RepoType          string             `json:"repoType"`
	PackageConstraint *PackageConstraint `json:"packageConstraint"`
	PathConstraint    *PathConstraint    `json:"pathConstraint"`
	ArtifactName      string             `json:"artifactName"`
	Version           *string            `json:"version"`
	ConflictStrategy  *string            `json:"conflictStrategy"`
	Size              int64              `json:"size"`
	Sha256            *string            `json:"sha256"`
	Status            string             `json:"status"`
	Progress          Progress           `json:"progress"`
	StartTime         *string            `json:"startTime"`
	EndTime           *string            `json:"endTime"`
	ErrorReason       *string            `json:"errorReason"`
	ExecuteType       *string            `json:"executeType"`
}

// Progress is bk-repo's ReplicaProgress, flat since 2021: what the detail's
// object came to.
type Progress struct {
	Success     int64 `json:"success"`
	Skip        int64 `json:"skip"`
	Failed      int64 `json:"failed"`
	TotalSize   int64 `json:"totalSize"`
	Conflict    int64 `json:"conflict"`
	FileSuccess int64 `json:"fileSuccess"`
	FileFailed  int64 `json:"fileFailed"`
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
		o.FileSuccess += success
		o.FileFailed += failed
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

// recordDetail shows one object record of run r; name gives a cluster's
// name by id.
func recordDetail(r fsm.Run, o fsm.ObjectRecord, name func(id string) string, loc *time.Location) RecordDetail {
	id := sha256.Sum256([]byte(o.Target + "\x00" + o.Path))
	d := RecordDetail{
		ID: r.ID + "-" + hex.EncodeToString(id[:8]), RecordID: r.ID,
		LocalCluster: name(r.Spec.SourceCluster), RemoteCluster: name(o.Target),
		LocalRepoName: o.Repo, ArtifactName: o.Path, Version: nullable(o.Version),
		ConflictStrategy: nullable(r.Spec.Setting.ConflictStrategy), Size: o.Size, Sha256: nullable(o.SHA256),
		Status: StatusSuccess, Progress: Progress{TotalSize: o.Size, FileSuccess: 1},
		StartTime: FormatTime(o.Time, loc), EndTime: FormatTime(o.Time, loc), ErrorReason: nullable(o.Error),
	}
	switch o.Status {
	case fsm.ObjectSkipped:
		d.Progress.Skip = 1
	case fsm.ObjectFailed:
		d.Status, d.Progress.Failed, d.Progress.FileSuccess, d.Progress.FileFailed = StatusFailed, 1, 0, 1
	default:
		d.Progress.Success = 1
	}
	if o.Action == fsm.ActionConflict {
		d.Progress.Conflict = 1
	}
	if o.PackageKey != "" {
		d.PackageConstraint = &PackageConstraint{PackageKey: o.PackageKey, Versions: []string{o.Version}}
	}
	for _, so := range r.Spec.Objects {
		if so.LocalRepoName != o.Repo {
			continue
		}
		d.RepoType = so.RepoType
		for _, c := range so.PathConstraints {
			if o.Path == c.Path || strings.HasPrefix(o.Path, strings.TrimSuffix(c.Path, "/")+"/") {
				d.PathConstraint = &PathConstraint{Path: c.Path}
				break
			}
		}
		break
	}
	return d
}
