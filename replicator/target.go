package replicator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"golang.org/x/time/rate"
)

// Batching: files up to batchFileMax go in batches of up to batchMaxFiles
// files or batchMaxBytes bytes (one request, one target transaction); larger
// ones go as resumable uploads.
const (
	batchFileMax  = 1 << 20
	batchMaxFiles = 1000
	batchMaxBytes = 8 << 20
	planBatch     = 1000
	// objectAttempts bounds the resumptions of one upload.
	objectAttempts = 6
)

// targetExec pushes a run's selection to one remote cluster.
type targetExec struct {
	x        *runExec
	id       string
	remote   *remote
	limiters []*rate.Limiter

	objectsTotal, objectsDone, objectsSkipped, objectsFailed, conflicts atomic.Int64
	bytesTotal, bytesDone, bytesSkipped, bytesFailed, bytesSent         atomic.Int64
	// wire counts every byte sent (frame headers too), for the rate.
	wire atomic.Int64
	// arrived holds the sha256 of content the target now has.
	arrived sync.Map
	rate    atomic.Int64

	mu       sync.Mutex
	err      error // why the target failed, if it did
	lastSent int64
	lastAt   time.Time
}

func newTargetExec(x *runExec, id string) *targetExec {
	e := x.e
	return &targetExec{
		x: x, id: id,
		remote:   &remote{cluster: id, addr: func() (string, bool) { return e.cfg.APIAddr(id) }, token: e.cfg.Token, http: e.http, retry: defaultRetry},
		limiters: []*rate.Limiter{newLimiter(x.run.Spec.Setting.RateLimit), e.linkLimiter(id)},
		lastAt:   time.Now(),
	}
}

func (t *targetExec) total(sels []selection) {
	for _, s := range sels {
		if m, ok := s.quick[t.id]; ok {
			t.objectsTotal.Add(m.Objects)
			t.bytesTotal.Add(m.Bytes)
			continue
		}
		for _, o := range s.objects {
			t.objectsTotal.Add(1)
			t.bytesTotal.Add(o.Size)
		}
	}
}

// setErr records the first reason the target failed.
func (t *targetExec) setErr(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
}

func (t *targetExec) failure() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// sampleRate updates the current sending rate, smoothed over intervals.
func (t *targetExec) sampleRate() {
	t.mu.Lock()
	defer t.mu.Unlock()
	now, sent := time.Now(), t.wire.Load()
	if dt := now.Sub(t.lastAt).Seconds(); dt > 0 {
		cur := float64(sent-t.lastSent) / dt
		prev := float64(t.rate.Load())
		t.rate.Store(int64(0.5*cur + 0.5*prev))
	}
	t.lastSent, t.lastAt = sent, now
}

func (t *targetExec) snapshot(final bool) fsm.TargetProgress {
	p := fsm.TargetProgress{
		ClusterID: t.id, State: fsm.RunRunning,
		ObjectsTotal: t.objectsTotal.Load(), ObjectsDone: t.objectsDone.Load(), ObjectsSkipped: t.objectsSkipped.Load(),
		ObjectsFailed: t.objectsFailed.Load(), Conflicts: t.conflicts.Load(),
		BytesTotal: t.bytesTotal.Load(), BytesDone: t.bytesDone.Load(), BytesSkipped: t.bytesSkipped.Load(),
		BytesFailed: t.bytesFailed.Load(), BytesSent: t.bytesSent.Load(), BytesPerSecond: t.rate.Load(),
	}
	if err := t.failure(); err != nil {
		p.Error = err.Error()
	}
	if final {
		p.BytesPerSecond = 0
		accounted := p.ObjectsDone + p.ObjectsSkipped + p.ObjectsFailed
		switch {
		case p.Error != "" || p.ObjectsFailed > 0:
			p.State = fsm.RunFailed
			if p.Error == "" {
				p.Error = fmt.Sprintf("%d objects failed", p.ObjectsFailed)
			}
		case accounted < p.ObjectsTotal:
			p.State = fsm.RunCanceled
		default:
			p.State = fsm.RunSuccess
		}
	}
	return p
}

