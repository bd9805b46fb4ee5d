package replicator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/ferrysync/ferry/fsm"
)

// Quick-check marks: after a run left a target holding exactly what a spec
// object selects, a mark records where both change logs stood. While
// neither has moved since, the next run of that spec object has nothing to
// plan (rsync's quick check, by change-log position instead of size and
// time). Marks live in the executor's local database.

// markKey names the quick-check mark of one spec object towards this target.
func (t *targetExec) markKey(o fsm.ReplicaObject) []byte {
	spec := t.rc.spec
	b, _ := json.Marshal(struct {
		Project, Type string
		Object        fsm.ReplicaObject
		Metadata      bool
	}{spec.LocalProjectID, spec.ReplicaObjectType, o, spec.Setting.IncludeMetadata})
	sum := sha256.Sum256(b)
	return []byte(t.id + "\x00" + hex.EncodeToString(sum[:]))
}

// readMarks reads, once per selection, each target's mark of a spec object.
func readMarks(targets []*targetExec, o fsm.ReplicaObject) map[string]syncMark {
	out := map[string]syncMark{}
	for _, t := range targets {
		if m, ok := t.rc.db.mark(t.markKey(o)); ok {
			out[t.id] = m
		}
	}
	return out
}

// holds reports whether a mark still describes the target at the source's
// head: neither the source nor the target repository has changed since.
func (t *targetExec) holds(ctx context.Context, spec fsm.ReplicaObject, m syncMark, head uint64) bool {
	if m.Source != head {
		return false
	}
	th, err := t.remote.head(ctx, spec.RemoteProjectID, spec.RemoteRepoName, 0, "")
	return err == nil && th.Exists && th.Seq == m.Target
}

// quickCheck accounts a selection as identical without planning it, when it
// matches its mark. A quick selection (not even listed) records no object
// detail: its counters say how many objects were identical.
func (t *targetExec) quickCheck(ctx context.Context, sel selection) bool {
	if sel.quick {
		m := sel.marks[t.id]
		t.skipped(m.Objects, m.Bytes)
		t.rc.metrics.objects.WithLabelValues(t.id, ActionIdentical).Add(float64(m.Objects))
		t.rc.log.Info("unchanged since the last run: nothing to list or plan", "target", t.id, "repo", sel.spec.LocalRepoName, "objects", m.Objects)
		return true
	}
	m, ok := sel.marks[t.id]
	if files, _ := sel.size(); !ok || m.Objects != files || !t.holds(ctx, sel.spec, m, sel.head) {
		return false
	}
	for objs, err := range sel.parts(ctx) {
		if err != nil {
			t.setErr(err)
			return true
		}
		t.arrived.reset() // as replicate does, a part at a time
		for _, o := range objs {
			t.outcome(&t.tally, sel.spec.LocalRepoName, o, ActionIdentical, "")
		}
	}
	t.rc.log.Info("unchanged since the last run: nothing to plan", "target", t.id, "repo", sel.spec.LocalRepoName, "objects", m.Objects)
	return true
}

// recordMark remembers that the target now holds exactly the selection, or
// forgets an older mark when the run left it otherwise.
// Only a target whose every change since the run began (from before, its
// position then) was this run's own counts: a write by anyone else during
// the run might have undone what was planned.
func (t *targetExec) recordMark(ctx context.Context, p *pass, before uint64, clean bool) {
	sel := p.sel
	var m *syncMark
	if clean {
		if head, err := t.remote.head(ctx, sel.spec.RemoteProjectID, sel.spec.RemoteRepoName, before, t.rc.by); err == nil && head.Exists && !head.Foreign {
			m = &syncMark{Source: sel.head, Target: head.Seq, Objects: p.listed, Bytes: p.listedBytes}
		}
	}
	if err := t.rc.db.setMark(t.markKey(sel.spec), m); err != nil {
		t.rc.log.Warn("quick-check mark not recorded", "target", t.id, "err", err)
	}
}
