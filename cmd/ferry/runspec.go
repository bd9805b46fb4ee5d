package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ferrysync/ferry/client"
	"github.com/spf13/cobra"
)

// runStartFlags are the flags of ferry run start that build a spec.
type runStartFlags struct {
	project       string
	repos         []string
	to            []string
	from          string
	remoteProject string
	remoteRepo    string
	objectType    string
	paths         []string
	packages      []string
	rate          string
	conflict      string
	onError       string
	noMetadata    bool
	repoType      string
}

// runSpecFlags are the names of the flags -f excludes.
var runSpecFlags = []string{"project", "repo", "to", "from", "remote-project", "remote-repo", "type",
	"path", "package", "rate", "conflict", "error", "no-metadata", "repo-type"}

func (f *runStartFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	// From where.
	fl.StringVar(&f.project, "project", "", "local project")
	fl.StringSliceVar(&f.repos, "repo", nil, "local repositories (comma-separated or repeated)")
	fl.StringVar(&f.from, "from", "", "source cluster (default: the addressed agent's)")
	// To where.
	fl.StringSliceVar(&f.to, "to", nil, "remote clusters (comma-separated or repeated)")
	fl.StringVar(&f.remoteProject, "remote-project", "", "remote project (default: the local one)")
	fl.StringVar(&f.remoteRepo, "remote-repo", "", "remote repository, with a single --repo (default: the local one)")
	// What.
	fl.StringVar(&f.objectType, "type", "", "REPOSITORY, PACKAGE or PATH")
	fl.StringArrayVar(&f.paths, "path", nil, "replicate the files under PATH (repeatable)")
	fl.StringArrayVar(&f.packages, "package", nil, "replicate a package: KEY or KEY=V1,V2 (repeatable)")
	fl.StringVar(&f.repoType, "repo-type", "", "repository type, like GENERIC or MAVEN")
	// How.
	fl.StringVar(&f.rate, "rate", "", "bytes per second per target, like 20MiB (default unlimited)")
	fl.StringVar(&f.conflict, "conflict", "", "conflict strategy: SKIP, OVERWRITE or FAST_FAIL (default SKIP)")
	fl.StringVar(&f.onError, "error", "", "error strategy: CONTINUE or FAST_FAIL (default CONTINUE)")
	fl.BoolVar(&f.noMetadata, "no-metadata", false, "do not copy metadata")
}

// specOrFile is the spec of -f file, or else of the flags.
func (f *runStartFlags) specOrFile(cmd *cobra.Command, file string) (client.RunSpec, error) {
	if file == "" {
		return f.spec()
	}
	if err := excluded(cmd); err != nil {
		return client.RunSpec{}, err
	}
	return readStrict[client.RunSpec](file, cmd.InOrStdin(), "spec")
}

// excluded is an error naming the first spec flag set on cmd: -f FILE
// replaces them all.
func excluded(cmd *cobra.Command) error {
	for _, name := range runSpecFlags {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("-f and --%s cannot be used together", name)
		}
	}
	return nil
}

// spec builds the run spec the flags describe. It checks what the user
// must fix before anything is sent: missing flags, and flags that would be
// read otherwise than meant (--path of a PACKAGE run, say, which the agent
// would ignore). The agent validates the spec itself.
func (f *runStartFlags) spec() (client.RunSpec, error) {
	repos, to := nonEmpty(f.repos), nonEmpty(f.to)
	if err := f.required(repos, to); err != nil {
		return client.RunSpec{}, err
	}
	typ, err := f.replicaType()
	if err != nil {
		return client.RunSpec{}, err
	}
	paths, err := pathConstraints(f.paths)
	if err != nil {
		return client.RunSpec{}, err
	}
	pkgs, err := packageConstraints(f.packages)
	if err != nil {
		return client.RunSpec{}, err
	}
	setting, err := f.setting()
	if err != nil {
		return client.RunSpec{}, err
	}
	spec := client.RunSpec{
		SourceClusterID: f.from, LocalProjectID: f.project, ReplicaObjectType: typ,
		RemoteClusterIDs: to, Setting: setting,
	}
	for _, r := range repos {
		spec.ReplicaTaskObjects = append(spec.ReplicaTaskObjects, client.ReplicaObject{
			LocalRepoName: r, RemoteProjectID: f.remoteProject, RemoteRepoName: f.remoteRepo,
			RepoType: strings.ToUpper(f.repoType), PackageConstraints: pkgs, PathConstraints: paths,
		})
	}
	return spec, nil
}

// required checks the flags a run cannot do without.
func (f *runStartFlags) required(repos, to []string) error {
	switch {
	case f.project == "":
		return errors.New("--project is required (or -f FILE)")
	case len(repos) == 0:
		return errors.New("--repo is required")
	case len(to) == 0:
		return errors.New("--to is required")
	case f.remoteRepo != "" && len(repos) > 1:
		return errors.New("--remote-repo needs a single --repo")
	}
	return nil
}

