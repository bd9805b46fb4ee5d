package cluster

import (
	"context"
	"fmt"
)

// StepDown hands leadership to another voter when this agent leads, and
// returns when the transfer is done or ctx ends. It is what a stop without
// leaving does first: the group gets a new leader at once instead of after
// an election timeout, and this agent stays in the Raft configuration.
func (n *Node) StepDown(ctx context.Context) error {
	if !n.IsLeader() {
		return nil
	}
	servers, err := n.servers()
	if err != nil || len(servers) <= 1 {
		return err // alone: nobody to hand over to
	}
	n.log.Info("transferring leadership before stopping")
	if err := await(ctx, n.raft.LeadershipTransfer()); err != nil {
		return fmt.Errorf("leadership transfer: %w", err)
	}
	return nil
}

// AppliedIndex is the last Raft index applied to this agent's FSM.
func (n *Node) AppliedIndex() uint64 { return n.raft.AppliedIndex() }

// CommitIndex is the last Raft index this agent knows to be committed.
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }
