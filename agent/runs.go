package agent

import (
	"context"
	"fmt"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
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

// RunObjects implements api.Runs.
func (a *Agent) RunObjects(runID, status, target string, page store.PageRequest) (store.Page[fsm.ObjectRecord], error) {
	return a.executor.Objects(runID, status, target, page)
}

// StateChanged implements api.Runs.
func (a *Agent) StateChanged() <-chan struct{} { return a.fsm.Changed() }
