package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/store"
)

// A consumer's content action, asked now or dispatched by its schedule,
// waits in the replicated state (fsm/pulpcontent.go) until this agent, the
// Pulp server the consumer is registered with, carries it out: only this
// agent's store can tell which bound repository holds each unit. An install
// or update becomes a run that copies the units (files and package
// versions: pulpunits.go) to the consumer's region's repositories of the
// same ids; an uninstall deletes them there.

// PulpContentAction asks for a content action on a consumer registered
// here: the answer is the id of its task.
func (a *Agent) PulpContentAction(ctx context.Context, consumer string, call fsm.PulpContentCall) (string, error) {
	call.Consumer = consumer
	q := fsm.PulpContentQueue{TaskID: fsm.NewID(), Cluster: a.cfg.ClusterID, Call: call, By: api.CallerOf(ctx).Name}
	if err := a.proposePulp(ctx, fsm.CmdPulpQueueContent, q); err != nil {
		return "", err
	}
	return q.TaskID, nil
}

// carryOutPulpContent starts this region's waiting content actions as they
// come, until the agent stops. A task is done once its start is applied, so
// one the agent stopped in the middle of is carried out after a restart.
func (a *Agent) carryOutPulpContent() {
	for {
		changed := a.fsm.Changed()
		for _, t := range a.fsm.WaitingPulpContent(a.cfg.ClusterID) {
			a.startPulpContent(a.ctx, t)
		}
		select {
		case <-a.ctx.Done():
			return
		case <-changed:
		}
	}
}

// startPulpContent carries out one waiting content task: it becomes the run
// that copies its units, or ends here.
func (a *Agent) startPulpContent(ctx context.Context, t fsm.PulpTask) {
	start := a.contentOutcome(ctx, t)
	err := a.applyContentStart(ctx, start)
	if start.Run != nil && err != nil && fsm.KindOf(err) != fsm.KindConflict && ctx.Err() == nil {
		// The copy was refused (its region left the group, say): the task
		// fails with the reason instead of waiting for ever.
		err = a.applyContentStart(ctx, fsm.PulpContentStart{TaskID: t.ID, Error: err.Error()})
	}
	if err != nil && fsm.KindOf(err) != fsm.KindConflict && ctx.Err() == nil {
		a.log.Warn("pulp content action not started", "task", t.ID, "err", err)
	}
}

func (a *Agent) applyContentStart(ctx context.Context, start fsm.PulpContentStart) error {
	cmd, err := fsm.NewCommand(fsm.CmdPulpStartContent, start)
	if err != nil {
		return err
	}
	return a.proposeAsAgent(ctx, cmd)
}

// contentOutcome is what a content task comes to: the run of an install
// into another region, or its end (an uninstall done, units missing).
func (a *Agent) contentOutcome(ctx context.Context, t fsm.PulpTask) fsm.PulpContentStart {
	out := fsm.PulpContentStart{TaskID: t.ID}
	call := t.Content
	c, ok := a.PulpConsumer(call.Consumer)
	if !ok {
		out.Error = "consumer " + call.Consumer + " not found"
		return out
	}
	found, err := a.locateUnits(ctx, c, call.Units)
	switch {
	case err != nil:
		out.Error = err.Error()
	case call.Action == fsm.PulpUninstall:
		if err := a.uninstallUnits(ctx, c.Region, t.CreatedBy, found); err != nil {
			out.Error = err.Error()
		}
	case c.Region != a.cfg.ClusterID:
		out.Run = &fsm.Run{Spec: installSpec(a.cfg.ClusterID, c.Region, found)}
	}
	return out
}

// installSpec copies the units from here to the region in one run,
// overwriting what the region holds: a PATH run of files, or, when any unit
// is a package, a PACKAGE run whose objects also name the file units, so
// that the versions' records arrive with their files.
func installSpec(here, region string, found map[string]*located) fsm.ReplicaSpec {
	spec := fsm.ReplicaSpec{SourceCluster: here, LocalProjectID: PulpProject, ReplicaObjectType: fsm.ObjectPath,
		RemoteClusterIDs: []string{region},
		Setting:          fsm.ReplicaSetting{IncludeMetadata: true, ConflictStrategy: fsm.ConflictOverwrite, ErrorStrategy: fsm.ErrorContinue}}
	for _, repo := range slices.Sorted(maps.Keys(found)) {
		l := found[repo]
		o := fsm.ReplicaObject{LocalRepoName: repo, RemoteProjectID: PulpProject, RemoteRepoName: repo, RepoType: string(store.TypeGeneric)}
		for _, p := range l.paths {
			o.PathConstraints = append(o.PathConstraints, fsm.PathConstraint{Path: p})
		}
		for _, p := range l.packages {
			o.PackageConstraints = append(o.PackageConstraints, fsm.PackageConstraint{PackageKey: p.key, Versions: []string{p.installVersion()}})
			spec.ReplicaObjectType = fsm.ObjectPackage
		}
		spec.Objects = append(spec.Objects, o)
	}
	return spec
}

