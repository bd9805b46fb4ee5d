package bkrepo

import (
	"errors"
	"net/http"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// ReplicaTaskController (bk-repo's src/backend/replication/biz-replication/
// src/main/kotlin/com/tencent/bkrepo/replication/controller/api/
// ReplicaTaskController.kt, and the bk-repo replication task document):
// create, info, detail, page, delete, toggle, copy, update, execute. Writes
// answer data null, as the document shows, except create, which answers the
// task.

func (d *dialect) task(key string) (fsm.Task, bool) {
	v, ok := d.tasks.Task(key)
	return v.Task, ok
}

// scoped refuses a read of a task (or of its records) whose project the
// caller's credential does not reach, as bk-repo refuses access: 403
// REQUEST_DENIED 250113 (serviceError).
func (d *dialect) scoped(r *http.Request, key string) error {
	if v, ok := d.tasks.Task(key); ok {
		if err := api.CheckScope(r.Context(), v.ProjectID); err != nil {
			return serviceError(err, key, "")
		}
	}
	return nil
}

func (d *dialect) createTask(r *http.Request, _ httprouter.Params) (any, error) {
	body, e := readBody(r)
	if e != nil {
		return nil, e
	}
	req, e := DecodeCreate(body, zoneOf(r.Context()))
	if e != nil {
		return nil, e
	}
	v, err := d.tasks.CreateTask(r.Context(), req)
	if err != nil {
		return nil, serviceError(err, "", req.Name)
	}
	return taskInfo(v, zoneOf(r.Context())), nil
}

func (d *dialect) updateTask(r *http.Request, _ httprouter.Params) (any, error) {
	body, e := readBody(r)
	if e != nil {
		return nil, e
	}
	key, req, e := decodeUpdate(body, d.task, zoneOf(r.Context()))
	if e != nil {
		return nil, e
	}
	if _, err := d.tasks.UpdateTask(r.Context(), key, req, api.UpdateOptions{IfNeverRun: true, NameUnchecked: true}); err != nil {
		return nil, serviceError(err, key, req.Name)
	}
	return nil, nil
}

func (d *dialect) copyTask(r *http.Request, _ httprouter.Params) (any, error) {
	body, e := readBody(r)
	if e != nil {
		return nil, e
	}
	c, e := decodeCopy(body)
	if e != nil {
		return nil, e
	}
	if _, err := d.tasks.CopyTask(r.Context(), c.Key, c.Name, c.Description); err != nil {
		return nil, serviceError(err, c.Key, c.Name)
	}
	return nil, nil
}

// deleteTask deletes a task; bk-repo's delete does not look the key up, so
// an unknown one answers success too.
func (d *dialect) deleteTask(r *http.Request, ps httprouter.Params) (any, error) {
	key := ps.ByName("key")
	if err := d.tasks.DeleteTask(r.Context(), key); err != nil && fsm.KindOf(err) != fsm.KindNotFound {
		return nil, serviceError(err, key, "")
	}
	return nil, nil
}

// toggleTask flips the task: bk-repo's toggle/status takes no body.
func (d *dialect) toggleTask(r *http.Request, ps httprouter.Params) (any, error) {
	key := ps.ByName("key")
	if _, err := d.tasks.ToggleTask(r.Context(), key, nil); err != nil {
		return nil, serviceError(err, key, "")
	}
	return nil, nil
}

func (d *dialect) executeTask(r *http.Request, ps httprouter.Params) (any, error) {
	key := ps.ByName("key")
	if _, err := d.tasks.ExecuteTask(r.Context(), key); err != nil {
		return nil, serviceError(err, key, "")
	}
	return nil, nil
}

func (d *dialect) taskInfo(r *http.Request, ps httprouter.Params) (any, error) {
	if err := d.scoped(r, ps.ByName("key")); err != nil {
		return nil, err
	}
	v, ok := d.tasks.Task(ps.ByName("key"))
	if !ok {
		return nil, taskNotFound(ps.ByName("key"))
	}
	return taskInfo(v, zoneOf(r.Context())), nil
}

func (d *dialect) taskDetail(r *http.Request, ps httprouter.Params) (any, error) {
	if err := d.scoped(r, ps.ByName("key")); err != nil {
		return nil, err
	}
	v, ok := d.tasks.Task(ps.ByName("key"))
	if !ok {
		return nil, taskNotFound(ps.ByName("key"))
	}
	return TaskDetail{Task: taskInfo(v, zoneOf(r.Context())), Objects: objectInfos(v.Objects)}, nil
}

// taskPage is bk-repo's TaskPageParam query: name (a prefix),
// lastExecutionStatus, enabled, sortType, sortDirection (DESC by default),
// pageNumber, pageSize. A bad parameter is 250131, but for sortDirection,
// which bk-repo's service checks itself (250105).
func (d *dialect) taskPage(r *http.Request, ps httprouter.Params) (any, error) {
	q := r.URL.Query()
	f, err := api.ParseTaskFilter(q, ps.ByName("projectId"))
	if err != nil {
		var fe *fsm.Error
		if errors.As(err, &fe) && fe.Field != "sortDirection" {
			return nil, badQuery(fe.Field, "%s", fe.Reason)
		}
		return nil, asError(err)
	}
	page, e := pageOf(q)
	if e != nil {
		return nil, e
	}
	f.Projects = api.ScopeOf(r.Context())
	loc := zoneOf(r.Context())
	var infos []TaskInfo
	for _, v := range d.tasks.ListTasks(f) {
		infos = append(infos, taskInfo(v, loc))
	}
	return paginate(infos, page), nil
}
