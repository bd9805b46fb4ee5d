package replicator

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// object is one file of the source a run replicates.
type object struct {
	Path       string
	Size       int64
	SHA256     string
	Metadata   map[string]string
	PackageKey string
	Version    string
	MD5        string
	repo       string // the local repository it is in
}

// selection is what a spec's object selects in one local repository.
type selection struct {
	spec     fsm.ReplicaObject
	repoType string
	repo     store.Repository
	objects  []object
	versions []PackageVersion
	// head is the source repository's change-log position, read before
	// the listing: the listing holds at least everything up to it.
	head uint64
	// quick, when set, holds for every target the mark that makes the
	// selection need no listing nor planning (objects is then empty).
	quick map[string]syncMark
}

// quickSelection is a selection that needs neither listing nor planning:
// every target matches its quick-check mark at the source's current head.
func quickSelection(ctx context.Context, st store.Store, sp fsm.ReplicaSpec, o fsm.ReplicaObject, targets []*targetExec) (selection, bool) {
	repo, err := st.Repository(ctx, sp.LocalProjectID, o.LocalRepoName)
	if err != nil {
		return selection{}, false
	}
	head, err := repo.Head(ctx)
	if err != nil {
		return selection{}, false
	}
	quick := map[string]syncMark{}
	for _, t := range targets {
		m, ok := t.quickMatch(ctx, o, head)
		if !ok {
			return selection{}, false
		}
		quick[t.id] = m
	}
	return selection{spec: o, repo: repo, repoType: string(repo.Info().Type), head: head, quick: quick}, true
}

// enumerate lists, in the local store, what one spec object selects.
func enumerate(ctx context.Context, st store.Store, sp fsm.ReplicaSpec, o fsm.ReplicaObject) (selection, error) {
	repo, err := st.Repository(ctx, sp.LocalProjectID, o.LocalRepoName)
	if err != nil {
		return selection{}, fmt.Errorf("local repository %s/%s: %w", sp.LocalProjectID, o.LocalRepoName, err)
	}
	sel := selection{spec: o, repo: repo, repoType: string(repo.Info().Type)}
	if sel.head, err = repo.Head(ctx); err != nil {
		return selection{}, err
	}
	if o.RepoType != "" {
		sel.repoType = o.RepoType
	}
	seen := map[string]bool{}
	add := func(n store.Node) {
		if !n.Folder && !seen[n.Path] {
			seen[n.Path] = true
			sel.objects = append(sel.objects, object{Path: n.Path, Size: n.Size, SHA256: n.SHA256, MD5: n.MD5, Metadata: n.Metadata, repo: o.LocalRepoName})
		}
	}
	switch sp.ReplicaObjectType {
	case fsm.ObjectRepository:
		if err := listTree(ctx, repo, "/", add); err != nil {
			return selection{}, err
		}
		if sel.versions, err = allVersions(ctx, repo, ""); err != nil {
			return selection{}, err
		}
	case fsm.ObjectPath:
		for _, c := range o.PathConstraints {
			n, err := repo.Stat(ctx, c.Path)
			switch {
			case err == nil && !n.Folder:
				add(n)
			case err == nil || errors.Is(err, store.ErrNotFound):
				if err := listTree(ctx, repo, c.Path, add); err != nil {
					return selection{}, err
				}
			default:
				return selection{}, err
			}
		}
	case fsm.ObjectPackage:
		for _, c := range o.PackageConstraints {
			var vs []PackageVersion
			if len(c.Versions) == 0 {
				if vs, err = allVersions(ctx, repo, c.PackageKey); err != nil {
					return selection{}, err
				}
			}
			for _, name := range c.Versions {
				v, err := repo.Version(ctx, c.PackageKey, name)
				if err != nil {
					return selection{}, fmt.Errorf("package %s version %s: %w", c.PackageKey, name, err)
				}
				vs = append(vs, replicaVersion(v))
			}
			for _, v := range vs {
				for _, p := range v.Paths {
					n, err := repo.Stat(ctx, p)
					if err != nil {
						return selection{}, fmt.Errorf("package %s version %s: %w", v.PackageKey, v.Version, err)
					}
					add(n)
				}
			}
			sel.versions = append(sel.versions, vs...)
		}
	}
	// Name each file's package version, for the object detail.
	owner := map[string]PackageVersion{}
	for _, v := range sel.versions {
		for _, p := range v.Paths {
			owner[p] = v
		}
	}
	for i := range sel.objects {
		if v, ok := owner[sel.objects[i].Path]; ok {
			sel.objects[i].PackageKey, sel.objects[i].Version = v.PackageKey, v.Version
		}
	}
	return sel, nil
}

// listTree lists every file under dir (a missing folder lists nothing), in
// one pass over the store.
func listTree(ctx context.Context, repo store.Repository, dir string, add func(store.Node)) error {
	return repo.Walk(ctx, dir, func(n store.Node) error {
		add(n)
		return nil
	})
}

// allVersions lists every version of the packages whose key starts with
// prefix (an exact key in practice, or "" for all).
func allVersions(ctx context.Context, repo store.Repository, key string) ([]PackageVersion, error) {
	var keys []string
	if key != "" {
		keys = []string{key}
	} else {
		for page := 1; ; page++ {
			p, err := repo.Packages(ctx, "", store.PageRequest{Number: page, Size: store.MaxPageSize})
			if err != nil {
				return nil, err
			}
			for _, pk := range p.Records {
				keys = append(keys, pk.Key)
			}
			if int64(page) >= p.TotalPages {
				break
			}
		}
	}
	var out []PackageVersion
	for _, k := range keys {
		for page := 1; ; page++ {
			p, err := repo.Versions(ctx, k, store.PageRequest{Number: page, Size: store.MaxPageSize})
			if err != nil {
				return nil, fmt.Errorf("package %s: %w", k, err)
			}
			for _, v := range p.Records {
				out = append(out, replicaVersion(v))
			}
			if int64(page) >= p.TotalPages {
				break
			}
		}
	}
	return out, nil
}

func replicaVersion(v store.PackageVersion) PackageVersion {
	return PackageVersion{PackageKey: v.PackageKey, Version: v.Version, Paths: slices.Clone(v.Paths), Metadata: v.Metadata}
}
