package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/store"
)

// PulpProject is the store project that holds this agent's Pulp
// repositories: a Pulp repository's content is the store repository of
// the same id.
const PulpProject = fsm.PulpProject

// The Pulp 2 dialect's services (api/pulp.Repos): this agent is the Pulp
// server of its region, so every call is about this agent's cluster.

// PulpRepos lists this region's Pulp repositories.
func (a *Agent) PulpRepos() []fsm.PulpRepo { return a.fsm.PulpRepos(a.cfg.ClusterID) }

// PulpRepo is one of this region's Pulp repositories.
func (a *Agent) PulpRepo(id string) (fsm.PulpRepo, bool) { return a.fsm.PulpRepo(a.cfg.ClusterID, id) }

// CreatePulpRepo records a repository of this region and makes its store
// repository (GENERIC: an ISO repository holds files).
func (a *Agent) CreatePulpRepo(ctx context.Context, r fsm.PulpRepo) (fsm.PulpRepo, error) {
	r.Cluster = a.cfg.ClusterID
	if err := a.proposePulp(ctx, fsm.CmdPulpCreateRepo, r); err != nil {
		return fsm.PulpRepo{}, err
	}
	if err := a.ensurePulpStore(ctx, r.ID); err != nil {
		return fsm.PulpRepo{}, err
	}
	out, ok := a.PulpRepo(r.ID)
	if !ok {
		return fsm.PulpRepo{}, fmt.Errorf("repository %s was written but is already gone", r.ID)
	}
	return out, nil
}

// ensurePulpStore creates the store project and repository a Pulp
// repository's content lives in, unless they are there.
func (a *Agent) ensurePulpStore(ctx context.Context, id string) error {
	by := api.CallerOf(ctx).Name
	if _, err := a.store.CreateProject(ctx, store.Project{Name: PulpProject, DisplayName: "Pulp repositories", CreatedBy: by}); err != nil && !errors.Is(err, store.ErrExists) {
		return err
	}
	_, err := a.store.CreateRepo(ctx, store.Repo{Project: PulpProject, Name: id, Type: store.TypeGeneric, Description: "Pulp repository " + id, CreatedBy: by})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return err
	}
	return nil
}

// UpdatePulpRepo applies Pulp's PUT to one of this region's repositories
// (with a TaskID, recorded as that task).
func (a *Agent) UpdatePulpRepo(ctx context.Context, u fsm.PulpRepoUpdate) (fsm.PulpRepo, error) {
	u.Cluster, u.By = a.cfg.ClusterID, api.CallerOf(ctx).Name
	if err := a.proposePulp(ctx, fsm.CmdPulpUpdateRepo, u); err != nil {
		return fsm.PulpRepo{}, err
	}
	r, _ := a.PulpRepo(u.ID)
	return r, nil
}

// DeletePulpRepo deletes a repository of this region, and its content.
func (a *Agent) DeletePulpRepo(ctx context.Context, id string) (fsm.PulpTask, error) {
	ref := fsm.PulpRepoRef{Cluster: a.cfg.ClusterID, ID: id, TaskID: fsm.NewID(), By: api.CallerOf(ctx).Name}
	if err := a.proposePulp(ctx, fsm.CmdPulpDeleteRepo, ref); err != nil {
		return fsm.PulpTask{}, err
	}
	if err := a.store.DeleteRepo(ctx, PulpProject, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.log.Warn("pulp: delete the content of a deleted repository", "repo", id, "err", err)
	}
	t, _ := a.fsm.PulpTask(ref.TaskID)
	return t, nil
}

