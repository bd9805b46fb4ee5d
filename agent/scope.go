package agent

import (
	"context"
	"slices"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/store"
)

// scopedStore is the store as an API caller reaches it: a credential
// limited to projects reads and writes those only (api.CheckScope), and
// lists only them. The artifact API, the registry and SWR's organizations
// are served over it; the replication protocol and the agent's own work
// use the store itself.
type scopedStore struct{ *store.Local }

func (s scopedStore) CreateProject(ctx context.Context, p store.Project) (store.Project, error) {
	if err := api.CheckScope(ctx, p.Name); err != nil {
		return store.Project{}, err
	}
	return s.Local.CreateProject(ctx, p)
}

func (s scopedStore) Project(ctx context.Context, name string) (store.Project, error) {
	if err := api.CheckScope(ctx, name); err != nil {
		return store.Project{}, err
	}
	return s.Local.Project(ctx, name)
}

func (s scopedStore) Projects(ctx context.Context) ([]store.Project, error) {
	ps, err := s.Local.Projects(ctx)
	if scope := api.ScopeOf(ctx); len(scope) > 0 {
		ps = slices.DeleteFunc(ps, func(p store.Project) bool { return !slices.Contains(scope, p.Name) })
	}
	return ps, err
}

func (s scopedStore) DeleteProject(ctx context.Context, name string) error {
	if err := api.CheckScope(ctx, name); err != nil {
		return err
	}
	return s.Local.DeleteProject(ctx, name)
}

func (s scopedStore) CreateRepo(ctx context.Context, r store.Repo) (store.Repo, error) {
	if err := api.CheckScope(ctx, r.Project); err != nil {
		return store.Repo{}, err
	}
	return s.Local.CreateRepo(ctx, r)
}

func (s scopedStore) Repos(ctx context.Context, project string) ([]store.Repo, error) {
	if err := api.CheckScope(ctx, project); err != nil {
		return nil, err
	}
	return s.Local.Repos(ctx, project)
}

func (s scopedStore) Repository(ctx context.Context, project, name string) (store.Repository, error) {
	if err := api.CheckScope(ctx, project); err != nil {
		return nil, err
	}
	return s.Local.Repository(ctx, project, name)
}

func (s scopedStore) DeleteRepo(ctx context.Context, project, name string) error {
	if err := api.CheckScope(ctx, project); err != nil {
		return err
	}
	return s.Local.DeleteRepo(ctx, project, name)
}
