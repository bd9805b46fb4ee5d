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
	// No MD5: the sender takes it from the node it reads the content with
	// (48 bytes an object of a million-file listing held to the end).
	// phase is when, in the commit order, the object may become visible.
	phase phase
}

// selection is what a spec's object selects in one local repository.
type selection struct {
	spec     fsm.ReplicaObject
	repoType string
	repo     store.Repository
	// objects are in commit order: by phase, listing order within one.
	objects []object
	// inline holds contents read with the nodes, by path (real time).
	inline map[string][]byte
	// versions point at objects: they are committed last (phasePointer).
	versions []PackageVersion
	// head is the source repository's change-log position, read before
	// the listing: the listing holds at least everything up to it.
	head uint64
	// A repository whose listing is longer than listPart is taken in
	// parts (one part in memory at a time, per target: a million objects
	// held whole were most of the source's memory): objects is the first
	// part, and more says others follow it; files and bytes then count the
	// whole listing (a walk that keeps nothing).
	listPart     int
	more         bool
	files, bytes int64
	// marks are the targets' quick-check marks of the spec object, read
	// once. With quick set, every target matches its mark at head: the
	// selection needs no listing nor planning (objects is then empty).
	marks map[string]syncMark
	quick bool
}

// selectAll selects what every object of the spec names, for the targets.
// A repository's listing longer than listPart objects is taken in parts.
func selectAll(ctx context.Context, st store.Store, sp fsm.ReplicaSpec, targets []*targetExec, listPart int) ([]selection, error) {
	sels := make([]selection, 0, len(sp.Objects))
	for _, o := range sp.Objects {
		sel, err := selectOne(ctx, st, sp, o, targets, listPart)
		if err != nil {
			return nil, err
		}
		sels = append(sels, sel)
	}
	return sels, nil
}

// selectOne lists what one spec object selects, unless every target
// matches its quick-check mark at the source's current head.
func selectOne(ctx context.Context, st store.Store, sp fsm.ReplicaSpec, o fsm.ReplicaObject, targets []*targetExec, listPart int) (selection, error) {
	repo, err := st.Repository(ctx, sp.LocalProjectID, o.LocalRepoName)
	if err != nil {
		return selection{}, fmt.Errorf("local repository %s/%s: %w", sp.LocalProjectID, o.LocalRepoName, err)
	}
	sel := selection{spec: o, repo: repo, repoType: string(repo.Info().Type), marks: readMarks(targets, o), listPart: listPart}
	if sel.head, err = repo.Head(ctx); err != nil {
		return selection{}, err
	}
	if len(sel.marks) == len(targets) && len(targets) > 0 && allHold(ctx, targets, sel) {
		sel.quick = true
		return sel, nil
	}
	// A DOCKER repository's nodes are images only a DOCKER repository
	// serves: the target's is one, whatever the spec says.
	if o.RepoType != "" && repo.Info().Type != store.TypeDocker {
		sel.repoType = o.RepoType
	}
	return sel, enumerate(ctx, sp, &sel)
}

// allHold reports whether every target still stands at its mark.
func allHold(ctx context.Context, targets []*targetExec, sel selection) bool {
	for _, t := range targets {
		if !t.holds(ctx, sel.spec, sel.marks[t.id], sel.head) {
			return false
		}
	}
	return true
}

// enumerate lists, in the local store, what one spec object selects.
func enumerate(ctx context.Context, sp fsm.ReplicaSpec, sel *selection) error {
	l := lister{seen: map[string]bool{}}
	var err error
	switch sp.ReplicaObjectType {
	case fsm.ObjectRepository:
		if sel.repo.Info().Type != store.TypeDocker && sel.listPart > 0 {
			if err = sel.listFirstPart(ctx); err == nil {
				sel.versions, err = allVersions(ctx, sel.repo, "")
			}
			break
		}
		l.seen = nil // one walk lists each path once: a million paths need no set
		if err = listTree(ctx, sel.repo, "/", l.add); err == nil {
			sel.versions, err = allVersions(ctx, sel.repo, "")
		}
	case fsm.ObjectPath:
		err = l.paths(ctx, sel.repo, sel.spec.PathConstraints)
	case fsm.ObjectPackage:
		// Files a PACKAGE run names beside its packages (a Pulp consumer's
		// file units) go in the same selection; a file of both is listed once.
		if err = l.paths(ctx, sel.repo, sel.spec.PathConstraints); err == nil {
			sel.versions, err = l.packages(ctx, sel.repo, sel.spec.PackageConstraints)
		}
	}
	if err != nil {
		return err
	}
	if sel.objects == nil {
		sel.objects = l.objects
	}
	nameVersions(sel.objects, sel.versions)
	if sel.repo.Info().Type == store.TypeDocker {
		if err := ociPhases(ctx, sel.repo, sel.objects); err != nil {
			return err
		}
	}
	inCommitOrder(sel.objects)
	return nil
}

