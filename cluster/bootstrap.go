package cluster

import (
	"errors"
	"slices"
	"strings"

	"github.com/hashicorp/raft"
)

// maybeBootstrap bootstraps the Raft group when bootstrap-expect agents that
// agree on it are alive and none of them has Raft state yet. It reports true
// when there is nothing more for it to do: bootstrapped here, not asked to,
// or another agent already holds the group (its leader will add us).
func (n *Node) maybeBootstrap() bool {
	expect := n.cfg.BootstrapExpect
	if expect == 0 || n.hasState.Load() {
		return true
	}
	var servers []raft.Server
	for _, m := range n.members.list() {
		if m.Status != StatusAlive || m.Leaving {
			continue
		}
		if m.HasState {
			n.log.Info("not bootstrapping: an agent already holds Raft state; waiting to be added", "member", m.ID)
			return true
		}
		if m.BootstrapExpect == 0 {
			continue // joins an existing group; never a founding voter
		}
		if m.BootstrapExpect != expect {
			n.log.Error("not bootstrapping: agents disagree on bootstrap-expect", "member", m.ID, "theirs", m.BootstrapExpect, "ours", expect)
			return false
		}
		servers = append(servers, raft.Server{ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.RaftAddr), Suffrage: raft.Voter})
	}
	if len(servers) < expect {
		return false
	}
	if len(servers) > expect {
		// Agents that each saw a different set would found different groups.
		// Raft's safety comes before liveness: refuse, and say how to fix it.
		n.log.Error("not bootstrapping: more agents with this bootstrap-expect are alive than expected; "+
			"give the founding agents the right --bootstrap-expect, or start the extra ones without it",
			"expect", expect, "seen", len(servers))
		return false
	}
	slices.SortFunc(servers, func(a, b raft.Server) int { return strings.Compare(string(a.ID), string(b.ID)) })
	err := n.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error()
	if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		n.log.Error("bootstrap failed", "err", err)
		return false
	}
	n.log.Info("bootstrapped the Raft group", "voters", len(servers))
	n.hasState.Store(true)
	n.refreshMeta()
	return true
}
