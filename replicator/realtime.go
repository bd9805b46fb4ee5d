package replicator

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/prometheus/client_golang/prometheus"
)

// Real-time replication: a REAL_TIME task whose source is this agent has one
// standing run, executed here until the task is disabled or deleted. The
// leader decides when it starts (scheduler.Standing); this agent delivers the
// watched repositories' changes through the outbox (outbox.go).

// notifier is the store's wake-up on committed changes to one repository
// (store.Local has it).
type notifier interface {
	Changed(project, repo string) <-chan struct{}
}

// watchRepos returns a channel closed at the next committed change to any of
// the named repositories of project, and a stop for its fan-in goroutine.
func watchRepos(n notifier, project string, repos []string) (<-chan struct{}, func()) {
	if len(repos) == 1 {
		return n.Changed(project, repos[0]), func() {}
	}
	woke, stop := make(chan struct{}), make(chan struct{})
	var once sync.Once
	for _, r := range repos {
		ch := n.Changed(project, r)
		go func() {
			select {
			case <-ch:
				once.Do(func() { close(woke) })
			case <-stop:
			}
		}()
	}
	return woke, func() { close(stop) }
}

// executeRealTime runs a REAL_TIME task's standing run until the task is
// disabled or deleted (the run is canceled) or this agent stops.
func (e *Executor) executeRealTime(ctx context.Context, r fsm.Run) {
	log := e.log.With("run", r.ID, "task", r.TaskKey)
	if err := e.propose(ctx, fsm.CmdStartRun, fsm.RunRef{ID: r.ID, Executor: e.cfg.ClusterID}); err != nil {
		return
	}
	task, ok := e.cfg.FSM.Task(r.TaskKey)
	if !ok || task.ReplicaType != fsm.ReplicaRealTime {
		err := e.propose(e.ctx, fsm.CmdFinishRun, fsm.RunProgress{ID: r.ID, Executor: e.cfg.ClusterID, State: fsm.RunFailed, Error: "no REAL_TIME task " + r.TaskKey})
		if err != nil && fsm.KindOf(err) == "" && e.ctx.Err() == nil {
			log.Warn("real-time run end not recorded", "err", err)
		}
		return
	}
	log.Info("real-time replication started", "targets", r.Spec.RemoteClusterIDs)
	r.Spec.Setting.ConflictStrategy = task.RealTimeConflict()
	x, ctx := newRunExec(ctx, e, r, log)
	defer x.fail(nil)
	x.eachTarget(ctx, func(t *targetExec) { t.realTime(ctx, task) })
	x.flushRecords()
	if e.ctx.Err() != nil {
		return // stays RUNNING: this agent resumes it from the cursors
	}
	e.outbox.forget(r.TaskKey) // a task that no longer delivers has no depth
	final := fsm.RunProgress{ID: r.ID, Executor: e.cfg.ClusterID, Targets: x.progress(false), State: fsm.RunCanceled, Error: "the task was disabled or deleted"}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, errCanceled) && !errors.Is(cause, context.Canceled) {
		final.State, final.Error = fsm.RunFailed, cause.Error()
	}
	for i := range final.Targets {
		final.Targets[i].BytesPerSecond = 0
	}
	if err := e.propose(e.ctx, fsm.CmdFinishRun, final); err != nil && fsm.KindOf(err) == "" {
		log.Warn("real-time run end not recorded", "err", err)
	}
	log.Info("real-time replication stopped", "state", final.State)
}