// outcome accounts for one object and records it.
func (t *targetExec) outcome(o object, action, errText string) {
	status := StatusSuccess
	switch action {
	case ActionIdentical:
		status = StatusSkipped
		t.objectsSkipped.Add(1)
		t.bytesSkipped.Add(o.Size)
		t.arrived.Store(o.SHA256, true)
	case ActionConflict:
		if t.x.run.Spec.Setting.ConflictStrategy == fsm.ConflictFastFail {
			status = StatusFailed
			t.objectsFailed.Add(1)
			t.bytesFailed.Add(o.Size)
			break
		}
		status = StatusSkipped
		t.objectsSkipped.Add(1)
		t.bytesSkipped.Add(o.Size)
	case ActionError:
		status = StatusFailed
		t.objectsFailed.Add(1)
		t.bytesFailed.Add(o.Size)
	default: // sent, linked, metadata, deleted
		t.objectsDone.Add(1)
		t.bytesDone.Add(o.Size)
		t.arrived.Store(o.SHA256, true)
	}
	result := action
	if action == ActionError {
		result = "failed"
	}
	t.x.e.metrics.objects.WithLabelValues(t.id, result).Inc()
	t.x.record(ObjectRecord{Target: t.id, Path: o.Path, PackageKey: o.PackageKey, Version: o.Version, Size: o.Size,
		SHA256: o.SHA256, Status: status, Action: action, Error: errText})
}

// objectFailed accounts for a failed object and applies the error strategy.
func (t *targetExec) objectFailed(o object, err error) {
	t.outcome(o, ActionError, err.Error())
	if t.x.run.Spec.Setting.ErrorStrategy == fsm.ErrorFastFail {
		t.x.fail(fmt.Errorf("%s on %s: %v (errorStrategy FAST_FAIL)", o.Path, t.id, err))
	}
}

// execute plans and transfers every selection to the target. A target that
// stays unreachable through the retries fails alone: the others go on.
func (t *targetExec) execute(ctx context.Context, sels []selection) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	for _, sel := range sels {
		if ctx.Err() != nil {
			break
		}
		if t.quickCheck(ctx, sel) {
			continue
		}
		failedBefore, conflictsBefore, doneBefore, skippedBefore := t.objectsFailed.Load(), t.conflicts.Load(), t.objectsDone.Load(), t.objectsSkipped.Load()
		before, beforeErr := t.remote.head(ctx, sel.spec.RemoteProjectID, sel.spec.RemoteRepoName, 0, "")
		// An error after the run's context ended (a cancel, FAST_FAIL
		// elsewhere) is that ending, not this target's failure.
		err := t.replicate(ctx, stop, sel)
		if err != nil && ctx.Err() == nil {
			t.setErr(err)
			stop(err)
		}
		clean := err == nil && ctx.Err() == nil && beforeErr == nil && t.objectsFailed.Load() == failedBefore && t.conflicts.Load() == conflictsBefore &&
			t.objectsDone.Load()-doneBefore+t.objectsSkipped.Load()-skippedBefore == int64(len(sel.objects))
		t.recordMark(ctx, sel, before.Seq, clean)
	}
	if err := context.Cause(ctx); err != nil && t.failure() == nil && !errors.Is(err, errCanceled) && !errors.Is(err, context.Canceled) {
		t.setErr(err)
	}
	// What was never reached counts as failed when the target failed.
	if t.failure() != nil {
		left := t.objectsTotal.Load() - t.objectsDone.Load() - t.objectsSkipped.Load() - t.objectsFailed.Load()
		leftBytes := t.bytesTotal.Load() - t.bytesDone.Load() - t.bytesSkipped.Load() - t.bytesFailed.Load()
		t.objectsFailed.Add(max(left, 0))
		t.bytesFailed.Add(max(leftBytes, 0))
	}
}