// SetPulpImporter gives a repository of this region its importer (nil
// removes it).
func (a *Agent) SetPulpImporter(ctx context.Context, id string, imp *fsm.PulpImporter) (fsm.PulpTask, error) {
	p := fsm.PulpImporterSet{Cluster: a.cfg.ClusterID, ID: id, Importer: imp, TaskID: fsm.NewID(), By: api.CallerOf(ctx).Name}
	if err := a.proposePulp(ctx, fsm.CmdPulpSetImporter, p); err != nil {
		return fsm.PulpTask{}, err
	}
	t, _ := a.fsm.PulpTask(p.TaskID)
	return t, nil
}

// PulpTasks are this region's tasks that have every tag asked.
func (a *Agent) PulpTasks(tags []string) []fsm.PulpTask {
	return a.fsm.PulpTasks(a.cfg.ClusterID, tags)
}

// CancelPulpTask cancels one of this region's tasks that waits.
func (a *Agent) CancelPulpTask(ctx context.Context, id string) error {
	return a.proposePulp(ctx, fsm.CmdPulpCancelTask, fsm.PulpTaskCancel{ID: id, Cluster: a.cfg.ClusterID})
}

// PulpTask is one of this region's tasks.
func (a *Agent) PulpTask(id string) (fsm.PulpTask, bool) {
	t, ok := a.fsm.PulpTask(id)
	return t, ok && t.Cluster == a.cfg.ClusterID
}

// PulpContent is a repository's content: this agent's store repository,
// opened, not created (a publication's GET is a read; store.ErrNotFound when
// there is none).
func (a *Agent) PulpContent(ctx context.Context, id string) (store.Repository, error) {
	return a.store.Repository(ctx, PulpProject, id)
}

// PulpUnits counts the files of a repository's content.
func (a *Agent) PulpUnits(ctx context.Context, id string) (int64, error) {
	repo, err := a.store.Repository(ctx, PulpProject, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n int64
	err = repo.Walk(ctx, "/", func(store.Node) error { n++; return nil })
	return n, err
}

func (a *Agent) proposePulp(ctx context.Context, t fsm.CommandType, payload any) error {
	cmd, err := fsm.NewCommand(t, payload)
	if err != nil {
		return &peer.StatusError{Code: http.StatusBadRequest, Message: err.Error()}
	}
	return a.propose(ctx, api.CallerOf(ctx).Secret, cmd)
}

// SyncPulpRepo starts a sync of a repository of this region: a run this
// agent executes, with the importer's config and the overrides.
func (a *Agent) SyncPulpRepo(ctx context.Context, id string, overrides map[string]json.RawMessage) (fsm.Run, error) {
	p := fsm.PulpSync{RunID: fsm.NewID(), Cluster: a.cfg.ClusterID, Repo: id, Project: PulpProject, Overrides: overrides, By: api.CallerOf(ctx).Name}
	if err := a.proposePulp(ctx, fsm.CmdPulpSync, p); err != nil {
		return fsm.Run{}, err
	}
	r, ok := a.fsm.Run(p.RunID)
	if !ok {
		return fsm.Run{}, fmt.Errorf("sync %s was written but is already gone", p.RunID)
	}
	return r, nil
}

// PurgePulpTasks deletes this region's recorded tasks in the states named.
func (a *Agent) PurgePulpTasks(ctx context.Context, states []string) error {
	return a.proposePulp(ctx, fsm.CmdPulpPurgeTasks, fsm.PulpTaskPurge{Cluster: a.cfg.ClusterID, States: states})
}

// PublishPulpRepo publishes a distributor of one of this region's
// repositories: the publication is live, so this records the publish.
func (a *Agent) PublishPulpRepo(ctx context.Context, repo, dist string) (fsm.PulpTask, error) {
	p := fsm.PulpPublish{Cluster: a.cfg.ClusterID, Repo: repo, Distributor: dist, TaskID: fsm.NewID(), By: api.CallerOf(ctx).Name}
	if err := a.proposePulp(ctx, fsm.CmdPulpPublish, p); err != nil {
		return fsm.PulpTask{}, err
	}
	t, _ := a.fsm.PulpTask(p.TaskID)
	return t, nil
}
