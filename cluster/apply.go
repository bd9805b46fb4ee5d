package cluster

import (
	"context"
	"time"

	"github.com/hashicorp/raft"
)

// ErrNotLeader is returned by Apply on a follower.
var ErrNotLeader = raft.ErrNotLeader

// Apply proposes data on the leader and returns the log index and the FSM's
// response. raft.ErrLeadershipLost means the outcome is unknown.
func (n *Node) Apply(data []byte, timeout time.Duration) (uint64, any, error) {
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		return 0, nil, err
	}
	return f.Index(), f.Response(), nil
}

// Snapshot takes a Raft snapshot now and compacts the log behind it.
func (n *Node) Snapshot() error { return n.raft.Snapshot().Error() }

// Barrier waits until everything committed before it is applied here, or
// until ctx ends.
func (n *Node) Barrier(ctx context.Context, timeout time.Duration) error {
	return await(ctx, n.raft.Barrier(timeout))
}

// await waits for a raft future or for ctx, whichever ends first. A future
// cannot be cancelled; the waiting goroutine ends when raft resolves it (by
// its own timeout at the latest, or ErrRaftShutdown).
func await(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