// by names this run in the target's change log.
func (t *targetExec) by() string { return "replication:" + t.x.run.ID }

// markKey names the quick-check mark of one spec object towards this target.
func (t *targetExec) markKey(o fsm.ReplicaObject) []byte {
	spec := t.x.run.Spec
	b, _ := json.Marshal(struct {
		Project, Type string
		Object        fsm.ReplicaObject
		Metadata      bool
	}{spec.LocalProjectID, spec.ReplicaObjectType, o, spec.Setting.IncludeMetadata})
	sum := sha256.Sum256(b)
	return []byte(t.id + "\x00" + hex.EncodeToString(sum[:]))
}

// quickMatch reports the mark under which a selection needs no planning
// towards this target: neither the source (at head) nor the target
// repository has changed since a run left the target holding exactly that
// selection (rsync's quick check, by change-log position instead of size
// and time).
func (t *targetExec) quickMatch(ctx context.Context, spec fsm.ReplicaObject, head uint64) (syncMark, bool) {
	m, ok := t.x.e.objects.mark(t.markKey(spec))
	if !ok || m.Source != head {
		return syncMark{}, false
	}
	th, err := t.remote.head(ctx, spec.RemoteProjectID, spec.RemoteRepoName, 0, "")
	if err != nil || !th.Exists || th.Seq != m.Target {
		return syncMark{}, false
	}
	return m, true
}

// quickCheck accounts a selection as identical without planning it, when it
// matches its mark. A quick selection (not even listed) records no object
// detail: its counters say how many objects were identical.
func (t *targetExec) quickCheck(ctx context.Context, sel selection) bool {
	if sel.quick != nil {
		m := sel.quick[t.id]
		t.objectsSkipped.Add(m.Objects)
		t.bytesSkipped.Add(m.Bytes)
		t.x.e.metrics.objects.WithLabelValues(t.id, ActionIdentical).Add(float64(m.Objects))
		t.x.log.Info("unchanged since the last run: nothing to list or plan", "target", t.id, "repo", sel.spec.LocalRepoName, "objects", m.Objects)
		return true
	}
	m, ok := t.quickMatch(ctx, sel.spec, sel.head)
	if !ok || m.Objects != int64(len(sel.objects)) {
		return false
	}
	for _, o := range sel.objects {
		t.outcome(o, ActionIdentical, "")
	}
	t.x.log.Info("unchanged since the last run: nothing to plan", "target", t.id, "repo", sel.spec.LocalRepoName, "objects", len(sel.objects))
	return true
}

// recordMark remembers that the target now holds exactly the selection, or
// forgets an older mark when the run left it otherwise.
// Only a target whose every change since the run began (from before, its
// position then) was this run's own counts: a write by anyone else during
// the run might have undone what was planned.
func (t *targetExec) recordMark(ctx context.Context, sel selection, before uint64, clean bool) {
	key := t.markKey(sel.spec)
	var m *syncMark
	if clean {
		if head, err := t.remote.head(ctx, sel.spec.RemoteProjectID, sel.spec.RemoteRepoName, before, t.by()); err == nil && head.Exists && !head.Foreign {
			m = &syncMark{Source: sel.head, Target: head.Seq, Objects: int64(len(sel.objects))}
			for _, o := range sel.objects {
				m.Bytes += o.Size
			}
		}
	}
	if err := t.x.e.objects.setMark(key, m); err != nil {
		t.x.log.Warn("quick-check mark not recorded", "target", t.id, "err", err)
	}
}

// job is a unit of transfer work: a batch of small files or one large file.
type job struct {
	batch []planned
	large *planned
}

type planned struct {
	o         object
	overwrite bool
}

