package replicator

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
)

// A phase is a step of the commit order on a target: nothing of a phase
// becomes visible there before everything of the phases before it has been
// committed (or has failed), so that a reader of the target never finds a
// name pointing at what is not there yet. Files are content; package
// versions point at files. An image's manifests come between its blobs and
// its tags, children before the indexes naming them (ociphases.go).
type phase uint8

const (
	phaseContent phase = 0 // file bytes and nodes, image blobs: sent, linked
	// phaseManifest + n holds the manifests of level n: image manifests
	// (0), the indexes of them (1), indexes of those (2), ...
	phaseManifest    phase = 1
	maxManifestLevel       = 16
	phaseReferrer    phase = phaseManifest + maxManifestLevel + 1 // a manifest's link under its subject
	phaseTag         phase = phaseReferrer + 1                    // an image's names: last
	phaseMetadata    phase = phaseTag + 1                         // documents describing committed content (none yet)
	phasePointer     phase = phaseMetadata + 1                    // names of committed content: package versions
)

// inCommitOrder sorts objects by phase, keeping the listing order within
// one (a no-op while every object is content).
func inCommitOrder(objs []object) {
	byPhase := func(a, b object) int { return int(a.phase) - int(b.phase) }
	if !slices.IsSortedFunc(objs, byPhase) {
		slices.SortStableFunc(objs, byPhase)
	}
}

// phases yields a selection's objects (in commit order) one phase at a time.
func phases(objs []object) iter.Seq[[]object] {
	return func(yield func([]object) bool) {
		for start := 0; start < len(objs); {
			end := start + 1
			for end < len(objs) && objs[end].phase == objs[start].phase {
				end++
			}
			if !yield(objs[start:end]) {
				return
			}
			start = end
		}
	}
}

// committer makes visible what the sender does not commit itself: paths
// whose content was sent for another path of the run (links), and the
// package versions (the pointer phase).
type committer struct {
	p *pass
	// later are paths to link once their content has arrived: content is
	// sent once per target.
	later  []planned
	queued map[string]bool
}

// nextPart forgets what the part before claimed: its content has arrived
// (the sender's barrier), so the planner has the target link it for later
// paths, and the set stays the size of a part.
func (c *committer) nextPart() { clear(c.queued) }

// claim reports whether the content of pl is still to be sent; otherwise
// pl waits to be linked to it.
func (c *committer) claim(pl planned) bool {
	if c.queued[pl.o.SHA256] {
		c.later = append(c.later, pl)
		return false
	}
	c.queued[pl.o.SHA256] = true
	return true
}

// link commits the paths whose content was sent for another path. When
// that send failed (the other path was refused), the content is sent for
// these paths instead.
func (c *committer) link(ctx context.Context) error {
	p, all := c.p, c.later
	c.later = nil
	var ps []planned
	for _, pl := range all {
		if p.t.arrived.has(pl.o.SHA256) {
			ps = append(ps, pl)
			continue
		}
		j := job{batch: []planned{pl}}
		if pl.o.Size > batchFileMax {
			j = job{large: &pl}
		}
		if err := p.transfer(ctx, j); err != nil {
			return err
		}
	}
	for start := 0; start < len(ps); start += planBatch {
		if err := c.commit(ctx, ps[start:min(start+planBatch, len(ps))]); err != nil {
			return err
		}
	}
	return nil
}

func (c *committer) commit(ctx context.Context, part []planned) error {
	p := c.p
	sel := p.sel.spec
	req := CommitRequest{Project: sel.RemoteProjectID, Repo: sel.RemoteRepoName, By: p.t.rc.by, Entries: make([]FrameHeader, len(part))}
	for i, pl := range part {
		req.Entries[i] = FrameHeader{Path: pl.o.Path, Size: pl.o.Size, SHA256: pl.o.SHA256, Metadata: p.t.rc.metadata(pl.o), Overwrite: pl.overwrite}
	}
	resp, err := p.t.remote.items(ctx, "/v1/replica/commit", req, len(req.Entries))
	if err != nil {
		return err
	}
	for i, r := range resp.Results {
		if r.Error != "" {
			p.objectFailed(part[i].o, errors.New(r.Error))
		} else {
			p.outcome(part[i].o, ActionLinked, "")
		}
	}
	return nil
}

// commitUpload commits a large file whose content the target has.
func (p *pass) commitUpload(ctx context.Context, pl planned) error {
	sel := p.sel.spec
	entry := FrameHeader{Path: pl.o.Path, Size: pl.o.Size, SHA256: pl.o.SHA256, Metadata: p.t.rc.metadata(pl.o), Overwrite: pl.overwrite}
	req := CommitRequest{Project: sel.RemoteProjectID, Repo: sel.RemoteRepoName, By: p.t.rc.by, Entries: []FrameHeader{entry}}
	resp, err := p.t.remote.items(ctx, "/v1/replica/commit", req, 1)
	if err == nil && resp.Results[0].Error != "" {
		err = errors.New(resp.Results[0].Error)
	}
	return err
}

// versions commits the package versions (the pointer phase): the target
// refuses those some of whose files are not there.
func (c *committer) versions(ctx context.Context) error {
	p := c.p
	if len(p.sel.versions) == 0 {
		return nil
	}
	sel := p.sel.spec
	req := VersionsRequest{Project: sel.RemoteProjectID, Repo: sel.RemoteRepoName, By: p.t.rc.by, Versions: make([]PackageVersion, len(p.sel.versions))}
	for i, v := range p.sel.versions {
		if !p.t.rc.spec.Setting.IncludeMetadata {
			v.Metadata = nil
		}
		req.Versions[i] = v
	}
	resp, err := p.t.remote.items(ctx, "/v1/replica/versions", req, len(req.Versions))
	if err != nil {
		return err
	}
	for i, r := range resp.Results {
		if r.Error != "" {
			// A version some of whose files failed cannot be made; the
			// files already say why, so this is only logged.
			p.t.rc.log.Warn("package version not replicated", "target", p.t.id, "package", req.Versions[i].PackageKey, "version", req.Versions[i].Version, "err", r.Error)
		}
	}
	return nil
}

// deleteOnTarget removes deleted paths from the target (real time).
func (p *pass) deleteOnTarget(ctx context.Context, deletes []object) error {
	if len(deletes) == 0 {
		return nil
	}
	sel := p.sel.spec
	req := DeleteRequest{Project: sel.RemoteProjectID, Repo: sel.RemoteRepoName, By: p.t.rc.by, Paths: make([]string, len(deletes))}
	for i, d := range deletes {
		req.Paths[i] = d.Path
	}
	resp, err := p.t.remote.items(ctx, "/v1/replica/delete", req, len(req.Paths))
	if err != nil {
		return err
	}
	for i, r := range resp.Results {
		p.tally.planned(1, 0)
		if r.Error != "" {
			p.objectFailed(deletes[i], errors.New(r.Error))
		} else {
			p.outcome(deletes[i], ActionDeleted, "")
		}
	}
	return nil
}

// phaseFailed ends a strict pass after a phase in which an object failed:
// what the later phases hold names it (a manifest its blobs, a tag its
// manifest), and committing it would show the target's readers a name
// whose content 404s. A strict pass is a real-time round, which is retried
// whole from its cursor, so stopping loses nothing; a run goes on (its
// errorStrategy decides) and a re-run completes it.
func (p *pass) phaseFailed() error {
	if !p.strict {
		return nil
	}
	if n := p.tally.objectsFailed.Load(); n > 0 {
		return fmt.Errorf("%d objects failed on %s; what names them waits for the next round", n, p.t.id)
	}
	return nil
}