// lister collects the files of a selection, each path once (seen is nil
// when the listing cannot repeat a path).
type lister struct {
	seen    map[string]bool
	objects []object
}

func (l *lister) add(n store.Node) {
	if n.Folder || l.seen[n.Path] {
		return
	}
	if l.seen != nil {
		l.seen[n.Path] = true
	}
	l.objects = append(l.objects, objectOf(n))
}

func objectOf(n store.Node) object {
	return object{Path: n.Path, Size: n.Size, SHA256: n.SHA256, Metadata: n.Metadata}
}

// paths lists each constraint's file, or the files under its folder.
func (l *lister) paths(ctx context.Context, repo store.Repository, cs []fsm.PathConstraint) error {
	for _, c := range cs {
		n, err := repo.Stat(ctx, c.Path)
		switch {
		case err == nil && !n.Folder:
			l.add(n)
		case err == nil || errors.Is(err, store.ErrNotFound):
			if err := listTree(ctx, repo, c.Path, l.add); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return nil
}

// packages lists the constraints' versions (all of a package when none is
// named) and their files; in a DOCKER repository a version is a tag, and
// its files the tag's closure (tagClosure).
func (l *lister) packages(ctx context.Context, repo store.Repository, cs []fsm.PackageConstraint) ([]PackageVersion, error) {
	var out []PackageVersion
	expand := func(n store.Node) error { l.add(n); return nil }
	if repo.Info().Type == store.TypeDocker {
		seen := map[string]bool{}
		expand = func(n store.Node) error { return tagClosure(ctx, repo, n, seen, l.add) }
	}
	for _, c := range cs {
		vs, err := constrainedVersions(ctx, repo, c)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			for _, p := range v.Paths {
				n, err := repo.Stat(ctx, p)
				if err != nil {
					return nil, fmt.Errorf("package %s version %s: %w", v.PackageKey, v.Version, err)
				}
				if err := expand(n); err != nil {
					return nil, fmt.Errorf("package %s version %s: %w", v.PackageKey, v.Version, err)
				}
			}
		}
		out = append(out, vs...)
	}
	return out, nil
}

func constrainedVersions(ctx context.Context, repo store.Repository, c fsm.PackageConstraint) ([]PackageVersion, error) {
	if len(c.Versions) == 0 {
		return allVersions(ctx, repo, c.PackageKey)
	}
	var vs []PackageVersion
	for _, name := range c.Versions {
		v, err := repo.Version(ctx, c.PackageKey, name)
		if err != nil {
			return nil, fmt.Errorf("package %s version %s: %w", c.PackageKey, name, err)
		}
		vs = append(vs, replicaVersion(v))
	}
	return vs, nil
}

// nameVersions names each file's package version, for the object detail.
func nameVersions(objs []object, versions []PackageVersion) {
	if len(versions) == 0 {
		return
	}
	owner := map[string]PackageVersion{}
	for _, v := range versions {
		for _, p := range v.Paths {
			owner[p] = v
		}
	}
	for i := range objs {
		if v, ok := owner[objs[i].Path]; ok {
			objs[i].PackageKey, objs[i].Version = v.PackageKey, v.Version
		}
	}
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
	keys := []string{key}
	if key == "" {
		var err error
		if keys, err = packageKeys(ctx, repo); err != nil {
			return nil, err
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

// packageKeys lists the keys of every package of the repository.
func packageKeys(ctx context.Context, repo store.Repository) ([]string, error) {
	var keys []string
	for page := 1; ; page++ {
		p, err := repo.Packages(ctx, "", store.PageRequest{Number: page, Size: store.MaxPageSize})
		if err != nil {
			return nil, err
		}
		for _, pk := range p.Records {
			keys = append(keys, pk.Key)
		}
		if int64(page) >= p.TotalPages {
			return keys, nil
		}
	}
}

func replicaVersion(v store.PackageVersion) PackageVersion {
	return PackageVersion{PackageKey: v.PackageKey, Version: v.Version, Paths: slices.Clone(v.Paths), Metadata: v.Metadata}
}