func (t *targetExec) replicate(ctx context.Context, stop context.CancelCauseFunc, sel selection) error {
	setting := t.x.run.Spec.Setting
	project, repoName := sel.spec.RemoteProjectID, sel.spec.RemoteRepoName
	jobs := make(chan job)
	var workers sync.WaitGroup
	for range t.x.e.cfg.Parallelism {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				if err := t.transfer(ctx, project, repoName, j); err != nil {
					stop(err)
				}
			}
		}()
	}
	var planErr error
	var batch []planned
	var batchBytes int64
	flush := func() {
		if len(batch) > 0 {
			select {
			case jobs <- job{batch: batch}:
			case <-ctx.Done():
			}
			batch, batchBytes = nil, 0
		}
	}
	// Content is sent once per target: other paths with the same content are
	// linked after it has arrived.
	queued := map[string]bool{}
	var linkLater []planned
	conflictStop := false
	planCtx, stopPlans := context.WithCancel(ctx)
	// With FAST_FAIL conflicts, each answer is handled before the next
	// batch goes out (acked), so nothing past a conflict is acted on.
	var ack chan struct{}
	if setting.ConflictStrategy == fsm.ConflictFastFail {
		ack = make(chan struct{}, 1)
	}
	replies := t.plans(planCtx, sel, ack)
	defer func() {
		stopPlans()
		for range replies { // let the requests in flight end
		}
	}()
plan:
	for reply := range replies {
		objs, resp, err := reply.objs, reply.resp, reply.err
		if err != nil {
			planErr = err
			break
		}
		for i, res := range resp.Results {
			o := objs[i]
			if res.Conflict {
				t.conflicts.Add(1)
			}
			switch res.Action {
			case ActionSend:
				if conflictStop {
					continue // never reached: not counted
				}
				p := planned{o: o, overwrite: res.Conflict}
				if queued[o.SHA256] {
					linkLater = append(linkLater, p)
					continue
				}
				queued[o.SHA256] = true
				if o.Size > batchFileMax {
					select {
					case jobs <- job{large: &p}:
					case <-ctx.Done():
						break plan
					}
					continue
				}
				if len(batch) >= batchMaxFiles || batchBytes+o.Size > batchMaxBytes {
					flush()
				}
				batch, batchBytes = append(batch, p), batchBytes+o.Size
			case ActionConflict:
				t.outcome(o, ActionConflict, "the target holds different content at this path")
				if setting.ConflictStrategy == fsm.ConflictFastFail && !conflictStop {
					// The target already linked or updated what follows in
					// this batch: those are still accounted for below.
					conflictStop = true
					stopPlans()
					t.x.fail(fmt.Errorf("conflict at %s on %s (conflictStrategy FAST_FAIL)", o.Path, t.id))
				}
			case ActionLinked, ActionIdentical, ActionMetadata:
				t.outcome(o, res.Action, "")
			default:
				t.objectFailed(o, errors.New(res.Error))
			}
		}
		if ack != nil {
			select {
			case ack <- struct{}{}:
			default:
			}
		}
	}
	flush()
	close(jobs)
	workers.Wait()
	stopPlans()
	for range replies {
	}
	if planErr != nil {
		return planErr
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := t.link(ctx, project, repoName, linkLater); err != nil {
		return err
	}
	return t.versions(ctx, project, repoName, sel)
}

