package replicator

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/oci"
)

// tally counts objects and bytes by outcome. A target has one for the whole
// run; each selection (a pass) has its own, which adds to its target's as
// well, so that the pass can tell what it alone came to.
type tally struct {
	objectsTotal, objectsDone, objectsSkipped, objectsFailed, conflicts atomic.Int64
	bytesTotal, bytesDone, bytesSkipped, bytesFailed                    atomic.Int64
	up                                                                  *tally
}

func (c *tally) planned(objects, bytes int64) {
	for ; c != nil; c = c.up {
		c.objectsTotal.Add(objects)
		c.bytesTotal.Add(bytes)
	}
}

func (c *tally) done(size int64) {
	for ; c != nil; c = c.up {
		c.objectsDone.Add(1)
		c.bytesDone.Add(size)
	}
}

func (c *tally) skipped(objects, bytes int64) {
	for ; c != nil; c = c.up {
		c.objectsSkipped.Add(objects)
		c.bytesSkipped.Add(bytes)
	}
}

func (c *tally) failed(objects, bytes int64) {
	for ; c != nil; c = c.up {
		c.objectsFailed.Add(objects)
		c.bytesFailed.Add(bytes)
	}
}

func (c *tally) conflict() {
	for ; c != nil; c = c.up {
		c.conflicts.Add(1)
	}
}

// clean reports whether each of n objects arrived or was there, with no
// conflict and no failure.
func (c *tally) clean(n int64) bool {
	return c.objectsFailed.Load() == 0 && c.conflicts.Load() == 0 && c.objectsDone.Load()+c.objectsSkipped.Load() == n
}

// failRest counts what was never reached as failed (the target failed).
func (c *tally) failRest() {
	left := c.objectsTotal.Load() - c.objectsDone.Load() - c.objectsSkipped.Load() - c.objectsFailed.Load()
	leftBytes := c.bytesTotal.Load() - c.bytesDone.Load() - c.bytesSkipped.Load() - c.bytesFailed.Load()
	c.failed(max(left, 0), max(leftBytes, 0))
}

// outcome accounts for one object in c and records it.
func (t *targetExec) outcome(c *tally, repo string, o object, action, errText string) {
	status := StatusSuccess
	switch action {
	case ActionIdentical:
		status = StatusSkipped
		c.skipped(1, o.Size)
		t.arrived.add(o.SHA256)
	case ActionConflict:
		if t.rc.spec.Setting.ConflictStrategy == fsm.ConflictFastFail {
			status = StatusFailed
			c.failed(1, o.Size)
			break
		}
		status = StatusSkipped
		c.skipped(1, o.Size)
	case ActionError:
		status = StatusFailed
		c.failed(1, o.Size)
	default: // sent, linked, metadata, deleted
		c.done(o.Size)
		t.arrived.add(o.SHA256)
	}
	result := action
	if action == ActionError {
		result = "failed"
	}
	t.rc.metrics.objects.WithLabelValues(t.id, result).Inc()
	if node, ok := oci.ParseNodePath(o.Path); ok {
		t.rc.metrics.images.WithLabelValues(t.id, node.Kind.String(), result).Inc()
	}
	t.rc.record(ObjectRecord{Target: t.id, Repo: repo, Path: o.Path, PackageKey: o.PackageKey, Version: o.Version, Size: o.Size,
		SHA256: o.SHA256, Status: status, Action: action, Error: errText})
}

// objectFailed accounts for a failed object and applies the error strategy.
func (t *targetExec) objectFailed(c *tally, repo string, o object, err error) {
	t.outcome(c, repo, o, ActionError, err.Error())
	if t.rc.spec.Setting.ErrorStrategy == fsm.ErrorFastFail {
		t.rc.fail(fmt.Errorf("%s on %s: %v (errorStrategy FAST_FAIL)", o.Path, t.id, err))
	}
}

// total counts what the selections hold towards this target.
func (t *targetExec) total(sels []selection) {
	for _, s := range sels {
		if s.quick {
			m := s.marks[t.id]
			t.planned(m.Objects, m.Bytes)
			continue
		}
		t.planned(s.size())
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
		p.State, p.Error = finalTarget(p)
	}
	return p
}

// finalTarget is a target's end state from its counters and error.
func finalTarget(p fsm.TargetProgress) (fsm.RunState, string) {
	accounted := p.ObjectsDone + p.ObjectsSkipped + p.ObjectsFailed
	switch {
	case p.Error != "" || p.ObjectsFailed > 0:
		if p.Error == "" {
			return fsm.RunFailed, fmt.Sprintf("%d objects failed", p.ObjectsFailed)
		}
		return fsm.RunFailed, p.Error
	case accounted < p.ObjectsTotal:
		return fsm.RunCanceled, p.Error
	default:
		return fsm.RunSuccess, p.Error
	}
}
