package replicator

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	bolt "go.etcd.io/bbolt"
)

// Real-time replication: a REAL_TIME task whose source is this agent has one
// standing run, executed here. For each target and watched repository a
// durable cursor (the outbox) says up to which change-log sequence the target
// has everything; changes after it are delivered in order, and the cursor
// moves only once the target has them. The change log is written in the same
// transaction as each change, so a crash, a restart or an unreachable target
// loses nothing: delivery resumes at the cursor, with backoff. Re-delivering
// after a crash costs nothing more than a plan: content already there is
// "identical" and not sent again.

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

// realTimeBatch bounds the changes delivered in one round.
const realTimeBatch = 1000

var bucketOutbox = []byte("\x00outbox")

// outboxKey names one cursor: per task, target and task object (two objects
// of one task may watch the same repository with other constraints).
func outboxKey(task, target, project string, i int, o fsm.ReplicaObject) []byte {
	return fmt.Appendf(nil, "%s\x00%s\x00%d\x00%s/%s\x00%s/%s", task, target, i, project, o.LocalRepoName, o.RemoteProjectID, o.RemoteRepoName)
}

func (l *objectLog) cursor(key []byte) (uint64, error) {
	var seq uint64
	err := l.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketOutbox); b != nil {
			if v := b.Get(key); len(v) == 8 {
				seq = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return seq, err
}

func (l *objectLog) setCursor(key []byte, seq uint64) error {
	return l.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketOutbox)
		if err != nil {
			return err
		}
		return b.Put(key, binary.BigEndian.AppendUint64(nil, seq))
	})
}

// superviseRealTime starts the standing run of every enabled REAL_TIME task
// this agent is the source of and that has none (a new task, a re-enabled
// one, or one whose run the leader failed while this agent was away).
func (e *Executor) superviseRealTime(lastTry map[string]time.Time) {
	for _, t := range e.cfg.FSM.Tasks() {
		if !t.Enabled || t.ReplicaType != fsm.ReplicaRealTime || t.SourceCluster != e.cfg.ClusterID {
			continue
		}
		if len(e.cfg.FSM.Runs(fsm.RunFilter{TaskKey: t.Key, State: fsm.RunRunning}))+len(e.cfg.FSM.Runs(fsm.RunFilter{TaskKey: t.Key, State: fsm.RunWaiting})) > 0 {
			continue
		}
		if time.Since(lastTry[t.Key]) < e.realTimeRestartDelay(t.Key) {
			continue
		}
		lastTry[t.Key] = time.Now()
		key := t.Key
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
			defer cancel()
			cmd, err := fsm.NewCommand(fsm.CmdFireTask, fsm.FireTask{Key: key, RunID: fsm.NewID(), Trigger: fsm.TriggerRealTime, By: "realtime:" + e.cfg.ClusterID})
			if err == nil {
				err = e.cfg.Propose(ctx, cmd)
			}
			if err != nil && fsm.KindOf(err) != fsm.KindConflict && e.ctx.Err() == nil {
				e.log.Warn("real-time run not started", "task", key, "err", err)
			}
		}()
	}
}

