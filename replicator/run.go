package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// execute carries out one run: start it, enumerate, push to every target at
// once, report progress about once a ProgressInterval, and end it.
func (e *Executor) execute(ctx context.Context, r fsm.Run) {
	if r.Trigger == fsm.TriggerRealTime {
		e.executeRealTime(ctx, r)
		return
	}
	if r.Feed != nil {
		e.executeFeed(ctx, r)
		return
	}
	log := e.log.With("run", r.ID)
	if !e.start(ctx, r, log) {
		return
	}
	started := time.Now()
	log.Info("run started", "targets", r.Spec.RemoteClusterIDs, "type", r.Spec.ReplicaObjectType)

	x, ctx := newRunExec(ctx, e, r, log)
	defer x.fail(nil)
	sels, enumErr := selectAll(ctx, e.cfg.Store, r.Spec, x.targets, e.cfg.ListPart)
	if enumErr == nil {
		for _, t := range x.targets {
			t.total(sels)
		}
		x.eachTarget(ctx, func(t *targetExec) { t.execute(ctx, sels) })
	}
	x.flushRecords()
	if enumErr != nil {
		for _, t := range x.targets {
			t.setErr(enumErr)
		}
	}
	if e.ctx.Err() != nil {
		log.Info("agent stopping: the run stays RUNNING and resumes when this agent is back")
		return
	}
	final := fsm.RunProgress{ID: r.ID, Executor: e.cfg.ClusterID, Targets: x.progress(true)}
	final.State, final.Error = finalState(context.Cause(ctx), enumErr, final.Targets)
	e.finish(final, started, log)
}

// start records that this agent executes r. Commands that end the run must
// still go out when the run's context was canceled by a user; only the agent
// stopping stops them.
func (e *Executor) start(ctx context.Context, r fsm.Run, log *slog.Logger) bool {
	err := e.propose(ctx, fsm.CmdStartRun, fsm.RunRef{ID: r.ID, Executor: e.cfg.ClusterID})
	if err != nil && ctx.Err() == nil {
		log.Warn("run could not start", "err", err)
	}
	return err == nil
}

// finalState is how a run ended, from its context's cause, the enumeration's
// error and its targets' final progress.
func finalState(cause, enumErr error, targets []fsm.TargetProgress) (fsm.RunState, string) {
	switch {
	case errors.Is(cause, errCanceled):
		return fsm.RunCanceled, "canceled"
	case enumErr != nil:
		return fsm.RunFailed, enumErr.Error()
	case cause != nil && !errors.Is(cause, context.Canceled):
		return fsm.RunFailed, cause.Error()
	}
	state, reason := fsm.RunSuccess, ""
	for _, t := range targets {
		if t.State == fsm.RunFailed {
			state, reason = fsm.RunFailed, joinReason(reason, t.ClusterID+": "+t.Error)
		}
	}
	return state, reason
}

// finish records the run's end and its metrics.
func (e *Executor) finish(final fsm.RunProgress, started time.Time, log *slog.Logger) {
	if err := e.propose(e.ctx, fsm.CmdFinishRun, final); err != nil && e.ctx.Err() == nil {
		log.Warn("run end not recorded", "err", err)
		return
	}
	e.metrics.runs.WithLabelValues(string(final.State)).Inc()
	e.metrics.duration.Observe(time.Since(started).Seconds())
	for _, t := range final.Targets {
		if t.State == fsm.RunSuccess {
			e.metrics.lastSuccess.WithLabelValues(t.ClusterID).SetToCurrentTime()
		}
	}
	log.Info("run ended", "state", final.State, "err", final.Error, "took", time.Since(started).Round(time.Millisecond))
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// runExec is the shared state of one executing run.
type runExec struct {
	e       *Executor
	run     fsm.Run
	log     *slog.Logger
	targets []*targetExec
	// fail ends the run's context with a reason.
	fail context.CancelCauseFunc

	mu      sync.Mutex
	records []ObjectRecord
}

// newRunExec prepares the execution of r towards each of its targets; its
// context ends with the run (x.fail gives the reason).
func newRunExec(ctx context.Context, e *Executor, r fsm.Run, log *slog.Logger) (*runExec, context.Context) {
	x := &runExec{e: e, run: r, log: log}
	ctx, x.fail = context.WithCancelCause(ctx)
	for _, id := range r.Spec.RemoteClusterIDs {
		x.targets = append(x.targets, newTargetExec(x, id))
	}
	return x, ctx
}

// eachTarget runs work for every target at once, with the progress reporter
// going, and returns when all are done.
func (x *runExec) eachTarget(ctx context.Context, work func(*targetExec)) {
	// The reporter's context ends with the work: a report held while the
	// group has no leader is dropped then, the run's end carries it.
	reportCtx, stopReports := context.WithCancel(ctx)
	var reporter sync.WaitGroup
	reporter.Add(1)
	go func() {
		defer reporter.Done()
		x.report(reportCtx)
	}()
	var wg sync.WaitGroup
	for _, t := range x.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(t)
		}()
	}
	wg.Wait()
	stopReports()
	reporter.Wait()
}

// record buffers an object's outcome; flushRecords writes them in one transaction.
func (x *runExec) record(rec ObjectRecord) {
	rec.Time = time.Now().UTC()
	x.mu.Lock()
	x.records = append(x.records, rec)
	x.mu.Unlock()
}

func (x *runExec) flushRecords() {
	x.mu.Lock()
	recs := x.records
	x.records = nil
	x.mu.Unlock()
	if len(recs) == 0 {
		return
	}
	if err := x.e.objects.add(x.run.ID, recs); err != nil {
		x.log.Warn("record run objects", "err", err)
	}
}

func (x *runExec) progress(final bool) []fsm.TargetProgress {
	out := make([]fsm.TargetProgress, len(x.targets))
	for i, t := range x.targets {
		out[i] = t.snapshot(final)
	}
	return out
}

// report sends the counters through Raft each interval while they change.
func (x *runExec) report(ctx context.Context) {
	tick := time.NewTicker(x.e.cfg.ProgressInterval)
	defer tick.Stop()
	var last []fsm.TargetProgress
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, t := range x.targets {
			t.sampleRate()
		}
		x.flushRecords()
		now := x.progress(false)
		if slices.Equal(now, last) {
			continue
		}
		err := x.e.propose(ctx, fsm.CmdRunProgress, fsm.RunProgress{ID: x.run.ID, Executor: x.e.cfg.ClusterID, Targets: now})
		if fsm.KindOf(err) != "" {
			// The run ended elsewhere (the leader failed it): stop.
			x.fail(fmt.Errorf("the run ended elsewhere: %w", err))
			return
		}
		if err == nil {
			last = now // else the next tick sends it again
		}
	}
}
