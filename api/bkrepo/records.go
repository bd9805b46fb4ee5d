package bkrepo

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// ReplicaRecordController (bk-repo's src/backend/replication/biz-replication/
// src/main/kotlin/com/tencent/bkrepo/replication/controller/api/
// ReplicaRecordController.kt): a task's records are its runs, from the
// replicated state, so any agent answers them. A run that is not a task's,
// a SKIPPED one (see the mapping in views.go) or one whose task is gone is
// no record: bk-repo deletes a task's records with it. As bk-repo does, the
// records of an unknown task or record are none (an empty list or page, a
// null overview); only record/{recordId} refuses an unknown record.

// record dispatches the record endpoints by their segments:
//
//	GET /task/record/{recordId}                 ReplicaTaskRecordInfo
//	GET /task/record/list/{key}                 [ReplicaRecordInfo]
//	GET /task/record/page/{key}                 Page<ReplicaRecordInfo> (pageNumber, pageSize, status)
//	GET /task/record/detail/list/{recordId}     [ReplicaRecordDetail]
//	GET /task/record/detail/page/{recordId}     Page<ReplicaRecordDetail> (pageNumber, pageSize, status, path, packageName, artifactName, repoName, clusterName, version)
//	GET /task/record/overview/{recordId}        ReplicaOverview
func (d *dialect) record(r *http.Request, ps httprouter.Params) (any, error) {
	p1, p2, p3 := ps.ByName("p1"), ps.ByName("p2"), ps.ByName("p3")
	if err := d.scoped(r, d.recordTask(p1, p2, p3)); err != nil {
		return nil, err
	}
	switch {
	case p2 == "":
		return d.recordByID(r, p1)
	case p3 == "" && p1 == "list":
		return d.recordList(r, p2)
	case p3 == "" && p1 == "page":
		return d.recordPage(r, p2)
	case p3 == "" && p1 == "overview":
		run, ok := d.run(p2)
		if !ok {
			return nil, nil
		}
		return overview(run), nil
	case p1 == "detail" && p2 == "list" && p3 != "":
		return d.details(r, p3, false)
	case p1 == "detail" && p2 == "page" && p3 != "":
		return d.details(r, p3, true)
	}
	return nil, &Error{http.StatusNotFound, CodeResourceUnknown, fmt.Sprintf("Request url[%s] not found", r.URL.Path)}
}

// recordTask is the task a record path is about: the key of a list or a
// page, else the task of the record (run) named.
func (d *dialect) recordTask(p1, p2, p3 string) string {
	id := p1
	switch {
	case p3 == "" && (p1 == "list" || p1 == "page"):
		return p2
	case p3 == "" && p1 == "overview":
		id = p2
	case p1 == "detail" && p3 != "":
		id = p3
	}
	run, _ := d.runs.Run(id)
	return run.TaskKey
}

// records are a task's records (its runs), newest first.
func (d *dialect) records(key string) []fsm.Run {
	if _, ok := d.tasks.Task(key); !ok {
		return nil
	}
	var out []fsm.Run
	for _, r := range d.runs.Runs(fsm.RunFilter{TaskKey: key}) {
		if r.State != fsm.RunSkipped {
			out = append(out, r)
		}
	}
	return out
}

// run is one record, if it is one.
func (d *dialect) run(id string) (fsm.Run, bool) {
	r, ok := d.runs.Run(id)
	if !ok || r.TaskKey == "" || r.State == fsm.RunSkipped {
		return fsm.Run{}, false
	}
	_, ok = d.tasks.Task(r.TaskKey)
	return r, ok
}

func (d *dialect) recordByID(r *http.Request, id string) (any, error) {
	run, ok := d.run(id)
	if !ok {
		return nil, taskNotFound(id)
	}
	replicaType := fsm.ReplicaScheduled
	if run.Trigger == fsm.TriggerRealTime {
		replicaType = fsm.ReplicaRealTime
	}
	return TaskRecordInfo{ReplicaObjectType: run.Spec.ReplicaObjectType, ReplicaType: replicaType, Record: recordInfo(run, zoneOf(r.Context()))}, nil
}