// realTime delivers the task's changes to one target until ctx ends: a
// round at once after one that made progress, after a backoff after one
// that failed, else at the next change (or within 2 s).
func (t *targetExec) realTime(ctx context.Context, task fsm.Task) {
	n, hasNotifier := t.rc.store.(notifier)
	repos := watchedRepos(task)
	const firstBackoff = 250 * time.Millisecond
	backoff := firstBackoff
	for ctx.Err() == nil {
		var wake <-chan struct{}
		stopWatch := func() {}
		if hasNotifier {
			wake, stopWatch = watchRepos(n, task.ProjectID, repos)
		}
		progressed, err := t.deliverAll(ctx, task)
		wait := 2 * time.Second
		switch {
		case ctx.Err() != nil:
			wait = 0
		case err != nil:
			t.rc.log.Warn("real-time delivery failed, retrying", "target", t.id, "err", err, "retry_in", backoff)
			wake, wait, backoff = nil, backoff, min(2*backoff, 30*time.Second)
		case progressed:
			wait, backoff = 0, firstBackoff
		default:
			backoff = firstBackoff
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-wake:
			case <-time.After(wait):
			}
		}
		stopWatch()
	}
}

// watchedRepos are the local repositories a task's objects name.
func watchedRepos(task fsm.Task) []string {
	var out []string
	for _, o := range task.Objects {
		if !slices.Contains(out, o.LocalRepoName) {
			out = append(out, o.LocalRepoName)
		}
	}
	return out
}

// deliverAll delivers one round of changes of every watched repository.
func (t *targetExec) deliverAll(ctx context.Context, task fsm.Task) (bool, error) {
	progressed := false
	var depth int64
	for i, o := range task.Objects {
		p, d, err := t.deliver(ctx, task, i, o)
		if err != nil {
			return progressed, err
		}
		progressed = progressed || p
		depth += d
	}
	t.outboxDepth(task.Key, depth)
	return progressed, nil
}

// outboxDepth records the changes this target still has to receive from a task.
func (t *targetExec) outboxDepth(task string, n int64) {
	if t.rc.outbox != nil {
		t.rc.outbox.set(task, t.id, n)
	}
}

// depthGauge sums, per target, the outbox depths of every task, and keeps
// each task's depth and when its target was last caught up, for
// Executor.Outbox.
type depthGauge struct {
	mu     sync.Mutex
	depths map[string]map[string]OutboxDepth // by target, task
	gauge  *prometheus.GaugeVec
}

// OutboxDepth is what one target still has to receive from one REAL_TIME
// task this agent is the source of.
type OutboxDepth struct {
	Task   string `json:"task"`
	Target string `json:"target"`
	// Depth counts the changes not yet delivered (up to 1,000 per
	// repository).
	Depth int64 `json:"depth"`
	// CaughtUp is when a delivery round last left nothing to deliver
	// (zero: not since this agent started).
	CaughtUp time.Time `json:"caughtUp,omitzero"`
}

func (g *depthGauge) set(task, target string, n int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.depths == nil {
		g.depths = map[string]map[string]OutboxDepth{}
	}
	if g.depths[target] == nil {
		g.depths[target] = map[string]OutboxDepth{}
	}
	d := g.depths[target][task]
	d.Task, d.Target, d.Depth = task, target, n
	if n == 0 {
		d.CaughtUp = time.Now().UTC()
	}
	g.depths[target][task] = d
	g.publish(target)
}

// forget drops a task's depths, and their part of each target's sum.
func (g *depthGauge) forget(task string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for target, byTask := range g.depths {
		if _, ok := byTask[task]; !ok {
			continue
		}
		delete(byTask, task)
		g.publish(target)
	}
}

// publish sets the target's gauge to the sum of its tasks' depths; the
// caller holds mu.
func (g *depthGauge) publish(target string) {
	var sum int64
	for _, d := range g.depths[target] {
		sum += d.Depth
	}
	if g.gauge != nil {
		g.gauge.WithLabelValues(target).Set(float64(sum))
	}
}

func (g *depthGauge) all() []OutboxDepth {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []OutboxDepth
	for _, byTask := range g.depths {
		for _, d := range byTask {
			out = append(out, d)
		}
	}
	return out
}

// Outbox is the outbox depth of every target of the REAL_TIME tasks this
// agent delivered since it started, one entry per task and target.
func (e *Executor) Outbox() []OutboxDepth { return e.outbox.all() }
