package agent

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Terminate is what SIGINT and SIGTERM do. By default the agent stays in
// the Raft configuration, as Consul's servers do with leave_on_terminate
// false: it hands leadership over if it holds it and stops, the others see
// it fail, and its data dir brings it back as the same voter. A group whose
// agents all stop this way keeps every voter, so any majority of them
// elects a leader when it comes back; a group whose agents left one by one
// would be down to the last of them. With --leave-on-terminate it leaves
// gracefully instead (Leave).
func (a *Agent) Terminate(ctx context.Context) error {
	if a.cfg.LeaveOnTerminate {
		return a.Leave(ctx)
	}
	a.log.Info("stopping without leaving the group")
	if err := a.node.StepDown(ctx); err != nil {
		// Stopping is still right: the others elect a leader after their
		// election timeout instead of at once.
		a.log.Warn("stopping as leader without a handover", "err", err)
	}
	return a.Shutdown()
}

// leaveState is a leave asked through the API: one at a time, and a
// channel closed when it has stopped the agent.
type leaveState struct {
	started atomic.Bool
	once    sync.Once
	done    chan struct{}
}

func (l *leaveState) doneCh() chan struct{} {
	l.once.Do(func() { l.done = make(chan struct{}) })
	return l.done
}

// LeaveGroup implements api.Leaver (PUT /v1/agent/leave, ferry leave): it
// returns once this agent is out of the Raft configuration, then stops the
// agent in the background (the answer must go out before the API closes)
// and closes Left.
func (a *Agent) LeaveGroup(ctx context.Context) error {
	if !a.leave.started.CompareAndSwap(false, true) {
		return errors.New("this agent is already leaving")
	}
	a.log.Info("leaving the group, as asked through the API")
	err := a.node.Leave(ctx, a.removedByLeader)
	go func() {
		if err := a.Shutdown(); err != nil {
			a.log.Warn("stop after leave", "err", err)
		}
		close(a.leave.doneCh())
	}()
	return err
}

// Left is closed when the agent has left through the API and stopped: the
// process running it then exits.
func (a *Agent) Left() <-chan struct{} { return a.leave.doneCh() }
