package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/api/pulp"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/store"
)

// Pulp consumers of this region's Pulp server, and their content: a unit
// is installed by copying it from the bound repository (this region's) to
// the consumer's region's repository of the same id, as a replication run.

// PulpConsumers lists the consumers registered here.
func (a *Agent) PulpConsumers() []fsm.PulpConsumer { return a.fsm.PulpConsumers(a.cfg.ClusterID) }

// PulpConsumer is one consumer registered here.
func (a *Agent) PulpConsumer(id string) (fsm.PulpConsumer, bool) {
	return a.fsm.PulpConsumer(a.cfg.ClusterID, id)
}

// CreatePulpConsumer registers a consumer with this region's Pulp server.
func (a *Agent) CreatePulpConsumer(ctx context.Context, c fsm.PulpConsumer) (fsm.PulpConsumer, error) {
	c.Cluster = a.cfg.ClusterID
	if err := a.proposePulp(ctx, fsm.CmdPulpCreateConsumer, c); err != nil {
		return fsm.PulpConsumer{}, err
	}
	out, _ := a.PulpConsumer(c.ID)
	return out, nil
}

// UpdatePulpConsumer applies a consumer's PUT delta.
func (a *Agent) UpdatePulpConsumer(ctx context.Context, u fsm.PulpConsumerUpdate) (fsm.PulpConsumer, error) {
	u.Cluster = a.cfg.ClusterID
	if err := a.proposePulp(ctx, fsm.CmdPulpUpdateConsumer, u); err != nil {
		return fsm.PulpConsumer{}, err
	}
	out, _ := a.PulpConsumer(u.ID)
	return out, nil
}

// DeletePulpConsumer unregisters a consumer, with its bindings.
func (a *Agent) DeletePulpConsumer(ctx context.Context, id string) error {
	return a.proposePulp(ctx, fsm.CmdPulpDeleteConsumer, fsm.PulpRepoRef{Cluster: a.cfg.ClusterID, ID: id})
}

// BindPulpConsumer binds (again) a consumer to a repository's distributor.
func (a *Agent) BindPulpConsumer(ctx context.Context, consumer string, b fsm.PulpBinding) (fsm.PulpConsumer, error) {
	if err := a.proposePulp(ctx, fsm.CmdPulpBind, fsm.PulpBindingPut{Cluster: a.cfg.ClusterID, Consumer: consumer, Binding: b}); err != nil {
		return fsm.PulpConsumer{}, err
	}
	out, _ := a.PulpConsumer(consumer)
	return out, nil
}

// UnbindPulpConsumer removes a binding.
func (a *Agent) UnbindPulpConsumer(ctx context.Context, consumer, repo, dist string) error {
	return a.proposePulp(ctx, fsm.CmdPulpUnbind, fsm.PulpBindingPut{Cluster: a.cfg.ClusterID, Consumer: consumer,
		Binding: fsm.PulpBinding{Repo: repo, Distributor: dist}})
}

// PulpContentAction carries out install, update or uninstall of a
// consumer's units: an install or update copies the units the bound
// repositories hold to the consumer's region (a run; in this region there
// is nothing to copy, only to check), an uninstall deletes them there. The
// answer is the task that follows it: a run's id, or a recorded task.
func (a *Agent) PulpContentAction(ctx context.Context, consumer, action string, units []pulp.Unit) (string, error) {
	c, ok := a.PulpConsumer(consumer)
	if !ok {
		return "", &fsm.Error{Kind: fsm.KindNotFound, Reason: "consumer " + consumer + " not found"}
	}
	found, missing := a.locateUnits(ctx, c, units)
	task := fsm.PulpTask{ID: fsm.NewID(), Cluster: a.cfg.ClusterID, Type: "pulp.server.managers.consumer.agent." + action,
		Tags: []string{"pulp:consumer:" + consumer, "pulp:action:unit_" + action}, CreatedBy: api.CallerOf(ctx).Name}
	if len(missing) > 0 {
		task.State, task.Error = fsm.PulpTaskError, "units not found in the bound repositories: "+strings.Join(missing, ", ")
	}
	switch {
	case action == "uninstall" && task.Error == "":
		if err := a.uninstallUnits(ctx, c.Region, found); err != nil {
			task.State, task.Error = fsm.PulpTaskError, err.Error()
		}
	case action != "uninstall" && task.Error == "" && c.Region != a.cfg.ClusterID && len(found) > 0:
		return a.installRun(ctx, c, action, found)
	}
	if err := a.proposePulp(ctx, fsm.CmdPulpRecordTask, fsm.PulpTaskRecord{Task: task}); err != nil {
		return "", err
	}
	return task.ID, nil
}

