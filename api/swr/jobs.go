package swr

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// Sync jobs are the runs of a repository's rules and manual syncs, one
// record per tag and target: a tag's outcome is its tag node's object
// record (the tag is committed last, after what it names). A real-time
// run delivers a tag each time it changes: one job per delivery.

// SWR's job statuses.
const (
	statusWaiting = "waiting"
	statusRunning = "running"
	statusSuccess = "success"
	statusFailed  = "failed"
	statusCancel  = "cancel"
	statusExisted = "existed"
)

// jobView is SWR's SyncJob.
type jobView struct {
	syncFields
	Status           string `json:"status"`
	SyncOperatorID   string `json:"syncOperatorId"`
	SyncOperatorName string `json:"syncOperatorName"`
	Tag              string `json:"tag"`
}

// recordStatus is a done tag node's status: a conflict kept (SKIP) is
// existed; one moved (OVERWRITE) or identical content is a success.
func recordStatus(o fsm.ObjectRecord) string {
	switch {
	case o.Status == fsm.ObjectFailed:
		return statusFailed
	case o.Status == fsm.ObjectSkipped && o.Action == fsm.ActionConflict:
		return statusExisted
	}
	return statusSuccess
}

// stateStatus is the status of a tag without a record yet: its target's.
func stateStatus(s fsm.RunState) string {
	switch s {
	case fsm.RunWaiting, "":
		return statusWaiting
	case fsm.RunRunning:
		return statusRunning
	case fsm.RunSuccess:
		return statusSuccess
	case fsm.RunCanceled, fsm.RunSkipped:
		return statusCancel
	}
	return statusFailed
}

func targetState(run fsm.Run, target string) fsm.RunState {
	for _, t := range run.Targets {
		if t.ClusterID == target && t.State != "" {
			return t.State
		}
	}
	return run.State
}

// repoObject is the run's object of the image, if it is a run of it: a
// rule's PATH of the image's folder or a PACKAGE of its docker:// key.
func repoObject(run fsm.Run, ns, repo string) (fsm.ReplicaObject, bool) {
	dockerRepo, img := image(repo)
	if run.Spec.LocalProjectID != ns {
		return fsm.ReplicaObject{}, false
	}
	for _, o := range run.Spec.Objects {
		if o.LocalRepoName != dockerRepo || o.RepoType != string(store.TypeDocker) {
			continue
		}
		switch run.Spec.ReplicaObjectType {
		case fsm.ObjectPath:
			if len(o.PathConstraints) == 1 && o.PathConstraints[0].Path == scope(img) {
				return o, true
			}
		case fsm.ObjectPackage:
			if len(o.PackageConstraints) == 1 && o.PackageConstraints[0].PackageKey == oci.PackageKey(dockerRepo, img) {
				return o, true
			}
		}
	}
	return fsm.ReplicaObject{}, false
}

// runJobs are the jobs of one run of the repository.
func (d *dialect) runJobs(ctx context.Context, run fsm.Run, repo string) ([]jobView, error) {
	o, found := repoObject(run, run.Spec.LocalProjectID, repo)
	if !found {
		return nil, nil
	}
	dockerRepo, img := image(repo)
	records, err := d.tagRecords(ctx, run.ID, dockerRepo, img)
	if err != nil {
		return nil, err
	}
	base := jobView{SyncOperatorID: run.CreatedBy, SyncOperatorName: run.CreatedBy, syncFields: syncFields{
		DomainID: run.CreatedBy, DomainName: run.CreatedBy, Namespace: run.Spec.LocalProjectID,
		Override: run.Spec.Setting.ConflictStrategy == fsm.ConflictOverwrite, RemoteNamespace: o.RemoteProjectID, RepoName: repo,
	}}
	if run.Trigger == fsm.TriggerRealTime {
		// A real-time round's strategy is its task's, not its spec's.
		if t, ok := d.tasks.Task(run.TaskKey); ok {
			base.Override = t.RealTimeConflict() == fsm.ConflictOverwrite
		}
	}
	var out []jobView
	for _, target := range run.Spec.RemoteClusterIDs {
		base.RemoteRegionID = target
		for _, rec := range records {
			if rec.Target == target {
				out = append(out, recordJob(base, run, rec))
			}
		}
		if run.Spec.ReplicaObjectType == fsm.ObjectPackage {
			out = append(out, pendingJobs(base, run, o.PackageConstraints[0].Versions, records)...)
		}
	}
	return out, nil
}