// link commits paths whose content was sent for another path of this run.
// When that send failed (the other path was refused), the content is sent
// for these paths instead.
func (t *targetExec) link(ctx context.Context, project, repoName string, all []planned) error {
	var ps []planned
	var resend []planned
	for _, p := range all {
		if _, ok := t.arrived.Load(p.o.SHA256); ok {
			ps = append(ps, p)
		} else {
			resend = append(resend, p)
		}
	}
	for _, p := range resend {
		if _, ok := t.arrived.Load(p.o.SHA256); ok { // sent for an earlier one of these
			ps = append(ps, p)
			continue
		}
		j := job{batch: []planned{p}}
		if p.o.Size > batchFileMax {
			j = job{large: &p}
		}
		if err := t.transfer(ctx, project, repoName, j); err != nil {
			return err
		}
	}
	for start := 0; start < len(ps); start += planBatch {
		part := ps[start:min(start+planBatch, len(ps))]
		req := CommitRequest{Project: project, Repo: repoName, By: "replication:" + t.x.run.ID}
		for _, p := range part {
			req.Entries = append(req.Entries, FrameHeader{Path: p.o.Path, Size: p.o.Size, SHA256: p.o.SHA256, Metadata: t.metadata(p.o), Overwrite: p.overwrite})
		}
		resp, err := t.remote.items(ctx, "/v1/replica/commit", req, len(req.Entries))
		if err != nil {
			return err
		}
		for i, r := range resp.Results {
			if r.Error != "" {
				t.objectFailed(part[i].o, errors.New(r.Error))
			} else {
				t.outcome(part[i].o, ActionLinked, "")
			}
		}
	}
	return nil
}

// planDepth is how many plan requests are in flight at once: planning the
// next batches overlaps answering the last ones.
const planDepth = 3

type planReply struct {
	objs []object
	resp PlanResponse
	err  error
}

// plans sends the selection's plan requests, planDepth at a time, and
// delivers the answers in order. It stops when ctx ends; the channel closes
// once every request has ended.
func (t *targetExec) plans(ctx context.Context, sel selection, ack <-chan struct{}) <-chan planReply {
	setting := t.x.run.Spec.Setting
	// A FAST_FAIL conflict must stop the target from acting on later
	// batches (planning links and updates metadata at once): one at a time,
	// the next only once the consumer acked the last.
	depth := planDepth
	if ack != nil {
		depth = 1
	}
	// In flight: the buffered requests and the one the forwarder waits on.
	pending := make(chan chan planReply, depth-1)
	out := make(chan planReply)
	go func() {
		defer close(pending)
		for start := 0; start < len(sel.objects); start += planBatch {
			objs := sel.objects[start:min(start+planBatch, len(sel.objects))]
			req := PlanRequest{Project: sel.spec.RemoteProjectID, Repo: sel.spec.RemoteRepoName, RepoType: sel.repoType,
				Conflict: setting.ConflictStrategy, IncludeMetadata: setting.IncludeMetadata, By: "replication:" + t.x.run.ID}
			for _, o := range objs {
				req.Objects = append(req.Objects, PlanObject{Path: o.Path, Size: o.Size, SHA256: o.SHA256, Metadata: t.metadata(o)})
			}
			ch := make(chan planReply, 1)
			select {
			case pending <- ch:
			case <-ctx.Done():
				return
			}
			go func() {
				resp, err := t.remote.plan(ctx, req)
				ch <- planReply{objs: objs, resp: resp, err: err}
			}()
		}
	}()
	go func() {
		defer close(out)
		for ch := range pending {
			r := <-ch
			if ctx.Err() != nil {
				continue // drained: the requests end with ctx
			}
			out <- r
			if ack != nil {
				select {
				case <-ack:
				case <-ctx.Done():
				}
			}
		}
	}()
	return out
}

// metadata is what of a node's metadata a run carries.
func (t *targetExec) metadata(o object) map[string]string {
	if !t.x.run.Spec.Setting.IncludeMetadata {
		return nil
	}
	return o.Metadata
}