// replicaType is --type, by default the type --path or --package implies.
// A constraint flag needs its own type and that type needs its flag: a
// spec's constraints of another type are ignored.
func (f *runStartFlags) replicaType() (string, error) {
	typ := strings.ToUpper(f.objectType)
	switch typ {
	case "":
		return impliedType(f.paths, f.packages)
	case client.ReplicaRepository, client.ReplicaPackage, client.ReplicaPath:
	default:
		return "", fmt.Errorf("--type %q: want REPOSITORY, PACKAGE or PATH", f.objectType)
	}
	constraints := []struct {
		flag, typ string
		n         int
	}{{"--path", client.ReplicaPath, len(f.paths)}, {"--package", client.ReplicaPackage, len(f.packages)}}
	for _, c := range constraints {
		if c.n > 0 && typ != c.typ {
			return "", fmt.Errorf("%s needs --type %s, not %s", c.flag, c.typ, typ)
		}
	}
	for _, c := range constraints {
		if c.n == 0 && typ == c.typ {
			return "", fmt.Errorf("--type %s needs %s", c.typ, c.flag)
		}
	}
	return typ, nil
}

// impliedType is PATH with paths, PACKAGE with packages, REPOSITORY with
// neither.
func impliedType(paths, packages []string) (string, error) {
	switch {
	case len(paths) > 0 && len(packages) > 0:
		return "", errors.New("--path and --package cannot be used together")
	case len(paths) > 0:
		return client.ReplicaPath, nil
	case len(packages) > 0:
		return client.ReplicaPackage, nil
	}
	return client.ReplicaRepository, nil
}

// pathConstraints are the --path flags, each made absolute.
func pathConstraints(flags []string) ([]client.PathConstraint, error) {
	var paths []client.PathConstraint
	for _, p := range flags {
		if strings.Trim(p, "/") == "" && p != "/" {
			return nil, fmt.Errorf("--path %q: empty path", p)
		}
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		paths = append(paths, client.PathConstraint{Path: p})
	}
	return paths, nil
}

// packageConstraints are the --package flags.
func packageConstraints(flags []string) ([]client.PackageConstraint, error) {
	var pkgs []client.PackageConstraint
	for _, s := range flags {
		pc, err := parsePackageFlag(s)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, pc)
	}
	return pkgs, nil
}

// setting is the run setting of --rate, --conflict, --error and
// --no-metadata.
func (f *runStartFlags) setting() (client.RunSetting, error) {
	var s client.RunSetting
	if f.rate != "" {
		n, err := parseSize(strings.TrimSuffix(f.rate, "/s"))
		if err != nil {
			return s, fmt.Errorf("--rate: %w", err)
		}
		s.RateLimit = n
	}
	var err error
	if s.ConflictStrategy, err = oneOf("--conflict", f.conflict, client.ConflictSkip, client.ConflictOverwrite, client.ConflictFastFail); err != nil {
		return s, err
	}
	if s.ErrorStrategy, err = oneOf("--error", f.onError, client.ErrorContinue, client.ErrorFastFail); err != nil {
		return s, err
	}
	if f.noMetadata {
		no := false
		s.IncludeMetadata = &no
	}
	return s, nil
}

// nonEmpty is ss without empty or blank entries, the others trimmed.
func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// oneOf is the upper-cased value of a flag, which must be "" or one of want.
func oneOf(flag, value string, want ...string) (string, error) {
	if value == "" {
		return "", nil
	}
	v := strings.ToUpper(value)
	for _, w := range want {
		if v == w {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s %q: want %s", flag, value, strings.Join(want, ", "))
}

// parsePackageFlag parses --package KEY or KEY=V1,V2.
func parsePackageFlag(s string) (client.PackageConstraint, error) {
	key, versions, hasVersions := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if key == "" {
		return client.PackageConstraint{}, fmt.Errorf("--package %q: no package key", s)
	}
	pc := client.PackageConstraint{PackageKey: key}
	if !hasVersions {
		return pc, nil
	}
	for _, v := range strings.Split(versions, ",") {
		if v = strings.TrimSpace(v); v == "" {
			return client.PackageConstraint{}, fmt.Errorf("--package %q: empty version (want KEY=V1,V2)", s)
		}
		pc.Versions = append(pc.Versions, v)
	}
	return pc, nil
}

// sizeUnits are the multipliers of the units parseSize accepts, lower-cased.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "ti": 1 << 40, "tib": 1 << 40,
}

// parseSize parses a byte count: a plain number ("1048576") or a number and
// a unit ("20MiB", "10 MB", "1.5GiB"). KB, MB, GB and TB (and K, M, G, T) are
// powers of 1000, KiB to TiB powers of 1024; units ignore case. Fractions
// round to the nearest byte.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if num == "" || !ok {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes, like 1048576, 20MiB or 10MB", s)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/mult {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %q is not a number", s, num)
	}
	v := math.Round(f * float64(mult))
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return int64(v), nil
}