// realTimeRestartDelay is how long to wait before starting a task's standing
// run again: 2 s, doubling up to a minute while its runs keep failing within
// a minute of starting (a permanent failure under FAST_FAIL must not churn
// Raft).
func (e *Executor) realTimeRestartDelay(key string) time.Duration {
	delay := 2 * time.Second
	for _, r := range e.cfg.FSM.Runs(fsm.RunFilter{TaskKey: key}) { // newest first
		if r.State != fsm.RunFailed || r.FinishedAt.Sub(r.StartedAt) > time.Minute || delay >= time.Minute {
			break
		}
		delay *= 2
	}
	return min(delay, time.Minute)
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
	// A change on the source is newer than what the target holds.
	r.Spec.Setting.ConflictStrategy = fsm.ConflictOverwrite
	x, ctx, fail := newRunExec(ctx, e, r, log)
	defer fail(nil)
	x.eachTarget(ctx, func(t *targetExec) { t.realTime(ctx, task) })
	x.flushRecords()
	if e.ctx.Err() != nil {
		return // stays RUNNING: this agent resumes it from the cursors
	}
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

// realTime delivers the task's changes to one target until ctx ends.
func (t *targetExec) realTime(ctx context.Context, task fsm.Task) {
	var wake <-chan struct{}
	n, hasNotifier := t.x.e.cfg.Store.(notifier)
	backoff := 250 * time.Millisecond
	repos := watchedRepos(task)
	for ctx.Err() == nil {
		stopWatch := func() {}
		if hasNotifier {
			wake, stopWatch = watchRepos(n, task.ProjectID, repos)
		}
		progressed, err := t.deliverAll(ctx, task)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			t.x.log.Warn("real-time delivery failed, retrying", "target", t.id, "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = 250 * time.Millisecond
		if progressed {
			continue
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(2 * time.Second):
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
	t.x.e.outboxDepth(task.Key, t.id, depth)
	return progressed, nil
}

// deliver sends the changes after the cursor of one repository; it returns
// whether there were any, and how many are still waiting.
func (t *targetExec) deliver(ctx context.Context, task fsm.Task, i int, o fsm.ReplicaObject) (bool, int64, error) {
	st := t.x.e.cfg.Store
	repo, err := st.Repository(ctx, task.ProjectID, o.LocalRepoName)
	if errors.Is(err, store.ErrNotFound) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	key := outboxKey(task.Key, t.id, task.ProjectID, i, o)
	cur, err := t.x.e.objects.cursor(key)
	if err != nil {
		return false, 0, err
	}
	changes, err := repo.Changes(ctx, cur+1, realTimeBatch)
	if err != nil || len(changes) == 0 {
		return false, 0, err
	}
	sel, deletes, err := t.changedSelection(ctx, task, o, repo, changes)
	if err != nil {
		return false, 0, err
	}
	// The cursor moves only past changes the target has all of: a failed
	// object keeps it where it is, and the round is retried with backoff.
	failedBefore := t.objectsFailed.Load()
	// Deletions first: a file replaced by a folder (or the reverse) must be
	// out of the way before the new content arrives.
	if len(deletes) > 0 {
		if err := t.deleteOnTarget(ctx, o, deletes); err != nil {
			return false, 0, err
		}
	}
	if len(sel.objects)+len(sel.versions) > 0 {
		for _, obj := range sel.objects {
			t.objectsTotal.Add(1)
			t.bytesTotal.Add(obj.Size)
		}
		rctx, stop := context.WithCancelCause(ctx)
		err := t.replicate(rctx, stop, sel)
		if err == nil {
			err = context.Cause(rctx)
		}
		stop(nil)
		if err != nil {
			return false, 0, err
		}
	}
	if n := t.objectsFailed.Load() - failedBefore; n > 0 {
		return false, 0, fmt.Errorf("%d objects failed on %s; the changes stay in the outbox", n, t.id)
	}
	last := changes[len(changes)-1].Seq
	if err := t.x.e.objects.setCursor(key, last); err != nil {
		return false, 0, err
	}
	left, _ := repo.Changes(ctx, last+1, store.MaxPageSize)
	return true, int64(len(left)), nil
}

// changedSelection turns changes into what to send: the current state of each
// path created or updated (a path changed twice is sent once), the versions
// created or updated, and the paths deleted (when the task replicates deletes).
func (t *targetExec) changedSelection(ctx context.Context, task fsm.Task, o fsm.ReplicaObject, repo store.Repository, changes []store.Change) (selection, []object, error) {
	repoType := string(repo.Info().Type)
	sel := selection{spec: o, repo: repo, repoType: repoType}
	latest := map[string]store.Change{}
	var order []string
	versions := map[string]store.Change{}
	for _, c := range changes {
		switch c.Kind {
		case store.NodeCreated, store.NodeUpdated, store.NodeDeleted:
			if _, seen := latest[c.Path]; !seen {
				order = append(order, c.Path)
			}
			latest[c.Path] = c
		case store.VersionCreated, store.VersionUpdated:
			versions[c.PackageKey+"\x00"+c.Version] = c
		}
	}
	var deletes []object
	for _, p := range order {
		c := latest[p]
		key, version, _ := store.PackageForPath(repo.Info().Type, p)
		if !watched(task, o, p, key, version) {
			continue
		}
		if c.Kind == store.NodeDeleted {
			if task.ReplicateDeletes {
				deletes = append(deletes, object{Path: p, SHA256: c.SHA256, Size: c.Size, repo: o.LocalRepoName})
			}
			continue
		}
		n, err := repo.Stat(ctx, p)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since: a later change says so
		}
		if err != nil {
			return selection{}, nil, err
		}
		sel.objects = append(sel.objects, object{Path: n.Path, Size: n.Size, SHA256: n.SHA256, MD5: n.MD5, Metadata: n.Metadata,
			PackageKey: key, Version: version, repo: o.LocalRepoName})
	}
	for _, c := range versions {
		if !watched(task, o, "", c.PackageKey, c.Version) {
			continue
		}
		v, err := repo.Version(ctx, c.PackageKey, c.Version)
		switch {
		case err == nil:
			sel.versions = append(sel.versions, replicaVersion(v))
		case !errors.Is(err, store.ErrNotFound):
			return selection{}, nil, err
		}
	}
	return sel, deletes, nil
}

// watched reports whether a path (or a package version) is in the task's scope.
func watched(task fsm.Task, o fsm.ReplicaObject, path, key, version string) bool {
	switch task.ReplicaObjectType {
	case fsm.ObjectPath:
		if path == "" {
			return false
		}
		for _, c := range o.PathConstraints {
			dir := strings.TrimSuffix(c.Path, "/")
			if path == dir || strings.HasPrefix(path, dir+"/") {
				return true
			}
		}
		return false
	case fsm.ObjectPackage:
		for _, c := range o.PackageConstraints {
			if c.PackageKey == key && (len(c.Versions) == 0 || containsString(c.Versions, version)) {
				return true
			}
		}
		return false
	}
	return true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// deleteOnTarget removes deleted paths from the target.
func (t *targetExec) deleteOnTarget(ctx context.Context, o fsm.ReplicaObject, deletes []object) error {
	req := DeleteRequest{Project: o.RemoteProjectID, Repo: o.RemoteRepoName, By: "replication:" + t.x.run.ID}
	for _, d := range deletes {
		req.Paths = append(req.Paths, d.Path)
	}
	resp, err := t.remote.items(ctx, "/v1/replica/delete", req, len(req.Paths))
	if err != nil {
		return err
	}
	for i, r := range resp.Results {
		t.objectsTotal.Add(1)
		if r.Error != "" {
			t.objectFailed(deletes[i], errors.New(r.Error))
		} else {
			t.outcome(deletes[i], ActionDeleted, "")
		}
	}
	return nil
}

// outboxDepth records the changes a target still has to receive from a task.
func (e *Executor) outboxDepth(task, target string, n int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.depths[target] == nil {
		e.depths[target] = map[string]int64{}
	}
	e.depths[target][task] = n
	var sum int64
	for _, d := range e.depths[target] {
		sum += d
	}
	e.metrics.outbox.WithLabelValues(target).Set(float64(sum))
}
