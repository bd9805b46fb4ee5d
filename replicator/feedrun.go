package replicator

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/ferrysync/ferry/feed"
	"github.com/ferrysync/ferry/fsm"
)

// A feed run (a Pulp sync, fsm/pulpsync.go) fills a repository of this
// agent's store from a PULP_MANIFEST feed: the feed package does the work,
// this file runs it as a run, with its start, progress and end proposed
// like a replication run's. One sync of a repository runs at a time
// (reconcile holds the next back).

// feedReportEvery spaces a feed run's progress reports.
const feedReportEvery = time.Second

func (e *Executor) executeFeed(ctx context.Context, r fsm.Run) {
	log := e.log.With("run", r.ID, "feed", fsm.RedactURL(r.Feed.URL), "repo", r.Feed.PulpRepo)
	if !e.start(ctx, r, log) {
		return
	}
	started := time.Now()
	log.Info("feed sync started")
	repo, err := e.cfg.Store.Repository(ctx, r.Spec.LocalProjectID, r.Feed.PulpRepo)
	var report feed.Report
	if err == nil {
		rep := newFeedReporter(e, r)
		report, err = feed.Sync(ctx, repo, e.feedOptions(r, rep.observe))
		rep.stop()
	}
	if e.ctx.Err() != nil {
		log.Info("agent stopping: the sync stays RUNNING and resumes when this agent is back")
		return
	}
	final := fsm.RunProgress{ID: r.ID, Executor: e.cfg.ClusterID, State: fsm.RunSuccess, Targets: []fsm.TargetProgress{feedProgress(e.cfg.ClusterID, report)}}
	switch {
	case context.Cause(ctx) == errCanceled:
		final.State, final.Error = fsm.RunCanceled, "canceled"
	case err != nil:
		final.State, final.Error = fsm.RunFailed, err.Error()
	}
	final.Targets[0].State, final.Targets[0].Error = final.State, final.Error
	e.finish(final, started, log)
}

func (e *Executor) feedOptions(r fsm.Run, progress func(feed.Progress)) feed.Options {
	f := r.Feed
	opt := feed.Options{Feed: f.URL, Validate: f.Validate, RemoveMissing: f.RemoveMissing, MaxDownloads: f.MaxDownloads, MaxSpeed: f.MaxSpeed,
		BasicAuthUser: f.BasicAuthUser, BasicAuthPassword: f.BasicAuthPassword, Client: &http.Client{Transport: e.cfg.Transport},
		By: "sync:" + r.ID, Progress: progress}
	if u, ok := e.cfg.Store.(feed.Uploads); ok {
		opt.Uploads = u
	}
	return opt
}

// feedProgress is a sync's counters as the run's one target (its own
// cluster): the manifest's files, those done, and the bytes.
func feedProgress(cluster string, rep feed.Report) fsm.TargetProgress {
	return fsm.TargetProgress{ClusterID: cluster, State: fsm.RunRunning,
		ObjectsTotal: int64(rep.Added + rep.Linked + rep.Unchanged + rep.Failed), ObjectsDone: int64(rep.Added + rep.Linked),
		ObjectsSkipped: int64(rep.Unchanged), ObjectsFailed: int64(rep.Failed), BytesDone: rep.BytesDownloaded, BytesTotal: rep.BytesDownloaded}
}

// feedReporter proposes a sync's progress, the latest at most every
// feedReportEvery, from its own goroutine: the sync never waits for the
// state.
type feedReporter struct {
	e      *Executor
	run    fsm.Run
	mu     sync.Mutex
	latest *feed.Progress
	wake   chan struct{}
	// ctx ends with the sync: a report held by an election is dropped, the
	// end carries the counters.
	ctx    context.Context
	cancel context.CancelFunc
	ended  chan struct{}
}

func newFeedReporter(e *Executor, r fsm.Run) *feedReporter {
	ctx, cancel := context.WithCancel(e.ctx)
	rep := &feedReporter{e: e, run: r, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, ended: make(chan struct{})}
	go rep.loop()
	return rep
}

func (rep *feedReporter) observe(p feed.Progress) {
	rep.mu.Lock()
	rep.latest = &p
	rep.mu.Unlock()
	select {
	case rep.wake <- struct{}{}:
	default:
	}
}

func (rep *feedReporter) stop() {
	rep.cancel()
	<-rep.ended
}

func (rep *feedReporter) loop() {
	defer close(rep.ended)
	tick := time.NewTicker(feedReportEvery)
	defer tick.Stop()
	for {
		select {
		case <-rep.ctx.Done():
			return
		case <-rep.wake:
		}
		select {
		case <-rep.ctx.Done():
			return
		case <-tick.C:
		}
		rep.mu.Lock()
		p := rep.latest
		rep.mu.Unlock()
		t := fsm.TargetProgress{ClusterID: rep.e.cfg.ClusterID, State: fsm.RunRunning, ObjectsTotal: int64(p.NumISOs),
			ObjectsDone: int64(p.NumISOsFinished), ObjectsFailed: int64(len(p.ISOErrorMessages)), BytesTotal: p.TotalBytes, BytesDone: p.FinishedBytes}
		err := rep.e.propose(rep.ctx, fsm.CmdRunProgress, fsm.RunProgress{ID: rep.run.ID, Executor: rep.e.cfg.ClusterID, Targets: []fsm.TargetProgress{t}})
		if err != nil && rep.ctx.Err() == nil {
			rep.e.log.Debug("feed sync progress not recorded", "run", rep.run.ID, "err", err)
		}
	}
}