// uninstallUnits deletes the units from the region's repositories: here in
// the store, elsewhere through the region's agent.
func (a *Agent) uninstallUnits(ctx context.Context, region, by string, found map[string]*located) error {
	var errs []error
	for repo, l := range found {
		for _, p := range l.packages {
			errs = append(errs, a.uninstallPackage(ctx, region, by, repo, p))
		}
		for _, p := range l.paths {
			errs = append(errs, a.deleteInRegion(ctx, region, by, repo, p))
		}
	}
	return errors.Join(errs...)
}

// uninstallPackage deletes the unit's versions the region holds: each
// record, then its files (the record first, so that no version is left
// naming files that are gone).
func (a *Agent) uninstallPackage(ctx context.Context, region, by, repo string, p pkgUnit) error {
	vs, err := a.versionsInRegion(ctx, region, repo, p.key)
	if err != nil {
		return err
	}
	var errs []error
	for _, v := range vs {
		if !p.removes(v.Version) {
			continue
		}
		if err := a.deleteVersionInRegion(ctx, region, by, repo, v); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, path := range v.Paths {
			errs = append(errs, a.deleteInRegion(ctx, region, by, repo, path))
		}
	}
	return errors.Join(errs...)
}

func (a *Agent) deleteInRegion(ctx context.Context, region, by, repo, path string) error {
	if region != a.cfg.ClusterID {
		return a.callRegion(ctx, region, peer.Request{Method: http.MethodDelete, Path: genericPath(PulpProject, repo, path)}, nil)
	}
	r, err := a.store.Repository(ctx, PulpProject, repo)
	if err == nil {
		err = r.Delete(ctx, path, by)
	}
	return ignoreNotFound(err)
}

// versionsInRegion is every version of a package the region's repository
// holds (none when it has no such repository or package).
func (a *Agent) versionsInRegion(ctx context.Context, region, repo, key string) ([]store.PackageVersion, error) {
	var out []store.PackageVersion
	for page := 1; ; page++ {
		var p store.Page[store.PackageVersion]
		var err error
		if region == a.cfg.ClusterID {
			p, err = a.localVersions(ctx, repo, key, page)
		} else {
			q := url.Values{"packageKey": {key}, "pageNumber": {strconv.Itoa(page)}, "pageSize": {strconv.Itoa(store.MaxPageSize)}}
			err = a.callRegion(ctx, region, peer.Request{Method: http.MethodGet, Path: packagesPath(PulpProject, repo, "versions"), Query: q}, &p)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p.Records...)
		if int64(page) >= p.TotalPages {
			return out, nil
		}
	}
}

func (a *Agent) localVersions(ctx context.Context, repo, key string, page int) (store.Page[store.PackageVersion], error) {
	r, err := a.store.Repository(ctx, PulpProject, repo)
	if err != nil {
		return store.Page[store.PackageVersion]{}, ignoreNotFound(err)
	}
	p, err := r.Versions(ctx, key, store.PageRequest{Number: page, Size: store.MaxPageSize})
	return p, ignoreNotFound(err)
}

// deleteVersionInRegion deletes a version's record (its files stay).
func (a *Agent) deleteVersionInRegion(ctx context.Context, region, by, repo string, v store.PackageVersion) error {
	if region != a.cfg.ClusterID {
		q := url.Values{"packageKey": {v.PackageKey}, "version": {v.Version}}
		return a.callRegion(ctx, region, peer.Request{Method: http.MethodDelete, Path: packagesPath(PulpProject, repo, "version"), Query: q}, nil)
	}
	r, err := a.store.Repository(ctx, PulpProject, repo)
	if err == nil {
		err = r.DeleteVersion(ctx, v.PackageKey, v.Version, by)
	}
	return ignoreNotFound(err)
}

// callRegion sends a store call to the region's agent, with this agent's
// token. A 404 is no error: what an uninstall would delete is not there.
func (a *Agent) callRegion(ctx context.Context, region string, req peer.Request, out any) error {
	addr, ok := a.ClusterAPIAddr(region)
	if !ok {
		return fmt.Errorf("region %s has no known API address", region)
	}
	req.Addr, req.Cluster, req.Token, req.TraceID = addr, region, a.cfg.Token, api.TraceID(ctx)
	err := a.peers.Do(ctx, req, out)
	var se *peer.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return nil
	}
	return err
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// packagesPath is the native API's URL path of a repository's package
// calls (packages/versions, packages/version), each segment escaped.
func packagesPath(project, repo, call string) string {
	return "/v1/projects/" + url.PathEscape(project) + "/repos/" + url.PathEscape(repo) + "/packages/" + call
}

// genericPath is the generic API's URL path of a file, each segment
// escaped: a unit's name may hold spaces, '#' or '?'.
func genericPath(project, repo, path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/generic/" + url.PathEscape(project) + "/" + url.PathEscape(repo) + "/" + strings.Join(segs, "/")
}
