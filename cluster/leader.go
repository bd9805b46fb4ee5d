package cluster

import (
	"time"

	"github.com/hashicorp/raft"
)

// observeLeader turns raft's leader observations into LeaderChanged wake-ups.
func (n *Node) observeLeader() {
	defer n.wg.Done()
	ch := make(chan raft.Observation, 16)
	n.observer = raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	n.raft.RegisterObserver(n.observer)
	defer n.raft.DeregisterObserver(n.observer)
	for {
		select {
		case o := <-ch:
			if lo, ok := o.Data.(raft.LeaderObservation); ok && lo.LeaderID != "" {
				n.leaderChanges.Add(1)
			}
			n.leaderMu.Lock()
			close(n.leaderChanged)
			n.leaderChanged = make(chan struct{})
			n.leaderMu.Unlock()
		case <-n.shutdownCh:
			return
		}
	}
}

// LeaderChanged returns a channel that is closed at the next change of the
// known leader, so that a waiting write can retry at once.
func (n *Node) LeaderChanged() <-chan struct{} {
	n.leaderMu.Lock()
	defer n.leaderMu.Unlock()
	return n.leaderChanged
}

// LeaderChanges counts the times this agent has learned of a new leader
// since it started (losing the leader alone does not count).
func (n *Node) LeaderChanges() uint64 { return n.leaderChanges.Load() }

// IsLeader reports whether this agent is the Raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// LeaderCh delivers true when this agent gains leadership and false when it loses it.
func (n *Node) LeaderCh() <-chan bool { return n.leaderCh }

// Leader is the current leader as this agent knows it.
type Leader struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	APIAddr  string `json:"apiAddr"`
	RaftAddr string `json:"raftAddr"`
}

// Leader returns the known leader, or false when none is known.
func (n *Node) Leader() (Leader, bool) {
	addr, id := n.raft.LeaderWithID()
	if id == "" {
		return Leader{}, false
	}
	l := Leader{ID: string(id), RaftAddr: string(addr)}
	if m, ok := n.members.get(l.ID); ok {
		l.Name, l.APIAddr = m.Name, m.APIAddr
	}
	return l, true
}

// LastContact is when this agent last heard from the leader (now, on the leader).
func (n *Node) LastContact() time.Time {
	if n.IsLeader() {
		return time.Now()
	}
	return n.raft.LastContact()
}

// VerifyLeader confirms with a quorum that this agent is still the leader.
func (n *Node) VerifyLeader() error { return n.raft.VerifyLeader().Error() }
