package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/replicator"
	"github.com/ferrysync/ferry/store"
)

// StartRun implements api.Service.
func (a *Agent) StartRun(ctx context.Context, secret, by string, spec fsm.ReplicaSpec) (fsm.Run, error) {
	if spec.SourceCluster == "" {
		spec.SourceCluster = a.cfg.ClusterID
	}
	for i, o := range spec.Objects {
		if o.RemoteProjectID == "" {
			spec.Objects[i].RemoteProjectID = spec.LocalProjectID
		}
		if o.RemoteRepoName == "" {
			spec.Objects[i].RemoteRepoName = o.LocalRepoName
		}
	}
	// Checked here against this agent's registry too, so that a bad request
	// costs no Raft entry; Apply checks again against the leader's.
	if err := fsm.ValidateSpec(spec, a.clusterRegistry()); err != nil {
		return fsm.Run{}, err
	}
	id := fsm.NewID()
	cmd, err := fsm.NewCommand(fsm.CmdCreateRun, fsm.Run{ID: id, Trigger: fsm.TriggerManual, Spec: spec, CreatedBy: by})
	if err != nil {
		return fsm.Run{}, err
	}
	if err := a.propose(ctx, secret, cmd); err != nil {
		return fsm.Run{}, err
	}
	return a.runAfterWrite(id)
}

// CancelRun implements api.Service.
func (a *Agent) CancelRun(ctx context.Context, secret, id string) (fsm.Run, error) {
	cmd, err := fsm.NewCommand(fsm.CmdCancelRun, fsm.RunRef{ID: id})
	if err != nil {
		return fsm.Run{}, err
	}
	if err := a.propose(ctx, secret, cmd); err != nil {
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

// Runs implements api.Service.
func (a *Agent) Runs(filter fsm.RunFilter) []fsm.Run { return a.fsm.Runs(filter) }

// Run implements api.Service.
func (a *Agent) Run(id string) (fsm.Run, bool) { return a.fsm.Run(id) }

// RunObjects implements api.Service.
func (a *Agent) RunObjects(runID, status, target string, page store.PageRequest) (store.Page[replicator.ObjectRecord], error) {
	return a.executor.Objects(runID, status, target, page)
}

// StateChanged implements api.Service.
func (a *Agent) StateChanged() <-chan struct{} { return a.fsm.Changed() }

// Receiver implements api.Service.
func (a *Agent) Receiver() *replicator.Receiver { return a.receiver }

// proposeAsAgent proposes a command of this agent's own (the executor's run
// reports), with the management token the agents of a group share.
func (a *Agent) proposeAsAgent(ctx context.Context, cmd fsm.Command) error {
	return a.propose(ctx, a.cfg.Token, cmd)
}

// watchExecutors is a leader loop: a run whose executing agent has failed or
// left (as gossip says) is ended FAILED with that reason rather than staying
// RUNNING forever. It is not re-dispatched: the next run plans again and
// sends only what is still missing. An executor that comes back before
// gossip declares it failed resumes its runs itself.
// memberAlive reports whether gossip sees the cluster's agent alive (or
// suspect: it may still be working).
func (a *Agent) memberAlive(id string) bool {
	for _, m := range a.node.Members() {
		if m.ID == id {
			return m.Status != cluster.StatusFailed && m.Status != cluster.StatusLeft
		}
	}
	return false
}

func (a *Agent) watchExecutors(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		status := map[string]cluster.MemberStatus{}
		for _, m := range a.node.Members() {
			status[m.ID] = m.Status
		}
		for _, r := range a.fsm.Runs(fsm.RunFilter{}) {
			if r.State.Terminal() {
				continue
			}
			state, known := status[r.Executor]
			if known && state != cluster.StatusFailed && state != cluster.StatusLeft {
				continue
			}
			if !known {
				state = "unknown to gossip"
			}
			reason := fmt.Sprintf("the executing agent %s is %s (the run was %s)", r.Executor, state, r.State)
			a.log.Warn("failing run of a lost executor", "run", r.ID, "reason", reason)
			a.applyInternal(ctx, fsm.CmdFinishRun, fsm.RunProgress{ID: r.ID, State: fsm.RunFailed, Error: reason})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
