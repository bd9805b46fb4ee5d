package replicator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// The outbox: for each target and watched repository of a REAL_TIME task a
// durable cursor says up to which change-log sequence the target has
// everything; changes after it are delivered in order, and the cursor moves
// only once the target has them. The change log is written in the same
// transaction as each change, so a crash, a restart or an unreachable target
// loses nothing: delivery resumes at the cursor, with backoff. Re-delivering
// after a crash costs nothing more than a plan: content already there is
// "identical" and not sent again.

// realTimeBatch bounds the changes delivered in one round.
const realTimeBatch = 1000

// outboxKey names one cursor: per task, target and task object (two objects
// of one task may watch the same repository with other constraints).
func outboxKey(task, target, project string, i int, o fsm.ReplicaObject) []byte {
	return fmt.Appendf(nil, "%s\x00%s\x00%d\x00%s/%s\x00%s/%s", task, target, i, project, o.LocalRepoName, o.RemoteProjectID, o.RemoteRepoName)
}

// deliver sends the changes after the cursor of one repository; it returns
// whether there were any, and how many are still waiting.
func (t *targetExec) deliver(ctx context.Context, task fsm.Task, i int, o fsm.ReplicaObject) (bool, int64, error) {
	repo, err := t.rc.store.Repository(ctx, task.ProjectID, o.LocalRepoName)
	if errors.Is(err, store.ErrNotFound) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, err
	}
	key := outboxKey(task.Key, t.id, task.ProjectID, i, o)
	cur, err := t.rc.db.cursor(key)
	if err != nil {
		return false, 0, err
	}
	cur = max(cur, o.FromSeq) // a task that starts later than the log
	changes, err := repo.Changes(ctx, cur+1, realTimeBatch)
	if err != nil || len(changes) == 0 {
		return false, 0, err
	}
	if err := t.deliverChanges(ctx, task, o, repo, changes); err != nil {
		return false, 0, err
	}
	last := changes[len(changes)-1].Seq
	if err := t.rc.db.setCursor(key, last); err != nil {
		return false, 0, err
	}
	// The depth is only for the gauge: the round was delivered either way.
	left, err := repo.Changes(ctx, last+1, store.MaxPageSize)
	if err != nil {
		t.rc.log.Warn("outbox depth not read", "target", t.id, "err", err)
	}
	return true, int64(len(left)), nil
}

// deliverChanges brings the target up to date with changes, or says why it
// is not: the cursor moves only past changes the target has all of, so a
// failed object keeps it where it is and the round is retried with backoff.
//
// A DOCKER repository's changes commit in the phases of a run
// (ociphases.go), so a push whose large layer uploads while its manifest
// and tag would fit a batch still shows its tag last. What a round's
// phasing cannot see, the cursor covers: a round always starts at the
// first change the target lacks, so a tag's manifest and blobs are either
// on the target already or in the same round, before it in commit order.
// The pass is strict: a failed blob or manifest stops it before the
// names of what failed are committed (phaseFailed), and the next round
// sends them again, together; a stop costs nothing the retry would not.
func (t *targetExec) deliverChanges(ctx context.Context, task fsm.Task, o fsm.ReplicaObject, repo store.Repository, changes []store.Change) error {
	sel, deletes, err := changedSelection(ctx, task, o, repo, changes)
	if err != nil {
		return err
	}
	p := t.newPass(sel)
	// Package versions need no holding back: the target refuses one whose
	// files are not there.
	p.strict = sel.repoType == string(store.TypeDocker)
	names, named := splitDeletes(sel.repoType, deletes)
	// Deletions first: a file replaced by a folder (or the reverse) must be
	// out of the way before the new content arrives.
	if err := p.deleteOnTarget(ctx, names); err != nil {
		return err
	}
	if len(sel.objects)+len(sel.versions) > 0 {
		for _, obj := range sel.objects {
			p.tally.planned(1, obj.Size)
		}
		if err := t.replicate(ctx, p); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return context.Cause(ctx) // not delivered: the cursor stays
		}
	}
	if err := p.deleteOnTarget(ctx, named); err != nil {
		return err
	}
	if n := p.tally.objectsFailed.Load(); n > 0 {
		return fmt.Errorf("%d objects failed on %s; the changes stay in the outbox", n, t.id)
	}
	return nil
}

// splitDeletes orders a round's deletions around its content. Of an image,
// names (tags, referrer links) go first and what they name (manifests,
// then blobs) only after the round's tags are committed: a tag the source
// moved off a manifest before deleting it still points at that manifest
// on the target until the tag phase moves it. The registry deletes a
// manifest by digest as its tags, its referrer link, then the manifest,
// so each of them arrives here as a deletion of its own.
func splitDeletes(repoType string, deletes []object) (first, last []object) {
	if repoType != string(store.TypeDocker) {
		return deletes, nil
	}
	var blobs []object
	for _, d := range deletes {
		ref, ok := oci.ParseNodePath(d.Path)
		switch {
		case ok && ref.Kind == oci.NodeManifest:
			last = append(last, d)
		case ok && ref.Kind == oci.NodeBlob:
			blobs = append(blobs, d)
		default:
			first = append(first, d)
		}
	}
	return first, append(last, blobs...)
}

