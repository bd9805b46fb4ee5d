package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// What a consumer's content unit is, in one place: Pulp names a unit by
// type and key, Ferry's store holds files by path and package versions by
// key. An iso unit without a version is a file by name, as Pulp's iso units
// are, so what exists keeps working; only when no file has that name is it a
// package. Any other unit (rpm, npm, ...), and any unit that names a
// version, is a package, matched by name or by whole key. A name that is
// both a file and a package is therefore the file for an iso unit, and the
// package for any other.

// isoUnit is Pulp's type of a unit that is one file.
const isoUnit = "iso"

// fileFirst reports whether a unit is looked for as a file before a package.
func fileFirst(u fsm.PulpUnit) bool {
	return u.TypeID == isoUnit && u.Key("version") == ""
}

// unitName is how a task's error names a unit.
func unitName(u fsm.PulpUnit) string {
	s := u.TypeID + ":" + u.Key("name")
	if v := u.Key("version"); v != "" {
		s += " " + v
	}
	return s
}

// pkgUnit is a package unit found in a bound repository.
type pkgUnit struct {
	key string
	// version is the one the unit names, "" for none.
	version string
	// latest is the repository's newest version of the package.
	latest string
}

// installVersion is what an install or update copies: a unit without a
// version is the latest, as yum and npm install it.
func (p pkgUnit) installVersion() string {
	if p.version != "" {
		return p.version
	}
	return p.latest
}

// removes reports whether an uninstall of the unit removes version v: a
// unit without a version removes whichever are installed, as yum erase does.
func (p pkgUnit) removes(v string) bool {
	return p.version == "" || p.version == v
}

// matchPackages is the packages a unit's name names: by name (the key's
// last part) or by whole key.
func matchPackages(pkgs []store.Package, name string) []store.Package {
	var out []store.Package
	for _, p := range pkgs {
		if p.Name == name || p.Key == name {
			out = append(out, p)
		}
	}
	return out
}

// located is what a content action's units are in one bound repository.
type located struct {
	paths    []string
	packages []pkgUnit
}

// unitProblems are the units a task cannot carry out: the error names them.
type unitProblems struct {
	missing   []string
	ambiguous []string
}

func (p unitProblems) err() error {
	var errs []error
	if len(p.missing) > 0 {
		errs = append(errs, errors.New("units not found in the bound repositories: "+strings.Join(p.missing, ", ")))
	}
	if len(p.ambiguous) > 0 {
		errs = append(errs, errors.New("units naming more than one package (name them by package key): "+strings.Join(p.ambiguous, "; ")))
	}
	return errors.Join(errs...)
}

// boundRepo is one bound repository, its packages listed at most once per
// action.
type boundRepo struct {
	name   string
	repo   store.Repository
	pkgs   []store.Package
	listed bool
}

// packages lists the repository's packages, once.
func (b *boundRepo) packages(ctx context.Context) ([]store.Package, error) {
	if b.listed {
		return b.pkgs, nil
	}
	for page := 1; ; page++ {
		p, err := b.repo.Packages(ctx, "", store.PageRequest{Number: page, Size: store.MaxPageSize})
		if err != nil {
			return nil, err
		}
		b.pkgs = append(b.pkgs, p.Records...)
		if int64(page) >= p.TotalPages {
			b.listed = true
			return b.pkgs, nil
		}
	}
}

// file is the unit's file in the repository, if it names one.
func (b *boundRepo) file(ctx context.Context, u fsm.PulpUnit) (string, bool) {
	n, err := b.repo.Stat(ctx, "/"+strings.TrimPrefix(u.Key("name"), "/"))
	return n.Path, err == nil && !n.Folder
}

// pkg is the unit's package in the repository, if it holds it (and the
// version the unit names). A name several packages have is ambiguous: the
// answer is their keys.
func (b *boundRepo) pkg(ctx context.Context, u fsm.PulpUnit) (pkgUnit, bool, []string, error) {
	pkgs, err := b.packages(ctx)
	if err != nil {
		return pkgUnit{}, false, nil, err
	}
	matched := matchPackages(pkgs, u.Key("name"))
	switch len(matched) {
	case 0:
		return pkgUnit{}, false, nil, nil
	case 1:
	default:
		keys := make([]string, 0, len(matched))
		for _, p := range matched {
			keys = append(keys, p.Key)
		}
		return pkgUnit{}, false, keys, nil
	}
	p := pkgUnit{key: matched[0].Key, version: u.Key("version"), latest: matched[0].LatestVersion}
	if p.version == "" {
		return p, true, nil, nil
	}
	_, err = b.repo.Version(ctx, p.key, p.version)
	if errors.Is(err, store.ErrNotFound) {
		return pkgUnit{}, false, nil, nil
	}
	return p, err == nil, nil, err
}

// locateUnits finds each unit in the consumer's bound repositories: the
// files and package versions to copy, by repository. A unit is taken from
// every bound repository that holds it.
func (a *Agent) locateUnits(ctx context.Context, c fsm.PulpConsumer, units []fsm.PulpUnit) (map[string]*located, error) {
	repos := a.boundRepos(ctx, c)
	found := map[string]*located{}
	var probs unitProblems
	for _, u := range units {
		held := false
		for _, b := range repos {
			ok, ambiguous, err := locateIn(ctx, b, u, found)
			if err != nil {
				return nil, fmt.Errorf("repository %s: %w", b.name, err)
			}
			if ambiguous != "" {
				probs.ambiguous = append(probs.ambiguous, unitName(u)+" in "+b.name+": "+ambiguous)
			}
			held = held || ok
		}
		if !held {
			probs.missing = append(probs.missing, unitName(u))
		}
	}
	return found, probs.err()
}

// locateIn adds what the unit is in one bound repository to found.
func locateIn(ctx context.Context, b *boundRepo, u fsm.PulpUnit, found map[string]*located) (bool, string, error) {
	at := func() *located {
		if found[b.name] == nil {
			found[b.name] = &located{}
		}
		return found[b.name]
	}
	if fileFirst(u) {
		if p, ok := b.file(ctx, u); ok {
			at().paths = append(at().paths, p)
			return true, "", nil
		}
	}
	p, ok, ambiguous, err := b.pkg(ctx, u)
	if ok {
		at().packages = append(at().packages, p)
	}
	// An ambiguous unit counts as held: its error says what it could be.
	return ok || len(ambiguous) > 0, strings.Join(ambiguous, ", "), err
}

// boundRepos opens the consumer's bound repositories, each once (a
// repository may be bound through several distributors).
func (a *Agent) boundRepos(ctx context.Context, c fsm.PulpConsumer) []*boundRepo {
	var out []*boundRepo
	for _, bd := range c.Bindings {
		if slices.ContainsFunc(out, func(b *boundRepo) bool { return b.name == bd.Repo }) {
			continue
		}
		if repo, err := a.store.Repository(ctx, PulpProject, bd.Repo); err == nil {
			out = append(out, &boundRepo{name: bd.Repo, repo: repo})
		}
	}
	return out
}
