package pulp

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// Tasks is what the dialect needs of the agent for tasks: its region's
// records of the calls it applied at once (a sync's task is its run).
type Tasks interface {
	// PulpTasks are the tasks that have every tag asked.
	PulpTasks(tags []string) []fsm.PulpTask
	PulpTask(id string) (fsm.PulpTask, bool)
	// CancelPulpTask cancels a recorded task still waiting (a content
	// action its agent has not started).
	CancelPulpTask(ctx context.Context, id string) error
	// PurgePulpTasks deletes the recorded tasks in the states named.
	PurgePulpTasks(ctx context.Context, states []string) error
}

func (d *dialect) registerTasks() {
	r := fsm.PolicyRead
	d.handle(http.MethodGet, "/tasks/", r, d.listTasks)
	d.handle(http.MethodGet, "/tasks/:task/", r, d.getTask)
	d.handle(http.MethodDelete, "/tasks/:task/", fsm.PolicyWrite, d.cancelTask)
	d.handle(http.MethodDelete, "/tasks/", fsm.PolicyWrite, d.purgeTasks)
	d.handle(http.MethodPost, "/tasks/search/", r, d.searchTasks)
}

// purgeTasks is DELETE /tasks/?state=finished&state=error: 204. A state is
// required (403 PLP1012) and must be one a complete task has (400
// PLP1011). A sync's task is its run: it goes with the run history.
func (d *dialect) purgeTasks(r *http.Request, _ httprouter.Params) (int, any, error) {
	states := r.URL.Query()["state"]
	if len(states) == 0 {
		return 0, nil, &Error{Status: http.StatusForbidden, Code: "PLP1012", Message: "No task state given to parameters list for delete.", Top: map[string]any{"args": []any{}}}
	}
	for _, s := range states {
		if s != fsm.PulpTaskFinished && s != fsm.PulpTaskError && s != "skipped" {
			return 0, nil, &Error{Status: http.StatusBadRequest, Code: "PLP1011", Message: "Invalid task state passed to purge: " + s + ".",
				Data: map[string]any{"state": s}, Top: map[string]any{"args": []any{}}}
		}
	}
	if err := d.tasks.PurgePulpTasks(r.Context(), states); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// listTasks is GET /tasks/?tag=a&tag=b: the tasks having all the tags
// (pulp-admin finds a repository's running syncs so), oldest first.
func (d *dialect) listTasks(r *http.Request, _ httprouter.Params) (int, any, error) {
	return http.StatusOK, d.taskViews(r.URL.Query()["tag"]), nil
}

// taskViews are the region's tasks having all the tags, as GET /tasks/
// shows them: the recorded ones and the sync and content runs, oldest
// first.
func (d *dialect) taskViews(tags []string) []map[string]any {
	type entry struct {
		view  map[string]any
		start string
	}
	var all []entry
	for _, t := range d.tasks.PulpTasks(tags) {
		all = append(all, entry{taskView(t, false), t.StartTime.Format(TimeLayout)})
	}
	for _, run := range d.syncRuns() {
		t := syncTask(run)
		if !slices.ContainsFunc(tags, func(tag string) bool { return !slices.Contains(t.Tags, tag) }) {
			all = append(all, entry{d.syncView(run, false), run.CreatedAt.Format(TimeLayout)})
		}
	}
	slices.SortStableFunc(all, func(a, b entry) int { return strings.Compare(a.start, b.start) })
	out := []map[string]any{}
	for _, e := range all {
		out = append(out, e.view)
	}
	return out
}

// syncRun is the region's sync run of that id, if it is one.
func (d *dialect) syncRun(id string) (fsm.Run, bool) {
	run, ok := d.runs.Run(id)
	return run, ok && pulpRun(run) && run.Executor == d.status.ClusterID()
}

func (d *dialect) getTask(r *http.Request, ps httprouter.Params) (int, any, error) {
	if ps.ByName("task") == searchSegment {
		return d.searchTasksQuery(r, ps)
	}
	if t, ok := d.tasks.PulpTask(ps.ByName("task")); ok {
		return http.StatusOK, taskView(t, true), nil
	}
	if run, ok := d.syncRun(ps.ByName("task")); ok {
		return http.StatusOK, d.syncView(run, true), nil
	}
	return 0, nil, missingResource("resource_id", ps.ByName("task"))
}

// cancelTask is DELETE /tasks/<id>/: 200 null. A sync or content action
// not complete is canceled; a task already complete stays as it is (Pulp
// 2.5+).
func (d *dialect) cancelTask(r *http.Request, ps httprouter.Params) (int, any, error) {
	id := ps.ByName("task")
	if id == searchSegment {
		return 0, nil, errWrongMethod
	}
	if t, ok := d.tasks.PulpTask(id); ok {
		if t.State == fsm.PulpTaskWaiting {
			if err := d.tasks.CancelPulpTask(r.Context(), id); err != nil && fsm.KindOf(err) != fsm.KindNotFound {
				return 0, nil, err
			}
		}
		return http.StatusOK, nil, nil
	}
	run, ok := d.syncRun(id)
	if !ok {
		return 0, nil, missingResource("resource_id", id)
	}
	if !run.State.Terminal() {
		if _, err := d.runs.CancelRun(r.Context(), id); err != nil && fsm.KindOf(err) != fsm.KindConflict {
			return 0, nil, err
		}
	}
	return http.StatusOK, nil, nil
}

// syncView is a sync run as Pulp's task: its progress_report live, its
// result the sync's history record once it ended, the publishes it spawned.
func (d *dialect) syncView(run fsm.Run, withQueue bool) map[string]any {
	t := syncTask(run)
	v := taskView(t, withQueue)
	if run.Feed == nil {
		v["worker_name"] = "agent" // a consumer's content action: its agent's, in Pulp
		return v
	}
	v["progress_report"] = progressReport(run)
	v["progress"] = v["progress_report"]
	if run.State.Terminal() {
		v["result"] = syncResult(run, t)
	}
	v["spawned_tasks"] = d.autoPublishes(run)
	return v
}

// autoPublishes are the publish tasks a successful sync spawned, one per
// auto_publish distributor (2.4+ lists them in the sync's spawned_tasks).
func (d *dialect) autoPublishes(run fsm.Run) []any {
	out := []any{}
	repo, ok := d.repos.PulpRepo(run.Feed.PulpRepo)
	if !ok || run.State != fsm.RunSuccess {
		return out
	}
	for _, dist := range repo.Distributors {
		id := fsm.AutoPublishTaskID(run.ID, dist.ID)
		if _, ok := d.tasks.PulpTask(id); ok && dist.AutoPublish {
			out = append(out, map[string]string{"_href": taskHref(id), "task_id": id})
		}
	}
	return out
}

// syncResult is Pulp's sync history record.
func syncResult(run fsm.Run, t fsm.PulpTask) map[string]any {
	var p fsm.TargetProgress
	if len(run.Targets) > 0 {
		p = run.Targets[0]
	}
	result := map[string]string{fsm.PulpTaskFinished: "success", fsm.PulpTaskCanceled: "canceled"}[t.State]
	if result == "" {
		result = "error"
	}
	var msg any
	if run.Error != "" {
		msg = run.Error
	}
	return map[string]any{
		"result": result, "importer_id": fsm.PulpISOImporter, "importer_type_id": fsm.PulpISOImporter, "repo_id": run.Feed.PulpRepo,
		"started": FormatTime(run.StartedAt), "completed": FormatTime(run.FinishedAt),
		"added_count": p.ObjectsDone, "removed_count": 0, "updated_count": 0, "summary": progressReport(run)["iso_importer"], "details": map[string]any{},
		"error_message": msg, "exception": nil, "traceback": nil, "id": run.ID, "_ns": "repo_sync_results",
	}
}