// versions replicates the package versions whose files are all there.
func (t *targetExec) versions(ctx context.Context, project, repoName string, sel selection) error {
	if len(sel.versions) == 0 {
		return nil
	}
	req := VersionsRequest{Project: project, Repo: repoName, By: "replication:" + t.x.run.ID}
	for _, v := range sel.versions {
		if !t.x.run.Spec.Setting.IncludeMetadata {
			v.Metadata = nil
		}
		req.Versions = append(req.Versions, v)
	}
	resp, err := t.remote.items(ctx, "/v1/replica/versions", req, len(req.Versions))
	if err != nil {
		return err
	}
	for i, r := range resp.Results {
		if r.Error != "" {
			// A version some of whose files failed cannot be made; the
			// files already say why, so this is only logged.
			t.x.log.Warn("package version not replicated", "target", t.id, "package", req.Versions[i].PackageKey, "version", req.Versions[i].Version, "err", r.Error)
		}
	}
	return nil
}

// transfer sends one job. It returns an error only when the target must be
// given up (unreachable); object failures are accounted for here.
func (t *targetExec) transfer(ctx context.Context, project, repoName string, j job) error {
	if ctx.Err() != nil {
		return nil
	}
	if j.large != nil {
		return t.upload(ctx, project, repoName, *j.large)
	}
	return t.sendBatch(ctx, project, repoName, j.batch)
}

// meter passes a request body through the limiters and counts it; content
// counts towards bytesSent as well when it is only content.
func (t *targetExec) meter(ctx context.Context, r io.Reader, content bool) io.Reader {
	bytes := t.x.e.metrics.bytes.WithLabelValues(t.x.run.Spec.SourceCluster, t.id)
	return &meteredReader{ctx: ctx, r: r, limiters: t.limiters, sent: &t.wire, onRead: func(n int64) {
		bytes.Add(float64(n))
		if content {
			t.bytesSent.Add(n)
		}
	}}
}

func (t *targetExec) sendBatch(ctx context.Context, project, repoName string, items []planned) error {
	var buf bytes.Buffer
	var sent []planned
	contents, err := t.readAll(ctx, items)
	if err != nil {
		return err
	}
	for i, p := range items {
		if contents[i].err != nil {
			t.objectFailed(p.o, contents[i].err)
			continue
		}
		h := FrameHeader{Path: p.o.Path, Size: p.o.Size, SHA256: p.o.SHA256, MD5: p.o.MD5, Metadata: t.metadata(p.o), Overwrite: p.overwrite}
		if err := writeFrame(&buf, h, contents[i].data); err != nil {
			return err
		}
		sent = append(sent, p)
	}
	if len(sent) == 0 {
		return nil
	}
	body := buf.Bytes()
	inflight := t.x.e.metrics.inflight
	inflight.Add(float64(len(body)))
	defer inflight.Sub(float64(len(body)))
	resp, err := t.remote.batch(ctx, project, repoName, t.by(), len(sent), func() (io.Reader, error) {
		return t.meter(ctx, bytes.NewReader(body), false), nil
	})
	if err != nil {
		var ue *unreachableError
		if errors.As(err, &ue) || ctx.Err() != nil {
			return err
		}
		for _, p := range sent {
			t.objectFailed(p.o, err)
		}
		return nil
	}
	for i, r := range resp.Results {
		if r.Error != "" {
			t.objectFailed(sent[i].o, errors.New(r.Error))
		} else {
			t.bytesSent.Add(sent[i].o.Size)
			t.outcome(sent[i].o, ActionSend, "")
		}
	}
	return nil
}

type content struct {
	data []byte
	err  error
}

// readAll reads the contents of a batch: inline contents in one store read,
// the others file by file; each checked to be still what was planned.
func (t *targetExec) readAll(ctx context.Context, items []planned) ([]content, error) {
	out := make([]content, len(items))
	byRepo := map[string][]int{}
	for i, p := range items {
		byRepo[p.o.repo] = append(byRepo[p.o.repo], i)
	}
	for name, idx := range byRepo {
		repo, err := withBulk(t.x.e.cfg.Store.Repository(ctx, t.x.run.Spec.LocalProjectID, name))
		if err != nil {
			for _, i := range idx {
				out[i].err = err
			}
			continue
		}
		paths := make([]string, len(idx))
		for j, i := range idx {
			paths[j] = items[i].o.Path
		}
		nodes, small, err := repo.ReadSmall(ctx, paths)
		if err != nil {
			for _, i := range idx {
				out[i].err = err
			}
			continue
		}
		for j, i := range idx {
			o := items[i].o
			switch {
			case nodes[j].SHA256 != o.SHA256:
				out[i].err = fmt.Errorf("the source changed during the run")
			case small[j] != nil:
				out[i].data = small[j]
			default:
				out[i].data, out[i].err = readFile(ctx, repo, o)
			}
		}
	}
	return out, nil
}

