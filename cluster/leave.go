package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"
)

// Leave leaves the group gracefully and returns when this agent is out of
// the Raft configuration (or ctx ends): it announces the leave in its gossip
// metadata, hands leadership to a voter that is not leaving while it holds
// it, waits for the leader to remove it, and leaves the gossip pool. The
// caller keeps its leader loops running meanwhile (a leaving leader still
// removes other leaving members) and calls Shutdown afterwards.
//
// removedByLeader, when given, asks the leader whether this agent is still in
// its configuration: raft sends a removed server the entry that removes it
// only once, as it stops replicating to it, so under load the local
// configuration may never show the removal.
func (n *Node) Leave(ctx context.Context, removedByLeader func(context.Context) bool) error {
	n.leaving.Store(true)
	n.refreshMeta()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastTransfer, lastAsked time.Time
	for {
		servers, err := n.servers()
		if err != nil {
			return fmt.Errorf("leave: %w", err)
		}
		in := slices.ContainsFunc(servers, func(s raft.Server) bool { return string(s.ID) == n.cfg.ID })
		if !in || len(servers) <= 1 {
			break
		}
		if n.IsLeader() && time.Since(lastTransfer) > 2*time.Second {
			lastTransfer = time.Now()
			n.transferLeadership(servers)
		}
		if !n.IsLeader() && removedByLeader != nil && time.Since(lastAsked) > time.Second {
			lastAsked = time.Now()
			if removedByLeader(ctx) {
				break
			}
		}
		select {
		case <-ctx.Done():
			n.log.Warn("leaving without confirmation that the leader removed this agent", "err", ctx.Err())
			n.leaveGossip()
			return fmt.Errorf("leave: removal from the Raft configuration not confirmed: %w", ctx.Err())
		case <-tick.C:
		}
	}
	n.log.Info("removed from the Raft configuration; leaving gossip")
	n.leaveGossip()
	return nil
}

// leaveGossip broadcasts the leave. It can time out when no peer is left to
// hear it (the whole group leaving), which is harmless: they are gone too.
func (n *Node) leaveGossip() {
	if err := n.ml.Leave(5 * time.Second); err != nil {
		n.log.Warn("gossip leave", "err", err)
	}
}

// transferLeadership hands leadership to an alive voter that is not leaving.
// With none, this leader stays and its reconcile removes the leaving ones
// until it is the last server.
func (n *Node) transferLeadership(servers []raft.Server) {
	for _, s := range servers {
		m, ok := n.members.get(string(s.ID))
		if s.Suffrage != raft.Voter || m.ID == n.cfg.ID || !ok || m.Status != StatusAlive || m.Leaving {
			continue
		}
		n.log.Info("transferring leadership before leaving", "to", m.ID)
		if err := n.raft.LeadershipTransferToServer(s.ID, s.Address).Error(); err != nil {
			n.log.Warn("leadership transfer failed", "to", m.ID, "err", err)
			continue
		}
		return
	}
}