// locateUnits finds, by name, each ISO unit in the consumer's bound
// repositories: the paths to copy, by repository.
func (a *Agent) locateUnits(ctx context.Context, c fsm.PulpConsumer, units []pulp.Unit) (map[string][]string, []string) {
	found := map[string][]string{}
	var missing []string
	for _, u := range units {
		name := "/" + strings.TrimPrefix(u.Name, "/")
		held := false
		for _, b := range c.Bindings {
			repo, err := a.store.Repository(ctx, PulpProject, b.Repo)
			if err != nil {
				continue
			}
			if _, err := repo.Stat(ctx, name); err == nil {
				found[b.Repo] = append(found[b.Repo], name)
				held = true
			}
		}
		if !held {
			missing = append(missing, u.TypeID+":"+u.Name)
		}
	}
	return found, missing
}

// installRun copies the units to the consumer's region: a PATH run from
// here, overwriting what the region holds at those paths.
func (a *Agent) installRun(ctx context.Context, c fsm.PulpConsumer, action string, found map[string][]string) (string, error) {
	spec := fsm.ReplicaSpec{SourceCluster: a.cfg.ClusterID, LocalProjectID: PulpProject, ReplicaObjectType: fsm.ObjectPath,
		RemoteClusterIDs: []string{c.Region},
		Setting:          fsm.ReplicaSetting{IncludeMetadata: true, ConflictStrategy: fsm.ConflictOverwrite, ErrorStrategy: fsm.ErrorContinue}}
	for repo, paths := range found {
		o := fsm.ReplicaObject{LocalRepoName: repo, RemoteProjectID: PulpProject, RemoteRepoName: repo, RepoType: string(store.TypeGeneric)}
		for _, p := range paths {
			o.PathConstraints = append(o.PathConstraints, fsm.PathConstraint{Path: p})
		}
		spec.Objects = append(spec.Objects, o)
	}
	if err := fsm.ValidateSpec(spec, a.clusterRegistry()); err != nil {
		return "", err
	}
	run := fsm.Run{ID: fsm.NewID(), Trigger: fsm.TriggerManual, Spec: spec, CreatedBy: api.CallerOf(ctx).Name,
		PulpContent: &fsm.PulpContent{Cluster: a.cfg.ClusterID, Consumer: c.ID, Action: action}}
	cmd, err := fsm.NewCommand(fsm.CmdCreateRun, run)
	if err != nil {
		return "", err
	}
	if err := a.propose(ctx, api.CallerOf(ctx).Secret, cmd); err != nil {
		return "", err
	}
	return run.ID, nil
}

// uninstallUnits deletes the units from the region's repositories: here in
// the store, elsewhere through the region's agent.
func (a *Agent) uninstallUnits(ctx context.Context, region string, found map[string][]string) error {
	var errs []error
	for repo, paths := range found {
		for _, p := range paths {
			errs = append(errs, a.deleteInRegion(ctx, region, repo, p))
		}
	}
	return errors.Join(errs...)
}

func (a *Agent) deleteInRegion(ctx context.Context, region, repo, path string) error {
	if region == a.cfg.ClusterID {
		r, err := a.store.Repository(ctx, PulpProject, repo)
		if err == nil {
			err = r.Delete(ctx, path, api.CallerOf(ctx).Name)
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
	err := a.peers.Do(ctx, peer.Request{Method: http.MethodDelete, Addr: addr, Path: "/generic/" + PulpProject + "/" + url.PathEscape(repo) + path,
		Token: a.cfg.Token, TraceID: api.TraceID(ctx)}, nil)
	var se *peer.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return nil
	}
	return err
}
