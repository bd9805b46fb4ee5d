package pulp

import (
	"net/http"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// Tasks is what the dialect needs of the agent for tasks: its region's.
type Tasks interface {
	// PulpTasks are the tasks that have every tag asked.
	PulpTasks(tags []string) []fsm.PulpTask
	PulpTask(id string) (fsm.PulpTask, bool)
}

func (d *dialect) registerTasks() {
	r := fsm.PolicyRead
	d.handle(http.MethodGet, "/tasks/", r, d.listTasks)
	d.handle(http.MethodGet, "/tasks/:task/", r, d.getTask)
	d.handle(http.MethodDelete, "/tasks/:task/", fsm.PolicyWrite, d.cancelTask)
}

// listTasks is GET /tasks/?tag=a&tag=b: the tasks having all the tags
// (pulp-admin finds a repository's running syncs so).
func (d *dialect) listTasks(r *http.Request, _ httprouter.Params) (int, any, error) {
	out := []any{}
	for _, t := range d.tasks.PulpTasks(r.URL.Query()["tag"]) {
		out = append(out, taskView(t, false))
	}
	return http.StatusOK, out, nil
}

func (d *dialect) getTask(_ *http.Request, ps httprouter.Params) (int, any, error) {
	t, ok := d.tasks.PulpTask(ps.ByName("task"))
	if !ok {
		return 0, nil, missingResource("resource_id", ps.ByName("task"))
	}
	return http.StatusOK, taskView(t, true), nil
}

// cancelTask is DELETE /tasks/<id>/: 200 null. A task already complete
// stays as it is (Pulp 2.5+).
func (d *dialect) cancelTask(_ *http.Request, ps httprouter.Params) (int, any, error) {
	if _, ok := d.tasks.PulpTask(ps.ByName("task")); !ok {
		return 0, nil, missingResource("resource_id", ps.ByName("task"))
	}
	return http.StatusOK, nil, nil
}