func (d *dialect) recordList(req *http.Request, key string) (any, error) {
	out := []RecordInfo{}
	for _, r := range d.records(key) {
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
		return nil, badQuery("status", "%q is not RUNNING, SUCCESS or FAILED", status)
	}
	page, e := pageOf(q)
	if e != nil {
		return nil, e
	}
	var out []RecordInfo
	for _, r := range d.records(key) {
		if ri := recordInfo(r, zoneOf(req.Context())); status == "" || ri.Status == status {
			out = append(out, ri)
		}
	}
	return paginate(out, page), nil
}

// details lists a record's details (its objects, to each target), newest
// first, from the agent that executed the run; paged when asked. The
// filters are ReplicaRecordDetailListOption's: status (RUNNING, SUCCESS,
// FAILED), path, packageName and artifactName by prefix (an artifact is a
// file: its name is its path; a package name matches the start of the
// package key, with or without its scheme), repoName, clusterName (the
// target's name or id) and version exactly.
func (d *dialect) details(req *http.Request, id string, paged bool) (any, error) {
	q := req.URL.Query()
	f, some, e := d.detailFilter(q)
	if e != nil {
		return nil, e
	}
	page := store.PageRequest{Number: 1, Size: store.MaxPageSize}
	if paged {
		if page, e = pageOf(q); e != nil {
			return nil, e
		}
	}
	run, ok := d.run(id)
	out := pageJSON[RecordDetail]{PageNumber: page.Number, PageSize: page.Size, Records: []RecordDetail{}, Page: page.Number}
	if !ok || !some {
		return detailAnswer(out, paged), nil
	}
	names := d.clusterNames()
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	loc := zoneOf(req.Context())
	for {
		objs, err := d.runs.RunObjects(req.Context(), run.ID, f, page)
		if err != nil {
			return nil, err
		}
		for _, o := range objs.Records {
			out.Records = append(out.Records, recordDetail(run, o, name, loc))
		}
		out.TotalRecords, out.TotalPages, out.Count = objs.TotalRecords, objs.TotalPages, objs.TotalRecords
		// The list is every detail: page on until the last.
		if paged || int64(page.Number) >= objs.TotalPages {
			return detailAnswer(out, paged), nil
		}
		page.Number++
	}
}

func detailAnswer(p pageJSON[RecordDetail], paged bool) any {
	if paged {
		return p
	}
	return p.Records
}

// detailFilter reads the detail filters; some is false when they select
// nothing (a RUNNING status: Ferry records an object once it is done; an
// unknown cluster; path and artifactName prefixes that exclude each other).
func (d *dialect) detailFilter(q url.Values) (f fsm.ObjectFilter, some bool, e *Error) {
	f = fsm.ObjectFilter{Repo: q.Get("repoName"), Version: q.Get("version"), PackagePrefix: q.Get("packageName"), NewestFirst: true}
	switch status := q.Get("status"); status {
	case "":
	case StatusSuccess:
		f.Status = fsm.ObjectSuccess + "," + fsm.ObjectSkipped
	case StatusFailed:
		f.Status = fsm.ObjectFailed
	case StatusRunning:
		return f, false, nil
	default:
		return f, false, badQuery("status", "%q is not RUNNING, SUCCESS or FAILED", status)
	}
	path, name := q.Get("path"), q.Get("artifactName")
	switch {
	case strings.HasPrefix(path, name):
		f.PathPrefix = path
	case strings.HasPrefix(name, path):
		f.PathPrefix = name
	default:
		return f, false, nil
	}
	if c := q.Get("clusterName"); c != "" {
		for id, n := range d.clusterNames() {
			if c == n || c == id {
				f.Target = id
			}
		}
		if f.Target == "" {
			return f, false, nil
		}
	}
	return f, true, nil
}

func (d *dialect) clusterNames() map[string]string {
	names := map[string]string{}
	for _, c := range d.status.Clusters() {
		names[c.ID] = c.Name
	}
	return names
}
