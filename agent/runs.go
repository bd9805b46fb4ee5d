package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/store"
)

// specDefaults fills in what a spec, a run's or a task's, may leave out: the
// source is this cluster, and each object's remote project and repository
// are its local ones.
func (a *Agent) specDefaults(source *string, project string, objects []fsm.ReplicaObject) {
	if *source == "" {
		*source = a.cfg.ClusterID
	}
	for i, o := range objects {
		if o.RemoteProjectID == "" {
			objects[i].RemoteProjectID = project
		}
		if o.RemoteRepoName == "" {
			objects[i].RemoteRepoName = o.LocalRepoName
		}
	}
}

// StartRun implements api.Runs.
func (a *Agent) StartRun(ctx context.Context, spec fsm.ReplicaSpec) (fsm.Run, error) {
	a.specDefaults(&spec.SourceCluster, spec.LocalProjectID, spec.Objects)
	// Checked here against this agent's registry too, so that a bad request
	// costs no Raft entry; Apply checks again against the leader's.
	if err := fsm.ValidateSpec(spec, a.clusterRegistry()); err != nil {
		return fsm.Run{}, err
	}
	id := fsm.NewID()
	caller := api.CallerOf(ctx)
	cmd, err := fsm.NewCommand(fsm.CmdCreateRun, fsm.Run{ID: id, Trigger: fsm.TriggerManual, Spec: spec, CreatedBy: caller.Name})
	if err != nil {
		return fsm.Run{}, err
	}
	if err := a.propose(ctx, caller.Secret, cmd); err != nil {
		return fsm.Run{}, err
	}
	return a.runAfterWrite(id)
}

// CancelRun implements api.Runs.
func (a *Agent) CancelRun(ctx context.Context, id string) (fsm.Run, error) {
	cmd, err := fsm.NewCommand(fsm.CmdCancelRun, fsm.RunRef{ID: id})
	if err != nil {
		return fsm.Run{}, err
	}
	if err := a.propose(ctx, api.CallerOf(ctx).Secret, cmd); err != nil {
		return fsm.Run{}, err
	}
	return a.runAfterWrite(id)
}

func (a *Agent) runAfterWrite(id string) (fsm.Run, error) {
	run, ok := a.fsm.Run(id)
	if !ok {
		return fsm.Run{}, fmt.Errorf("run %s was written but is already gone", id)
	}
	return run, nil
}

func (a *Agent) clusterRegistry() map[string]fsm.ClusterRecord {
	out := map[string]fsm.ClusterRecord{}
	for _, c := range a.fsm.Clusters() {
		out[c.ID] = c
	}
	return out
}

// Runs implements api.Runs.
func (a *Agent) Runs(filter fsm.RunFilter) []fsm.Run { return a.fsm.Runs(filter) }

// Run implements api.Runs.
func (a *Agent) Run(id string) (fsm.Run, bool) { return a.fsm.Run(id) }

// RunObjects implements api.Runs: the detail of a run this agent executed
// is in its local database; that of another's, the executor serves.
func (a *Agent) RunObjects(ctx context.Context, runID string, f fsm.ObjectFilter, page store.PageRequest) (store.Page[fsm.ObjectRecord], error) {
	run, ok := a.fsm.Run(runID)
	if !ok || run.Executor == a.cfg.ClusterID {
		return a.executor.Objects(runID, f, page)
	}
	addr, ok := a.ClusterAPIAddr(run.Executor)
	if !ok {
		return store.Page[fsm.ObjectRecord]{}, &peer.StatusError{Code: http.StatusServiceUnavailable, Message: fmt.Sprintf("the executor of run %s, cluster %q, has no known address", runID, run.Executor)}
	}
	q := api.ObjectFilterQuery(f)
	q.Set("pageNumber", strconv.Itoa(page.Number))
	q.Set("pageSize", strconv.Itoa(page.Size))
	var out store.Page[fsm.ObjectRecord]
	err := a.peers.Do(ctx, peer.Request{Method: http.MethodGet, Addr: addr, Cluster: run.Executor, Path: "/v1/runs/" + url.PathEscape(runID) + "/objects", Query: q,
		Token: a.cfg.Token, TraceID: api.TraceID(ctx)}, &out)
	return out, err
}

// StateChanged implements api.Runs.
func (a *Agent) StateChanged() <-chan struct{} { return a.fsm.Changed() }
