package swr

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/registry"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// Regions answers for the group's other regions (the agent asks their
// agents).
type Regions interface {
	// ProjectInRegion reports whether region's store has the project; an
	// error when the region cannot be asked.
	ProjectInRegion(ctx context.Context, region, project string) (bool, error)
}

// DefaultSyncWait bounds how long sync_images waits for its run.
const DefaultSyncWait = 60 * time.Second

func (d *dialect) repoPost(r *http.Request, ps httprouter.Params) (reply, error) {
	ns, rp, err := repoOp(r, ps, opSyncRepo, opSyncImages)
	if err != nil {
		return reply{}, err
	}
	if rp.Op == opSyncRepo {
		return d.createRule(r, ns, rp.Repo)
	}
	return d.syncImages(r, ns, rp.Repo)
}

func (d *dialect) repoDelete(r *http.Request, ps httprouter.Params) (reply, error) {
	ns, rp, err := repoOp(r, ps, opSyncRepo)
	if err != nil {
		return reply{}, err
	}
	return d.deleteRule(r, ns, rp.Repo)
}

// repoOp reads the repository path; an operation not among ops is an
// unknown URL, as APIG answers.
func repoOp(r *http.Request, ps httprouter.Params, ops ...string) (string, repoPath, error) {
	rp, ok := parseRepoPath(ps.ByName("rest"))
	if !ok || !contains(ops, rp.Op) {
		return "", rp, urlNotFound(r)
	}
	return ps.ByName("namespace"), rp, nil
}

// checkRepoName checks the names and that the organization exists.
func (d *dialect) checkRepoName(r *http.Request, ns, repo string) error {
	if !validRepo(repo) {
		return refuse(http.StatusBadRequest, CodeInvalidRepo, "Invalid image name", "%q", repo)
	}
	_, err := d.namespace(r, ns)
	return err
}

// checkRepo also needs the image (404 "organization or repository not
// found", as the sync pages document).
func (d *dialect) checkRepo(r *http.Request, ns, repo string) error {
	_, err := d.sourceTags(r, ns, repo)
	return err
}

func (d *dialect) sourceTags(r *http.Request, ns, repo string) ([]registry.TagDetail, error) {
	if err := d.checkRepoName(r, ns, repo); err != nil {
		return nil, err
	}
	tags, err := d.images.TagDetails(r.Context(), ociName(ns, repo))
	if registry.CodeOf(err) == registry.CodeNameUnknown {
		return nil, repoNotFound(ns, repo)
	}
	return tags, err
}

// checkSync checks what a sync needs: the source image, a region of the
// group and, when its agent can be asked, the target organization there
// (contract §4: unreachable, the sync goes ahead and fails in its jobs).
func (d *dialect) checkSync(r *http.Request, k ruleKey) error {
	if err := d.checkRepo(r, k.Namespace, k.Repo); err != nil {
		return err
	}
	if !slices.ContainsFunc(d.clusters.Clusters(), func(c fsm.ClusterRecord) bool { return c.ID == k.Region }) {
		return invalidParameter("remoteRegionId %q is not a region of GET /v2/manage/regions", k.Region)
	}
	if !validNamespace(k.RemoteNamespace) {
		return invalidNamespace(k.RemoteNamespace, "not an organization name")
	}
	found, err := d.peers.ProjectInRegion(r.Context(), k.Region, k.RemoteNamespace)
	if err == nil && !found {
		e := namespaceNotFound(k.RemoteNamespace)
		e.Detail += " in region " + k.Region
		return e
	}
	return nil
}

// syncImages copies the tags now: a PACKAGE run of docker://<image> with
// those versions, waited for up to the bound. It answers the tags that did
// not reach the target as the source has them: missing on the source,
// failed, kept different on the target (existed, override false) or still
// going at the bound (the run goes on; sync_job shows it).
func (d *dialect) syncImages(r *http.Request, ns, repo string) (reply, error) {
	body, err := decodeSyncImagesBody(r)
	if err != nil {
		return reply{}, err
	}
	k := ruleKey{Namespace: ns, Repo: repo, Region: body.RemoteRegionID, RemoteNamespace: body.RemoteNamespace}
	if err := d.checkSync(r, k); err != nil {
		return reply{}, err
	}
	src, err := d.sourceTags(r, ns, repo)
	if err != nil {
		return reply{}, err
	}
	have, missing := splitTags(body.ImageTag, src)
	if len(have) == 0 {
		return ok(missing), nil
	}
	run, err := d.runs.StartRun(r.Context(), manualSpec(k, have, body.Override))
	if err != nil {
		return reply{}, err
	}
	run = d.await(r.Context(), run, d.syncWait)
	jobs, err := d.runJobs(r.Context(), run, k.Repo)
	if err != nil {
		return reply{}, err
	}
	failed := missing
	for _, j := range jobs {
		if j.Status != statusSuccess && !slices.Contains(failed, j.Tag) {
			failed = append(failed, j.Tag)
		}
	}
	return ok(failed), nil
}

// splitTags keeps the order asked, each tag once.
func splitTags(asked []string, src []registry.TagDetail) (have, missing []string) {
	missing = []string{}
	for _, t := range asked {
		switch {
		case slices.Contains(have, t) || slices.Contains(missing, t):
		case slices.ContainsFunc(src, func(s registry.TagDetail) bool { return s.Tag == t }):
			have = append(have, t)
		default:
			missing = append(missing, t)
		}
	}
	return have, missing
}

func manualSpec(k ruleKey, tags []string, override bool) fsm.ReplicaSpec {
	dockerRepo, img := image(k.Repo)
	return fsm.ReplicaSpec{
		LocalProjectID: k.Namespace, ReplicaObjectType: fsm.ObjectPackage, RemoteClusterIDs: []string{k.Region},
		Objects: []fsm.ReplicaObject{{
			LocalRepoName: dockerRepo, RemoteProjectID: k.RemoteNamespace, RemoteRepoName: dockerRepo, RepoType: string(store.TypeDocker),
			PackageConstraints: []fsm.PackageConstraint{{PackageKey: oci.PackageKey(dockerRepo, img), Versions: tags}},
		}},
		Setting: fsm.ReplicaSetting{IncludeMetadata: true, ConflictStrategy: conflictStrategy(override), ErrorStrategy: fsm.ErrorContinue},
	}
}

// await waits for the run to end, at most bound (or the request's end);
// it answers the run as last seen.
func (d *dialect) await(ctx context.Context, run fsm.Run, bound time.Duration) fsm.Run {
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	for {
		changed := d.runs.StateChanged()
		if cur, found := d.runs.Run(run.ID); found {
			run = cur
		}
		if run.State.Terminal() {
			return run
		}
		select {
		case <-changed:
		case <-deadline.C:
			return run
		case <-ctx.Done():
			return run
		}
	}
}