// changedSelection turns changes into what to send: the current state of each
// path created or updated (a path changed twice is sent once), the versions
// created or updated, and the paths deleted (when the task replicates deletes).
// Each changed file's node is read once, with its content when that is
// inline, so that sending does not read it again.
func changedSelection(ctx context.Context, task fsm.Task, o fsm.ReplicaObject, repo store.Repository, changes []store.Change) (selection, []object, error) {
	info := repo.Info()
	sel := selection{spec: o, repo: repo, repoType: string(info.Type)}
	nodes, versions := latestChanges(changes)
	var deletes, live []object
	for _, c := range nodes {
		key, version, _ := store.PackageOfNode(info, c.Path)
		switch {
		case !watched(task, o, c.Path, key, version):
		case c.Kind != store.NodeDeleted:
			live = append(live, object{Path: c.Path, PackageKey: key, Version: version})
		case task.ReplicateDeletes:
			deletes = append(deletes, object{Path: c.Path, SHA256: c.SHA256, Size: c.Size})
		}
	}
	var err error
	if sel.objects, sel.inline, err = readChanged(ctx, repo, live); err != nil {
		return selection{}, nil, err
	}
	if info.Type == store.TypeDocker {
		if err := ociPhases(ctx, repo, sel.objects); err != nil {
			return selection{}, nil, err
		}
	}
	inCommitOrder(sel.objects)
	if sel.versions, err = changedVersions(ctx, task, o, repo, versions); err != nil {
		return selection{}, nil, err
	}
	return sel, deletes, nil
}

// latestChanges is the latest change of each changed path, in the order the
// paths first changed, and the latest change of each changed version.
func latestChanges(changes []store.Change) ([]store.Change, map[string]store.Change) {
	at := map[string]int{}
	var nodes []store.Change
	versions := map[string]store.Change{}
	for _, c := range changes {
		switch c.Kind {
		case store.NodeCreated, store.NodeUpdated, store.NodeDeleted:
			if i, seen := at[c.Path]; seen {
				nodes[i] = c
				continue
			}
			at[c.Path] = len(nodes)
			nodes = append(nodes, c)
		case store.VersionCreated, store.VersionUpdated:
			versions[c.PackageKey+"\x00"+c.Version] = c
		}
	}
	return nodes, versions
}

// readChanged reads the current node of each changed path in one read (a
// path deleted since is left out: a later change says so), with the inline
// contents by path.
func readChanged(ctx context.Context, repo store.Repository, live []object) ([]object, map[string][]byte, error) {
	if len(live) == 0 {
		return nil, nil, nil
	}
	bulk, err := withBulk(repo, nil)
	if err != nil {
		return nil, nil, err
	}
	paths := make([]string, len(live))
	for i, o := range live {
		paths[i] = o.Path
	}
	nodes, contents, err := bulk.ReadSmall(ctx, paths)
	if err != nil {
		return nil, nil, err
	}
	objs := live[:0]
	inline := map[string][]byte{}
	for i, n := range nodes {
		if n.SHA256 == "" {
			continue // deleted since
		}
		o := live[i]
		o.Path, o.Size, o.SHA256, o.Metadata = n.Path, n.Size, n.SHA256, n.Metadata
		objs = append(objs, o)
		if contents[i] != nil {
			inline[n.Path] = contents[i]
		}
	}
	return objs, inline, nil
}

// changedVersions reads the watched versions that changed (one deleted
// since is left out).
func changedVersions(ctx context.Context, task fsm.Task, o fsm.ReplicaObject, repo store.Repository, changed map[string]store.Change) ([]PackageVersion, error) {
	var out []PackageVersion
	for _, c := range changed {
		if !watched(task, o, "", c.PackageKey, c.Version) {
			continue
		}
		v, err := repo.Version(ctx, c.PackageKey, c.Version)
		switch {
		case err == nil:
			out = append(out, replicaVersion(v))
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

// watched reports whether a path (or a package version) is in the task's scope.
func watched(task fsm.Task, o fsm.ReplicaObject, path, key, version string) bool {
	switch task.ReplicaObjectType {
	case fsm.ObjectPath:
		return path != "" && slices.ContainsFunc(o.PathConstraints, func(c fsm.PathConstraint) bool {
			dir := strings.TrimSuffix(c.Path, "/")
			return path == dir || strings.HasPrefix(path, dir+"/")
		})
	case fsm.ObjectPackage:
		return slices.ContainsFunc(o.PackageConstraints, func(c fsm.PackageConstraint) bool {
			return c.PackageKey == key && (len(c.Versions) == 0 || slices.Contains(c.Versions, version))
		})
	}
	return true
}
