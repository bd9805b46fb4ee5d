package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
// or update becomes a run that copies the units to the consumer's region's
// repositories of the same ids; an uninstall deletes them there.

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
	found, missing := a.locateUnits(ctx, c, call.Units)
	switch {
	case len(missing) > 0:
		out.Error = "units not found in the bound repositories: " + strings.Join(missing, ", ")
	case call.Action == fsm.PulpUninstall:
		if err := a.uninstallUnits(ctx, c.Region, t.CreatedBy, found); err != nil {
			out.Error = err.Error()
		}
	case c.Region != a.cfg.ClusterID:
		out.Run = &fsm.Run{Spec: a.installSpec(c.Region, found)}
	}
	return out
}

// locateUnits finds each unit, by name, in the consumer's bound
// repositories: the paths to copy, by repository.
func (a *Agent) locateUnits(ctx context.Context, c fsm.PulpConsumer, units []fsm.PulpUnit) (map[string][]string, []string) {
	found := map[string][]string{}
	var missing []string
	for _, u := range units {
		name := "/" + strings.TrimPrefix(u.Key("name"), "/")
		held := false
		for _, b := range c.Bindings {
			repo, err := a.store.Repository(ctx, PulpProject, b.Repo)
			if err != nil {
				continue
			}
			if n, err := repo.Stat(ctx, name); err == nil && !n.Folder {
				found[b.Repo] = append(found[b.Repo], n.Path)
				held = true
			}
		}
		if !held {
			missing = append(missing, u.TypeID+":"+u.Key("name"))
		}
	}
	return found, missing
}

// installSpec copies the units to the region: a PATH run from here,
// overwriting what the region holds at those paths.
func (a *Agent) installSpec(region string, found map[string][]string) fsm.ReplicaSpec {
	spec := fsm.ReplicaSpec{SourceCluster: a.cfg.ClusterID, LocalProjectID: PulpProject, ReplicaObjectType: fsm.ObjectPath,
		RemoteClusterIDs: []string{region},
		Setting:          fsm.ReplicaSetting{IncludeMetadata: true, ConflictStrategy: fsm.ConflictOverwrite, ErrorStrategy: fsm.ErrorContinue}}
	for repo, paths := range found {
		o := fsm.ReplicaObject{LocalRepoName: repo, RemoteProjectID: PulpProject, RemoteRepoName: repo, RepoType: string(store.TypeGeneric)}
		for _, p := range paths {
			o.PathConstraints = append(o.PathConstraints, fsm.PathConstraint{Path: p})
		}
		spec.Objects = append(spec.Objects, o)
	}
	return spec
}

// uninstallUnits deletes the units from the region's repositories: here in
// the store, elsewhere through the region's agent.
func (a *Agent) uninstallUnits(ctx context.Context, region, by string, found map[string][]string) error {
	var errs []error
	for repo, paths := range found {
		for _, p := range paths {
			errs = append(errs, a.deleteInRegion(ctx, region, by, repo, p))
		}
	}
	return errors.Join(errs...)
}

func (a *Agent) deleteInRegion(ctx context.Context, region, by, repo, path string) error {
	if region == a.cfg.ClusterID {
		r, err := a.store.Repository(ctx, PulpProject, repo)
		if err == nil {
			err = r.Delete(ctx, path, by)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	addr, ok := a.ClusterAPIAddr(region)
	if !ok {
		return fmt.Errorf("region %s has no known API address", region)
	}
	err := a.peers.Do(ctx, peer.Request{Method: http.MethodDelete, Addr: addr, Path: genericPath(PulpProject, repo, path),
		Token: a.cfg.Token, TraceID: api.TraceID(ctx)}, nil)
	var se *peer.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return nil
	}
	return err
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
