package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	log := e.log.With("run", r.ID)
	// Commands that end the run must still go out when the run's context was
	// canceled by a user; only the agent stopping stops them.
	if err := e.propose(ctx, fsm.CmdStartRun, fsm.RunRef{ID: r.ID, Executor: e.cfg.ClusterID}); err != nil {
		if ctx.Err() == nil {
			log.Warn("run could not start", "err", err)
		}
		return
	}
	started := time.Now()
	log.Info("run started", "targets", r.Spec.RemoteClusterIDs, "type", r.Spec.ReplicaObjectType)

	ex, ctx, fail := newRunExec(ctx, e, r, log)
	defer fail(nil)

	var sels []selection
	var enumErr error
	for _, o := range r.Spec.Objects {
		if sel, ok := quickSelection(ctx, e.cfg.Store, r.Spec, o, ex.targets); ok {
			sels = append(sels, sel)
			continue
		}
		sel, err := enumerate(ctx, e.cfg.Store, r.Spec, o)
		if err != nil {
			enumErr = err
			break
		}
		sels = append(sels, sel)
	}
	if enumErr == nil {
		for _, t := range ex.targets {
			t.total(sels)
		}
		ex.eachTarget(ctx, func(t *targetExec) { t.execute(ctx, sels) })
	}
	ex.flushRecords()
	if enumErr != nil {
		for _, t := range ex.targets {
			t.setErr(enumErr)
		}
	}

	final := fsm.RunProgress{ID: r.ID, Executor: e.cfg.ClusterID, Targets: ex.progress(true)}
	cause := context.Cause(ctx)
	switch {
	case e.ctx.Err() != nil:
		log.Info("agent stopping: the run stays RUNNING and resumes when this agent is back")
		return
	case errors.Is(cause, errCanceled):
		final.State, final.Error = fsm.RunCanceled, "canceled"
	case enumErr != nil:
		final.State, final.Error = fsm.RunFailed, enumErr.Error()
	case cause != nil && !errors.Is(cause, context.Canceled):
		final.State, final.Error = fsm.RunFailed, cause.Error()
	default:
		final.State = fsm.RunSuccess
		for _, t := range final.Targets {
			if t.State == fsm.RunFailed {
				final.State = fsm.RunFailed
				final.Error = joinReason(final.Error, t.ClusterID+": "+t.Error)
			}
		}
	}
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
	fail    context.CancelCauseFunc

	mu      sync.Mutex
	records []ObjectRecord
}

// newRunExec prepares the execution of r towards each of its targets; its
// context ends with the run (fail gives the reason).
func newRunExec(ctx context.Context, e *Executor, r fsm.Run, log *slog.Logger) (*runExec, context.Context, context.CancelCauseFunc) {
	x := &runExec{e: e, run: r, log: log}
	ctx, fail := context.WithCancelCause(ctx)
	x.fail = fail
	for _, id := range r.Spec.RemoteClusterIDs {
		x.targets = append(x.targets, newTargetExec(x, id))
	}
	return x, ctx, fail
}

// eachTarget runs work for every target at once, with the progress reporter
// going, and returns when all are done.
func (x *runExec) eachTarget(ctx context.Context, work func(*targetExec)) {
	reportDone := make(chan struct{})
	var reporter sync.WaitGroup
	reporter.Add(1)
	go func() {
		defer reporter.Done()
		x.report(ctx, reportDone)
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
	close(reportDone)
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
func (x *runExec) report(ctx context.Context, done <-chan struct{}) {
	tick := time.NewTicker(x.e.cfg.ProgressInterval)
	defer tick.Stop()
	var last []fsm.TargetProgress
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick.C:
		}
		for _, t := range x.targets {
			t.sampleRate()
		}
		x.flushRecords()
		now := x.progress(false)
		if equalProgress(now, last) {
			continue
		}
		err := x.e.propose(ctx, fsm.CmdRunProgress, fsm.RunProgress{ID: x.run.ID, Executor: x.e.cfg.ClusterID, Targets: now})
		if fsm.KindOf(err) != "" {
			// The run ended elsewhere (the leader failed it): stop.
			x.fail(fmt.Errorf("the run ended elsewhere: %w", err))
			return
		}
		last = now
	}
}

func equalProgress(a, b []fsm.TargetProgress) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
