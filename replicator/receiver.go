package replicator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// TargetStore is what the receiving side needs from the local store.
type TargetStore interface {
	store.Store
	Upload(sha256hex string, size int64) (*store.Upload, error)
	HasContent(sha256hex string) (int64, bool)
}

// Receiver is the target side of the transfer protocol. Nothing it does makes
// partial content visible: batches commit whole, uploads only once verified.
type Receiver struct {
	Store TargetStore
	// Metrics, when set, counts the content received by source cluster.
	Metrics *ReceiverMetrics
}

// repository opens the target repository, creating its project and itself
// when missing (the task document: "created on the remote if missing").
func (rc *Receiver) repository(ctx context.Context, project, repo, repoType, by string) (bulkRepository, error) {
	r, err := withBulk(rc.Store.Repository(ctx, project, repo))
	if err == nil || !errors.Is(err, store.ErrNotFound) || repoType == "" {
		return r, err
	}
	if _, err := rc.Store.Project(ctx, project); errors.Is(err, store.ErrNotFound) {
		if _, err := rc.Store.CreateProject(ctx, store.Project{Name: project, CreatedBy: by}); err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
	}
	if _, err := rc.Store.CreateRepo(ctx, store.Repo{Project: project, Name: repo, Type: store.RepoType(repoType), CreatedBy: by}); err != nil && !errors.Is(err, store.ErrExists) {
		return nil, err
	}
	return withBulk(rc.Store.Repository(ctx, project, repo))
}

// Plan answers, per object, what the target lacks; content it holds under
// another path is linked at once.
func (rc *Receiver) Plan(ctx context.Context, req PlanRequest) (PlanResponse, error) {
	if len(req.Objects) > maxPlanObjects {
		return PlanResponse{}, fmt.Errorf("%w: a plan takes at most %d objects", store.ErrInvalid, maxPlanObjects)
	}
	repo, err := rc.planRepository(ctx, req)
	if errors.Is(err, store.ErrNotFound) && req.DryRun {
		return dryRunMissing(req), nil
	}
	if err != nil {
		return PlanResponse{}, err
	}
	paths := make([]string, len(req.Objects))
	for i, o := range req.Objects {
		paths[i] = o.Path
	}
	nodes, found, err := repo.StatMany(ctx, paths)
	if err != nil {
		return PlanResponse{}, err
	}
	out := PlanResponse{Results: make([]PlanResult, len(req.Objects))}
	for i, o := range req.Objects {
		out.Results[i] = rc.planOne(ctx, repo, req, o, nodes[i], found[i])
	}
	return out, nil
}

// planRepository opens the repository a plan names; only a plan that may
// write creates it.
func (rc *Receiver) planRepository(ctx context.Context, req PlanRequest) (bulkRepository, error) {
	if req.DryRun {
		return withBulk(rc.Store.Repository(ctx, req.Project, req.Repo))
	}
	return rc.repository(ctx, req.Project, req.Repo, req.RepoType, req.By)
}

// dryRunMissing answers a dry run into a repository the target lacks:
// every path would be new.
func dryRunMissing(req PlanRequest) PlanResponse {
	out := PlanResponse{Results: make([]PlanResult, len(req.Objects))}
	for i := range out.Results {
		out.Results[i] = PlanResult{Action: ActionSend}
	}
	return out
}

// planOne decides what one object needs and, unless the plan is a dry
// run, does at once what needs no content: a link, a metadata update.
func (rc *Receiver) planOne(ctx context.Context, repo bulkRepository, req PlanRequest, o PlanObject, have store.Node, exists bool) PlanResult {
	res := judge(req, o, have, exists)
	if req.DryRun {
		return res
	}
	meta := carriedMetadata(o.Metadata, req.IncludeMetadata)
	switch res.Action {
	case ActionSend:
		linked := rc.linkOrSend(ctx, repo, o, meta, res.Conflict, req.By)
		linked.Conflict = res.Conflict
		return linked
	case ActionMetadata:
		if _, err := repo.SetMetadata(ctx, o.Path, meta, req.By); err != nil {
			return PlanResult{Action: ActionError, Error: err.Error()}
		}
	}
	return res
}

// judge compares an object with what the path holds: nothing (send), the
// same content (identical, or metadata to update), or other content (a
// conflict the strategy keeps, or with OVERWRITE content to send).
func judge(req PlanRequest, o PlanObject, have store.Node, exists bool) PlanResult {
	switch {
	case !exists:
		return PlanResult{Action: ActionSend}
	case have.SHA256 == o.SHA256 && have.Size == o.Size:
		if sameMetadata(carriedMetadata(have.Metadata, req.IncludeMetadata), carriedMetadata(o.Metadata, req.IncludeMetadata)) {
			return PlanResult{Action: ActionIdentical}
		}
		return PlanResult{Action: ActionMetadata}
	case req.Conflict != fsm.ConflictOverwrite:
		return PlanResult{Action: ActionConflict, Conflict: true}
	default:
		return PlanResult{Action: ActionSend, Conflict: true}
	}
}

