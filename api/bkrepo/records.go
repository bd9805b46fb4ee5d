package bkrepo

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// ReplicaRecordController (bk-repo's src/backend/replication/biz-replication/
// src/main/kotlin/com/tencent/bkrepo/replication/controller/api/
// ReplicaRecordController.kt): a task's records are its runs, from the
// replicated state, so any agent answers them. A run that is not a task's,
// a SKIPPED one (see the mapping in views.go) or one whose task is gone is
// no record: bk-repo deletes a task's records with it.

// record dispatches the record endpoints by their segments:
//
//	GET /task/record/{recordId}                 ReplicaTaskRecordInfo
//	GET /task/record/list/{key}                 [ReplicaRecordInfo]
//	GET /task/record/page/{key}                 Page<ReplicaRecordInfo> (pageNumber, pageSize, status)
//	GET /task/record/detail/list/{recordId}     [ReplicaRecordDetail]
//	GET /task/record/detail/page/{recordId}     Page<ReplicaRecordDetail> (pageNumber, pageSize, packageName, repoName, clusterName)
//	GET /task/record/overview/{recordId}        ReplicaOverview
func (d *dialect) record(r *http.Request, ps httprouter.Params) (any, error) {
	p1, p2, p3 := ps.ByName("p1"), ps.ByName("p2"), ps.ByName("p3")
	switch {
	case p2 == "":
		return d.recordByID(r, p1)
	case p3 == "" && p1 == "list":
		return d.recordList(r, p2)
	case p3 == "" && p1 == "page":
		return d.recordPage(r, p2)
	case p3 == "" && p1 == "overview":
		run, e := d.run(p2)
		if e != nil {
			return nil, e
		}
		return overview(run), nil
	case p1 == "detail" && p2 == "list" && p3 != "":
		return d.details(r, p3, false)
	case p1 == "detail" && p2 == "page" && p3 != "":
		return d.details(r, p3, true)
	}
	return nil, &Error{http.StatusNotFound, CodeResourceUnknown, fmt.Sprintf("Request url[%s] not found", r.URL.Path)}
}

// records are a task's records (its runs), newest first.
func (d *dialect) records(key string) ([]fsm.Run, *Error) {
	if _, ok := d.tasks.Task(key); !ok {
		return nil, taskNotFound(key)
	}
	var out []fsm.Run
	for _, r := range d.runs.Runs(fsm.RunFilter{TaskKey: key}) {
		if r.State != fsm.RunSkipped {
			out = append(out, r)
		}
	}
	return out, nil
}

// run is one record.
func (d *dialect) run(id string) (fsm.Run, *Error) {
	r, ok := d.runs.Run(id)
	if !ok || r.TaskKey == "" || r.State == fsm.RunSkipped {
		return fsm.Run{}, taskNotFound(id)
	}
	if _, ok := d.tasks.Task(r.TaskKey); !ok {
		return fsm.Run{}, taskNotFound(id)
	}
	return r, nil
}

func (d *dialect) recordByID(r *http.Request, id string) (any, error) {
	run, e := d.run(id)
	if e != nil {
		return nil, e
	}
	return TaskRecordInfo{ReplicaObjectType: run.Spec.ReplicaObjectType, Record: recordInfo(run, zoneOf(r.Context()))}, nil
}

func (d *dialect) recordList(req *http.Request, key string) (any, error) {
	runs, e := d.records(key)
	if e != nil {
		return nil, e
	}
	out := []RecordInfo{}
	for _, r := range runs {
		out = append(out, recordInfo(r, zoneOf(req.Context())))
	}
	return out, nil
}

// recordPage is ReplicaRecordListOption: pageNumber, pageSize, status.
func (d *dialect) recordPage(req *http.Request, key string) (any, error) {
	q := req.URL.Query()
	status := q.Get("status")
	switch status {
	case "", StatusRunning, StatusSuccess, StatusFailed:
	default:
		return nil, invalid("status", "%q is not RUNNING, SUCCESS or FAILED", status)
	}
	page, e := pageOf(q)
	if e != nil {
		return nil, e
	}
	runs, e := d.records(key)
	if e != nil {
		return nil, e
	}
	var out []RecordInfo
	for _, r := range runs {
		if ri := recordInfo(r, zoneOf(req.Context())); status == "" || ri.Status == status {
			out = append(out, ri)
		}
	}
	return paginate(out, page), nil
}

// details lists a record's details, one per target, paged when asked
// with ReplicaRecordDetailListOption's filters: packageName, repoName and
// clusterName match parts of the detail's package key, repository and
// remote cluster name.
func (d *dialect) details(req *http.Request, id string, paged bool) (any, error) {
	run, e := d.run(id)
	if e != nil {
		return nil, e
	}
	names := map[string]string{}
	for _, c := range d.status.Clusters() {
		names[c.ID] = c.Name
	}
	q := req.URL.Query()
	pkg, repo, clusterName := q.Get("packageName"), q.Get("repoName"), q.Get("clusterName")
	out := []RecordDetail{}
	for _, rd := range recordDetails(run, names, zoneOf(req.Context())) {
		switch {
		case pkg != "" && (rd.PackageConstraint == nil || !strings.Contains(rd.PackageConstraint.PackageKey, pkg)),
			repo != "" && !strings.Contains(rd.LocalRepoName, repo),
			clusterName != "" && !strings.Contains(rd.RemoteCluster, clusterName):
			continue
		}
		out = append(out, rd)
	}
	if !paged {
		return out, nil
	}
	page, e := pageOf(q)
	if e != nil {
		return nil, e
	}
	return paginate(out, page), nil
}
