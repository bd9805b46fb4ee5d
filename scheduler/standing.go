package scheduler

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// Standing runs: an enabled REAL_TIME task has one standing run, which its
// source agent executes until the task is disabled or deleted. The leader
// starts it whenever the task has none (a new task, a re-enabled one, or one
// whose run ended: failed while its executor was away, say), after a pause
// that doubles while the task's runs keep failing soon after they were
// fired, so that a permanent failure under FAST_FAIL does not churn Raft.
const (
	standingPause    = 2 * time.Second
	standingMaxPause = time.Minute
	// standingSoon is how soon after its firing a failed run counts as one
	// more failure in a row.
	standingSoon = time.Minute
)

// StandingState is what the standing loop reads: the replicated tasks and
// runs, and a channel closed at the next applied change.
type StandingState interface {
	Tasks() []fsm.Task
	Runs(filter fsm.RunFilter) []fsm.Run
	Changed() <-chan struct{}
}

// Standing starts the standing runs of REAL_TIME tasks. Run it on the leader
// only, after its barrier; it returns when ctx ends (leadership lost).
type Standing struct {
	State StandingState
	// Fire applies a command through Raft on the leader (the agent's
	// applyLocal); the fsm refuses a task that has a run already.
	Fire func(cmd fsm.Command) (fsm.Result, error)
	// Executable reports whether a source agent is there to execute a run
	// (alive to gossip): a run fired for an absent source would only be
	// failed by the leader again. Nil means always.
	Executable func(cluster string) bool
	Log        *slog.Logger
	Now        func() time.Time
}

// due is when a task's standing run is to be fired.
type due struct {
	key, source string
	at          time.Time
}

// standingDue says, for each enabled REAL_TIME task that has no WAITING or
// RUNNING run, when to fire its standing run. runs are the tasks' runs,
// newest first.
func standingDue(tasks []fsm.Task, runs []fsm.Run, now time.Time) []due {
	byTask := map[string][]fsm.Run{}
	for _, r := range runs {
		byTask[r.TaskKey] = append(byTask[r.TaskKey], r)
	}
	var out []due
	for _, t := range tasks {
		if !t.Enabled || t.ReplicaType != fsm.ReplicaRealTime {
			continue
		}
		rs := byTask[t.Key]
		if standingBusy(rs) {
			continue
		}
		at := now
		if len(rs) > 0 {
			at = rs[0].CreatedAt.Add(restartPause(rs))
		}
		out = append(out, due{key: t.Key, source: t.SourceCluster, at: at})
	}
	return out
}

func standingBusy(runs []fsm.Run) bool {
	for _, r := range runs {
		if r.State == fsm.RunWaiting || r.State == fsm.RunRunning {
			return true
		}
	}
	return false
}

// restartPause is standingPause, doubled for each of the newest runs that
// failed soon after it was fired, up to standingMaxPause.
func restartPause(newestFirst []fsm.Run) time.Duration {
	pause := standingPause
	for _, r := range newestFirst {
		if pause >= standingMaxPause || r.State != fsm.RunFailed || r.FinishedAt.Sub(r.CreatedAt) > standingSoon {
			break
		}
		pause *= 2
	}
	return min(pause, standingMaxPause)
}

// Run fires standing runs as they come due until ctx ends, waking when the
// state changes or at the next due time.
func (s *Standing) Run(ctx context.Context) {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	// A fire that failed is tried again after a pause that doubles.
	retry := map[string]backoff{}
	wakeLoop(ctx, s.State.Changed, func() time.Time {
		wake := now().Add(idleWake)
		tasks := s.State.Tasks()
		dues := standingDue(tasks, s.runsOf(tasks), now())
		maps.DeleteFunc(retry, func(key string, _ backoff) bool {
			return !slices.ContainsFunc(dues, func(d due) bool { return d.key == key })
		})
		for _, d := range dues {
			if s.Executable != nil && !s.Executable(d.source) {
				continue // looked at again at the next change or idle wake
			}
			if b, ok := retry[d.key]; ok && b.at.After(d.at) {
				d.at = b.at
			}
			switch {
			case d.at.After(now()):
				wake = minTime(wake, d.at)
			case s.fire(d):
				delete(retry, d.key)
			default:
				retry[d.key] = retry[d.key].next(now())
				wake = minTime(wake, retry[d.key].at)
			}
		}
		return wake
	})
}

// runsOf are the runs of the enabled REAL_TIME tasks, newest first per task.
func (s *Standing) runsOf(tasks []fsm.Task) []fsm.Run {
	var out []fsm.Run
	for _, t := range tasks {
		if t.Enabled && t.ReplicaType == fsm.ReplicaRealTime {
			out = append(out, s.State.Runs(fsm.RunFilter{TaskKey: t.Key})...)
		}
	}
	return out
}

// fire commits a standing run; false means it should be tried later.
func (s *Standing) fire(d due) bool {
	cmd, err := fsm.NewCommand(fsm.CmdFireTask, fsm.FireTask{Key: d.key, RunID: fsm.NewID(), Trigger: fsm.TriggerRealTime, By: "realtime:" + d.source})
	if err == nil {
		var res fsm.Result
		if res, err = s.Fire(cmd); err == nil {
			err = res.Err
		}
	}
	switch {
	case err == nil:
		s.Log.Info("standing run fired", "task", d.key)
		return true
	case fsm.KindOf(err) == fsm.KindConflict:
		return true // it has a run already, or is no longer an enabled REAL_TIME task
	}
	s.Log.Warn("standing run not fired", "task", d.key, "err", err)
	return false
}

// backoff is a retry time whose pause doubles, capped at standingMaxPause.
type backoff struct {
	at    time.Time
	pause time.Duration
}

func (b backoff) next(now time.Time) backoff {
	b.pause = min(max(2*b.pause, standingPause), standingMaxPause)
	b.at = now.Add(b.pause)
	return b
}