func (rc *Receiver) linkOrSend(ctx context.Context, repo bulkRepository, o PlanObject, meta map[string]string, overwrite bool, by string) PlanResult {
	if size, ok := rc.Store.HasContent(o.SHA256); !ok || size != o.Size {
		return PlanResult{Action: ActionSend}
	}
	_, err := repo.Link(ctx, o.Path, o.SHA256, store.WriteOptions{Size: o.Size, Metadata: meta, NoOverwrite: !overwrite, By: by})
	switch {
	case err == nil:
		return PlanResult{Action: ActionLinked}
	case errors.Is(err, store.ErrNotFound):
		return PlanResult{Action: ActionSend} // collected meanwhile
	default:
		return PlanResult{Action: ActionError, Error: err.Error()}
	}
}

func sameMetadata(a, b map[string]string) bool { return len(a) == len(b) && maps.Equal(a, b) }

// Batch writes a batch of small files in one store transaction. The body is
// read whole first, so a batch cut short commits nothing.
func (rc *Receiver) Batch(ctx context.Context, project, repoName, by string, body io.Reader) (ItemsResponse, error) {
	var arena frameArena
	defer arena.release() // the store has what it keeps once WriteBatch returns
	heads, bodies, err := readFrames(body, &arena)
	if err != nil {
		return ItemsResponse{}, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	var n int
	for _, b := range bodies {
		n += len(b)
	}
	rc.Metrics.add(sourceOf(ctx), int64(n))
	repo, err := withBulk(rc.Store.Repository(ctx, project, repoName))
	if err != nil {
		return ItemsResponse{}, err
	}
	out := ItemsResponse{Results: make([]ItemResult, len(heads))}
	paths := make([]string, len(heads))
	for i, h := range heads {
		paths[i] = h.Path
	}
	nodes, found, err := repo.StatMany(ctx, paths)
	if err != nil {
		return ItemsResponse{}, err
	}
	var files []store.BatchFile
	var at []int
	for i, h := range heads {
		// A retried batch finds what its first attempt wrote: that is success.
		if n := nodes[i]; found[i] && n.SHA256 == h.SHA256 && sameMetadata(n.Metadata, h.Metadata) {
			continue
		}
		files = append(files, store.BatchFile{Path: h.Path, Content: bodies[i],
			Opt: store.WriteOptions{SHA256: h.SHA256, Size: h.Size, KnownMD5: h.MD5, Metadata: h.Metadata, NoOverwrite: !h.Overwrite, By: by}})
		at = append(at, i)
	}
	if len(files) == 0 {
		return out, nil
	}
	res, err := repo.WriteBatch(ctx, files)
	if err != nil {
		return ItemsResponse{}, err
	}
	for j, r := range res {
		if errors.Is(r.Err, store.ErrInsufficientSpace) { // 507 for the batch: no other file fits either
			return ItemsResponse{}, r.Err
		}
		if r.Err != nil && !rc.arrivedMeanwhile(ctx, repo, heads[at[j]], r.Err) {
			out.Results[at[j]].Error = r.Err.Error()
		}
	}
	return out, nil
}

// arrivedMeanwhile tells a refusal to create an existing path from a retry
// racing its own first attempt: the path holding exactly that content is
// success.
func (rc *Receiver) arrivedMeanwhile(ctx context.Context, repo store.Repository, h FrameHeader, err error) bool {
	if h.Overwrite || !errors.Is(err, store.ErrExists) {
		return false
	}
	n, serr := repo.Stat(ctx, h.Path)
	return serr == nil && n.SHA256 == h.SHA256 && sameMetadata(n.Metadata, h.Metadata)
}

// UploadStatus reports how much of a content has arrived.
func (rc *Receiver) UploadStatus(sha256hex string, size int64) (UploadStatus, error) {
	u, err := rc.Store.Upload(sha256hex, size)
	if err != nil {
		return UploadStatus{}, err
	}
	return UploadStatus{Offset: u.Offset(), Complete: u.Complete()}, nil
}

// Append adds bytes at offset to an upload; what arrived before a broken
// connection is kept, so the sender resumes from the offset it gets back.
// The sender's md5 of the content (optional) saves computing it here.
func (rc *Receiver) Append(ctx context.Context, sha256hex, md5hex string, size, offset int64, body io.Reader) (UploadStatus, error) {
	u, err := rc.Store.Upload(sha256hex, size)
	if err != nil {
		return UploadStatus{}, err
	}
	if md5hex != "" {
		if err := u.UseMD5(md5hex); err != nil {
			return UploadStatus{}, err
		}
	}
	n, err := u.Append(ctx, offset, body)
	if oe := (*store.OffsetError)(nil); !errors.As(err, &oe) { // else nothing was written
		rc.Metrics.add(sourceOf(ctx), n-offset)
	}
	return UploadStatus{Offset: n, Complete: u.Complete()}, err
}

// Commit creates files from uploaded (or already held) content.
func (rc *Receiver) Commit(ctx context.Context, req CommitRequest) (ItemsResponse, error) {
	repo, err := withBulk(rc.Store.Repository(ctx, req.Project, req.Repo))
	if err != nil {
		return ItemsResponse{}, err
	}
	out := ItemsResponse{Results: make([]ItemResult, len(req.Entries))}
	for i, e := range req.Entries {
		if n, err := repo.Stat(ctx, e.Path); err == nil && n.SHA256 == e.SHA256 && sameMetadata(n.Metadata, e.Metadata) {
			continue // a retried commit
		}
		_, err := repo.Link(ctx, e.Path, e.SHA256, store.WriteOptions{Size: e.Size, Metadata: e.Metadata, NoOverwrite: !e.Overwrite, By: req.By})
		if err != nil && !rc.arrivedMeanwhile(ctx, repo, e, err) {
			out.Results[i].Error = err.Error()
		}
	}
	return out, nil
}

// Versions creates or updates package versions; an identical one is left
// alone so that a re-run changes nothing.
func (rc *Receiver) Versions(ctx context.Context, req VersionsRequest) (ItemsResponse, error) {
	repo, err := rc.Store.Repository(ctx, req.Project, req.Repo)
	if err != nil {
		return ItemsResponse{}, err
	}
	out := ItemsResponse{Results: make([]ItemResult, len(req.Versions))}
	for i, v := range req.Versions {
		have, err := repo.Version(ctx, v.PackageKey, v.Version)
		if err == nil && sameMetadata(have.Metadata, v.Metadata) && sameSet(have.Paths, v.Paths) {
			continue
		}
		_, err = repo.PutVersion(ctx, store.PackageVersion{PackageKey: v.PackageKey, Version: v.Version, Paths: v.Paths, Metadata: v.Metadata, CreatedBy: req.By, ModifiedBy: req.By})
		if err != nil {
			out.Results[i].Error = err.Error()
		}
	}
	return out, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Delete removes paths; a path already gone is not an error.
func (rc *Receiver) Delete(ctx context.Context, req DeleteRequest) (ItemsResponse, error) {
	repo, err := rc.Store.Repository(ctx, req.Project, req.Repo)
	if errors.Is(err, store.ErrNotFound) {
		return ItemsResponse{Results: make([]ItemResult, len(req.Paths))}, nil
	}
	if err != nil {
		return ItemsResponse{}, err
	}
	out := ItemsResponse{Results: make([]ItemResult, len(req.Paths))}
	for i, p := range req.Paths {
		if err := repo.Delete(ctx, p, req.By); err != nil && !errors.Is(err, store.ErrNotFound) {
			out.Results[i].Error = err.Error()
		}
	}
	return out, nil
}

// Head tells where a repository's change log stands; with by, also whether
// any change after since was made by someone else.
func (rc *Receiver) Head(ctx context.Context, project, repoName string, since uint64, by string) (RepoHead, error) {
	repo, err := withBulk(rc.Store.Repository(ctx, project, repoName))
	if errors.Is(err, store.ErrNotFound) {
		return RepoHead{}, nil
	}
	if err != nil {
		return RepoHead{}, err
	}
	seq, err := repo.Head(ctx)
	if err != nil || by == "" {
		return RepoHead{Exists: true, Seq: seq}, err
	}
	out := RepoHead{Exists: true, Seq: seq}
	for from := since + 1; from <= seq && !out.Foreign; {
		changes, err := repo.Changes(ctx, from, store.MaxPageSize)
		if err != nil {
			return RepoHead{}, err
		}
		if len(changes) == 0 {
			break
		}
		for _, c := range changes {
			if c.Seq <= seq && c.By != by {
				out.Foreign = true
				break
			}
		}
		from = changes[len(changes)-1].Seq + 1
	}
	return out, nil
}

// bulkRepository is a repository with the Bulk capability, which both ends
// of the transfer protocol need.
type bulkRepository interface {
	store.Repository
	store.Bulk
}

// withBulk is repo as a bulkRepository, or an error when it has no Bulk.
func withBulk(repo store.Repository, err error) (bulkRepository, error) {
	if err != nil {
		return nil, err
	}
	b, err := store.BulkOf(repo)
	if err != nil {
		return nil, err
	}
	return struct {
		store.Repository
		store.Bulk
	}{repo, b}, nil
}
