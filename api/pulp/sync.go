package pulp

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// Syncs is what the dialect needs of the agent to sync: a sync is a Ferry
// run of the region's agent (fsm/pulpsync.go), so its task is that run.
type Syncs interface {
	SyncPulpRepo(ctx context.Context, id string, overrides map[string]json.RawMessage) (fsm.Run, error)
}

func (d *dialect) registerSync() {
	d.handle(http.MethodPost, "/repositories/:repo/actions/sync/", fsm.PolicyWrite, d.syncRepo)
	d.handle(http.MethodGet, "/task_groups/:group/", fsm.PolicyRead, d.taskGroup)
	d.handle(http.MethodGet, "/task_groups/:group/state_summary/", fsm.PolicyRead, d.stateSummary)
}

// syncRepo is POST /repositories/<id>/actions/sync/ {override_config?}. A
// second sync while one runs waits for it (the agent runs one sync of a
// repository at a time). The answer is the seed's array of call reports
// sharing a task_group_id, each also a 2.4+ report (error, spawned_tasks),
// or with CallReports2_4 the 2.4+ object.
func (d *dialect) syncRepo(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.repo(ps); e != nil {
		return 0, nil, e
	}
	obj, e := readObject(r, true)
	if e != nil {
		return 0, nil, e
	}
	var overrides map[string]json.RawMessage
	if raw, ok := obj["override_config"]; ok && string(raw) != "null" && json.Unmarshal(raw, &overrides) != nil {
		return 0, nil, invalidValue("override_config")
	}
	run, err := d.syncs.SyncPulpRepo(r.Context(), ps.ByName("repo"), overrides)
	if err != nil {
		return 0, nil, repoError(err, ps.ByName("repo"))
	}
	t := syncTask(run)
	if d.callReports24 {
		return http.StatusAccepted, map[string]any{"result": nil, "error": nil,
			"spawned_tasks": []any{map[string]string{"_href": taskHref(t.ID), "task_id": t.ID}}}, nil
	}
	return http.StatusAccepted, []any{groupReport(t)}, nil
}

// groupReport is a 2.0-2.3 call report of a sync's group, and a 2.4+ one.
func groupReport(t fsm.PulpTask) map[string]any {
	v := callReport(t)
	v["task_group_id"], v["_href"] = t.ID, Prefix+"/task_groups/"+t.ID+"/"
	v["call_request_id"], v["call_request_group_id"], v["call_request_tags"] = t.ID, t.ID, t.Tags
	v["principal_login"], v["dependency_failures"] = t.CreatedBy, map[string]any{}
	return v
}

// A sync's task group is the sync alone: its id is the sync's.
func (d *dialect) taskGroup(_ *http.Request, ps httprouter.Params) (int, any, error) {
	run, ok := d.runs.Run(ps.ByName("group"))
	if !ok || run.Feed == nil || run.Executor != d.status.ClusterID() {
		return 0, nil, missingResource("task_group_id", ps.ByName("group"))
	}
	return http.StatusOK, []any{groupReport(syncTask(run))}, nil
}

// stateSummary counts a group's tasks by state; an unknown group counts
// none (Pulp 2.8+ answers so).
func (d *dialect) stateSummary(_ *http.Request, ps httprouter.Params) (int, any, error) {
	sum := map[string]int{"accepted": 0, "finished": 0, "running": 0, "canceled": 0, "waiting": 0, "skipped": 0, "suspended": 0, "error": 0, "total": 0}
	if run, ok := d.runs.Run(ps.ByName("group")); ok && run.Feed != nil && run.Executor == d.status.ClusterID() {
		sum[syncTask(run).State]++
		sum["total"]++
	}
	return http.StatusOK, sum, nil
}

// syncTask shows a run of the dialect's (a sync, a consumer's content
// install or update) as Pulp's task.
func syncTask(r fsm.Run) fsm.PulpTask {
	t := fsm.PulpTask{ID: r.ID, Cluster: r.Executor, CreatedBy: r.CreatedBy, Error: r.Error, StartTime: r.StartedAt, FinishTime: r.FinishedAt}
	if r.Feed != nil {
		t.Type, t.Tags = "pulp.server.managers.repo.sync.sync", []string{"pulp:repository:" + r.Feed.PulpRepo, "pulp:action:sync"}
	} else if r.PulpContent != nil {
		t.Type = "pulp.server.managers.consumer.agent." + r.PulpContent.Action
		t.Tags = []string{"pulp:consumer:" + r.PulpContent.Consumer, "pulp:action:unit_" + r.PulpContent.Action}
	}
	switch r.State {
	case fsm.RunWaiting:
		t.State = fsm.PulpTaskWaiting
	case fsm.RunRunning:
		t.State = fsm.PulpTaskRunning
	case fsm.RunSuccess:
		t.State = fsm.PulpTaskFinished
	case fsm.RunCanceled:
		t.State = fsm.PulpTaskCanceled
	default:
		t.State = fsm.PulpTaskError
	}
	return t
}

// progressReport is the ISO importer's progress (pulp_rpm's
// ISOProgressReport) from the run's counters.
func progressReport(r fsm.Run) map[string]any {
	var p fsm.TargetProgress
	if len(r.Targets) > 0 {
		p = r.Targets[0]
	}
	state := map[fsm.RunState]string{fsm.RunWaiting: "not_started", fsm.RunRunning: "isos_in_progress", fsm.RunSuccess: "complete",
		fsm.RunCanceled: "cancelled"}[r.State]
	if state == "" {
		state = "isos_failed"
		if p.ObjectsTotal == 0 {
			state = "manifest_failed"
		}
	}
	var msg any
	if r.Error != "" {
		msg = r.Error
	}
	return map[string]any{"iso_importer": map[string]any{
		"state": state, "error_message": msg, "traceback": nil, "total_bytes": p.BytesTotal, "finished_bytes": p.BytesDone,
		"num_isos": p.ObjectsTotal, "num_isos_finished": p.ObjectsDone + p.ObjectsSkipped, "iso_error_messages": []any{},
		"state_times": map[string]any{},
	}}
}

// pulpRun is whether r is a run of the dialect's: a sync, or a content
// install or update.
func pulpRun(r fsm.Run) bool { return r.Feed != nil || r.PulpContent != nil }

// syncRuns are the region's runs of the dialect's.
func (d *dialect) syncRuns() []fsm.Run {
	return slices.DeleteFunc(d.runs.Runs(fsm.RunFilter{Executor: d.status.ClusterID()}), func(r fsm.Run) bool { return !pulpRun(r) })
}