// readFile reads a file's content, checking it is still what was planned.
func readFile(ctx context.Context, repo store.Repository, o object) ([]byte, error) {
	rd, err := repo.Open(ctx, o.Path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if rd.Node().SHA256 != o.SHA256 {
		return nil, fmt.Errorf("the source changed during the run")
	}
	return io.ReadAll(io.LimitReader(rd, o.Size+1))
}

// upload sends a large file in resumable pieces, then commits it.
func (t *targetExec) upload(ctx context.Context, project, repoName string, p planned) error {
	o := p.o
	st, err := t.remote.uploadStatus(ctx, o.SHA256, o.Size)
	// Only failures in a row count: a large file takes many chunks.
	for failures := 0; err == nil && !st.Complete; {
		var next UploadStatus
		next, err = t.sendFrom(ctx, o, st.Offset)
		if err == nil {
			st, failures = next, 0
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		failures++
		attempt := failures
		if failures >= objectAttempts {
			break
		}
		t.x.log.Warn("upload interrupted, resuming", "target", t.id, "path", o.Path, "offset", st.Offset, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(defaultRetry.first << min(attempt, 5)):
		}
		st, err = t.remote.uploadStatus(ctx, o.SHA256, o.Size)
	}
	if err == nil {
		var resp ItemsResponse
		entry := FrameHeader{Path: o.Path, Size: o.Size, SHA256: o.SHA256, Metadata: t.metadata(o), Overwrite: p.overwrite}
		resp, err = t.remote.items(ctx, "/v1/replica/commit", CommitRequest{Project: project, Repo: repoName, By: "replication:" + t.x.run.ID, Entries: []FrameHeader{entry}}, 1)
		if err == nil && resp.Results[0].Error != "" {
			err = errors.New(resp.Results[0].Error)
		}
		if err == nil {
			t.outcome(o, ActionSend, "")
			return nil
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	var ue *unreachableError
	if errors.As(err, &ue) {
		return err
	}
	t.objectFailed(o, err)
	return nil
}

// sendFrom sends the file from offset, up to one chunk, in one request.
func (t *targetExec) sendFrom(ctx context.Context, o object, offset int64) (UploadStatus, error) {
	repo, err := t.x.e.cfg.Store.Repository(ctx, t.x.run.Spec.LocalProjectID, o.repo)
	if err != nil {
		return UploadStatus{}, err
	}
	rd, err := repo.Open(ctx, o.Path)
	if err != nil {
		return UploadStatus{}, err
	}
	defer rd.Close()
	if rd.Node().SHA256 != o.SHA256 {
		return UploadStatus{}, fmt.Errorf("the source changed during the run")
	}
	if _, err := rd.Seek(offset, io.SeekStart); err != nil {
		return UploadStatus{}, err
	}
	n := min(o.Size-offset, t.x.e.cfg.ChunkSize)
	inflight := t.x.e.metrics.inflight
	inflight.Add(float64(n))
	defer inflight.Sub(float64(n))
	st, err := t.remote.appendOnce(ctx, o.SHA256, o.MD5, o.Size, offset, t.meter(ctx, io.LimitReader(rd, n), true))
	if err == nil && st.Offset <= offset && !st.Complete {
		err = fmt.Errorf("upload made no progress at offset %d", offset)
	}
	return st, err
}