func recordJob(base jobView, run fsm.Run, rec fsm.ObjectRecord) jobView {
	j := base
	j.Tag = rec.Path[strings.LastIndex(rec.Path, "/")+1:]
	j.Status = recordStatus(rec)
	j.CreatedAt, j.UpdatedAt = formatTime(run.CreatedAt), formatTime(rec.Time)
	if run.Trigger == fsm.TriggerRealTime {
		j.CreatedAt = j.UpdatedAt
	}
	j.ID = id32(run.ID + "\x00" + base.RemoteRegionID + "\x00" + rec.Path + "\x00" + j.UpdatedAt)
	return j
}

// pendingJobs are the asked tags with no record to base.RemoteRegionID yet:
// their status is the target's.
func pendingJobs(base jobView, run fsm.Run, tags []string, records []fsm.ObjectRecord) []jobView {
	var out []jobView
	for _, tag := range tags {
		if slices.ContainsFunc(records, func(r fsm.ObjectRecord) bool {
			return r.Target == base.RemoteRegionID && strings.HasSuffix(r.Path, "/"+tag)
		}) {
			continue
		}
		j := base
		j.Tag, j.Status = tag, stateStatus(targetState(run, base.RemoteRegionID))
		j.CreatedAt = formatTime(run.CreatedAt)
		j.UpdatedAt = formatTime(cmp.Or(run.FinishedAt, run.StartedAt, run.CreatedAt))
		j.ID = id32(run.ID + "\x00" + base.RemoteRegionID + "\x00" + tag)
		out = append(out, j)
	}
	return out
}

// tagRecords are the run's records of the image's tag nodes, every page.
func (d *dialect) tagRecords(ctx context.Context, runID, dockerRepo, img string) ([]fsm.ObjectRecord, error) {
	f := fsm.ObjectFilter{Repo: dockerRepo, PathPrefix: oci.TagsDir(img) + "/"}
	var out []fsm.ObjectRecord
	for page := 1; ; page++ {
		p, err := d.runs.RunObjects(ctx, runID, f, store.PageRequest{Number: page, Size: store.MaxPageSize})
		if err != nil {
			return nil, err
		}
		for _, rec := range p.Records {
			// A nested image's tags are not this image's.
			if !strings.Contains(strings.TrimPrefix(rec.Path, f.PathPrefix), "/") {
				out = append(out, rec)
			}
		}
		if int64(page) >= p.TotalPages {
			return out, nil
		}
	}
}

// listJobs is GET sync_job?filter=limit::N|offset::M[|order::desc|asc]:
// limit and offset are required, order is by creation time, newest first
// by default.
func (d *dialect) listJobs(r *http.Request, ns, repo string) (reply, error) {
	q, err := query(r)
	if err != nil {
		return reply{}, err
	}
	p, e := listParams(q, "limit", "offset", "order")
	if e != nil {
		return reply{}, e
	}
	w, desc, err := jobWindow(p)
	if err != nil {
		return reply{}, err
	}
	if err := d.checkRepo(r, ns, repo); err != nil {
		return reply{}, err
	}
	jobs := []jobView{}
	for _, run := range d.runs.Runs(fsm.RunFilter{}) {
		if _, found := repoObject(run, ns, repo); !found || run.State == fsm.RunSkipped {
			continue
		}
		js, err := d.runJobs(r.Context(), run, repo)
		if err != nil {
			return reply{}, err
		}
		jobs = append(jobs, js...)
	}
	slices.SortStableFunc(jobs, func(a, b jobView) int {
		c := cmp.Or(strings.Compare(a.CreatedAt, b.CreatedAt), strings.Compare(a.UpdatedAt, b.UpdatedAt), strings.Compare(a.Tag, b.Tag))
		if desc {
			return -c
		}
		return c
	})
	page, rng := pageOf(jobs, w)
	return reply{status: http.StatusOK, body: page, contentRange: rng}, nil
}

// jobWindow reads sync_job's paging: both limit and offset are required.
func jobWindow(p params) (window, bool, error) {
	for _, k := range []string{"limit", "offset"} {
		if _, given := p[k]; !given {
			return window{}, false, parametersLost(k)
		}
	}
	w, err := windowOf(p, -1, 1000)
	if err != nil {
		return w, false, err
	}
	switch p["order"] {
	case "", "desc":
		return w, true, nil
	case "asc":
		return w, false, nil
	}
	return w, false, invalidParameter("order %q: desc or asc", p["order"])
}
