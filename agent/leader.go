package agent

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/scheduler"
)

// monitorLeadership starts the leader-only loops when this agent gains
// leadership and stops them, waiting for them to return, when it loses it.
func (a *Agent) monitorLeadership() {
	var running *leaderLoops
	defer func() { running.stop() }()
	for {
		select {
		case <-a.ctx.Done():
			return
		case isLeader := <-a.node.LeaderCh():
			switch {
			case !isLeader:
				running.stop()
				running = nil
			case running == nil:
				running = a.startLeaderLoops()
			}
		}
	}
}

// leaderLoops is one term of leadership's loops.
type leaderLoops struct {
	cancel context.CancelFunc
	done   chan struct{}
	log    *slog.Logger
}

func (a *Agent) startLeaderLoops() *leaderLoops {
	ctx, cancel := context.WithCancel(a.ctx)
	l := &leaderLoops{cancel: cancel, done: make(chan struct{}), log: a.log}
	go func() {
		defer close(l.done)
		a.leaderLoop(ctx)
	}()
	return l
}

func (l *leaderLoops) stop() {
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
	l.log.Info("leader loops stopped")
}

// leaderLoop waits for a barrier, so that the state reflects everything the
// previous leader committed, then runs the membership reconcile until ctx ends.
func (a *Agent) leaderLoop(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		err := a.node.Barrier(ctx, 10*time.Second)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		a.log.Warn("leader barrier failed, retrying", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	a.log.Info("leader loops started", "index", a.fsm.AppliedIndex())
	a.consistentReady.Store(true)
	defer a.consistentReady.Store(false)
	var loops sync.WaitGroup
	loops.Add(5)
	go func() {
		defer loops.Done()
		a.watchExecutors(ctx)
	}()
	go func() {
		defer loops.Done()
		a.pruneCredentials(ctx)
	}()
	go func() {
		defer loops.Done()
		(&scheduler.Standing{State: a.fsm, Fire: a.applyLocal, Executable: a.memberAlive, Log: a.log.With("component", "standing")}).Run(ctx)
	}()
	go func() {
		defer loops.Done()
		loop := scheduler.Loop{State: a.fsm, Fire: a.fireSlot, Zone: a.cfg.Location(), Log: a.log.With("component", "scheduler"), Metrics: a.schedulerMetrics}
		loop.Run(ctx)
	}()
	go func() {
		defer loops.Done()
		(&scheduler.PulpLoop{State: a.fsm, Fire: a.firePulpSlot, Log: a.log.With("component", "pulp-scheduler")}).Run(ctx)
	}()
	a.node.RunReconcile(ctx, a.syncRegistry)
	loops.Wait()
}

// syncRegistry keeps the replicated cluster registry equal to the Raft
// configuration, with each member's gossiped name, labels and addresses.
func (a *Agent) syncRegistry(ctx context.Context, members []cluster.Member, peers []cluster.Peer) {
	byID := map[string]cluster.Member{}
	for _, m := range members {
		byID[m.ID] = m
	}
	inConfig := map[string]bool{}
	for _, p := range peers {
		inConfig[p.ID] = true
		m, ok := byID[p.ID]
		if !ok {
			continue
		}
		want := fsm.ClusterRecord{
			ID: m.ID, Name: m.Name, Labels: m.Labels, APIAddr: m.APIAddr, RaftAddr: m.RaftAddr,
			GossipAddr: m.GossipAddr, Version: m.Version,
		}
		if have, ok := a.fsm.Cluster(p.ID); ok && sameRecord(have, want) {
			continue
		}
		a.applyInternal(ctx, fsm.CmdRegisterCluster, want)
	}
	for _, rec := range a.fsm.Clusters() {
		if !inConfig[rec.ID] {
			a.applyInternal(ctx, fsm.CmdDeregisterCluster, fsm.DeregisterCluster{ID: rec.ID})
		}
	}
}

func sameRecord(a, b fsm.ClusterRecord) bool {
	return a.ID == b.ID && a.Name == b.Name && maps.Equal(a.Labels, b.Labels) && a.APIAddr == b.APIAddr &&
		a.RaftAddr == b.RaftAddr && a.GossipAddr == b.GossipAddr && a.Version == b.Version
}

// applyInternal applies a command of the leader's own loops.
func (a *Agent) applyInternal(ctx context.Context, t fsm.CommandType, payload any) {
	if ctx.Err() != nil || !a.node.IsLeader() {
		return
	}
	cmd, err := fsm.NewCommand(t, payload)
	if err != nil {
		a.log.Error("build command", "type", t, "err", err)
		return
	}
	res, err := a.applyLocal(cmd)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		a.log.Warn("leader command failed", "type", t, "err", err)
	}
}

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

// watchExecutors is a leader loop: a run whose executing agent has failed or
// left (as gossip says) is ended FAILED with that reason rather than staying
// RUNNING forever. It is not re-dispatched: the next run plans again and
// sends only what is still missing. An executor that comes back before
// gossip declares it failed resumes its runs itself.
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

// fireSlot is the scheduler's way to commit a slot with its run. It runs on
// the leader's own loop.
// firePulpSlot commits a Pulp schedule's slot with its sync run.
func (a *Agent) firePulpSlot(ctx context.Context, id string, slot time.Time) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	cmd, err := fsm.NewCommand(fsm.CmdPulpFire, fsm.PulpFire{ID: id, Slot: slot, RunID: fsm.NewID(), Project: PulpProject})
	if err != nil {
		return err
	}
	res, err := a.applyLocal(cmd)
	if err == nil {
		err = res.Err
	}
	return err
}

func (a *Agent) fireSlot(ctx context.Context, key string, slot time.Time) (fsm.Run, error) {
	if ctx.Err() != nil {
		return fsm.Run{}, ctx.Err()
	}
	id := fsm.NewID()
	cmd, err := fsm.NewCommand(fsm.CmdFireTask, fsm.FireTask{Key: key, RunID: id, Trigger: fsm.TriggerScheduled, Slot: slot, By: "scheduler"})
	if err != nil {
		return fsm.Run{}, err
	}
	res, err := a.applyLocal(cmd)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return fsm.Run{}, err
	}
	r, _ := a.fsm.Run(id)
	return r, nil
}
