package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/ferrysync/ferry/client"
	"github.com/spf13/cobra"
)

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Start, list, show, watch and cancel replication runs",
		Long: `A run pushes artifacts from the cluster that holds them (the source) straight
to one or more remote clusters, and reports its progress per target.`,
		Args: cobra.NoArgs, // an unknown subcommand is an error, not help
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newRunStartCmd(), newRunLsCmd(), newRunShowCmd(), newRunWatchCmd(), newRunCancelCmd())
	return cmd
}

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

func newRunStartCmd() *cobra.Command {
	var (
		cf    clientFlags
		sf    runStartFlags
		file  string
		watch bool
	)
	cmd := &cobra.Command{
		Use:   "start (-f spec.json|spec.yaml | --project P --repo R[,R2] --to C[,C2] [flags])",
		Short: "Start a replication run and print its id",
		Long: `Start a run from a spec file (JSON, or YAML with the same field names; "-" reads
stdin) or from flags. --type defaults to PATH with --path, PACKAGE with
--package and REPOSITORY otherwise. Sizes take the units B, KB, MB, GB, TB
(powers of 1000) and KiB, MiB, GiB, TiB (powers of 1024).`,
		Example: `  ferry run start --project bkrepo --repo maven-local --to beijing,guangzhou
  ferry run start --project bkrepo --repo generic --to beijing --path /releases --rate 20MiB --watch
  ferry run start --project bkrepo --repo maven-local --to beijing --package gav://com.alibaba:fastjson=1.2.47
  ferry run start -f spec.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var spec client.RunSpec
			var err error
			if file != "" {
				for _, name := range runSpecFlags {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("-f and --%s cannot be used together", name)
					}
				}
				spec, err = readRunSpec(file, cmd.InOrStdin())
			} else {
				spec, err = sf.spec()
			}
			if err != nil {
				return err
			}
			c := cf.client()
			run, err := c.StartRun(cmd.Context(), spec)
			if err != nil {
				return fmt.Errorf("start run: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), run.ID)
			if !watch {
				return nil
			}
			return watchRun(cmd.Context(), c, cmd.OutOrStdout(), run.ID, &run)
		},
	}
	cf.bind(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&file, "file", "f", "", `read the spec from FILE (.json, .yaml or .yml; "-" for stdin)`)
	fl.BoolVar(&watch, "watch", false, "then follow the run as ferry run watch does")
	fl.StringVar(&sf.project, "project", "", "local project")
	fl.StringSliceVar(&sf.repos, "repo", nil, "local repositories (comma-separated or repeated)")
	fl.StringSliceVar(&sf.to, "to", nil, "remote clusters (comma-separated or repeated)")
	fl.StringVar(&sf.from, "from", "", "source cluster (default: the addressed agent's)")
	fl.StringVar(&sf.remoteProject, "remote-project", "", "remote project (default: the local one)")
	fl.StringVar(&sf.remoteRepo, "remote-repo", "", "remote repository, with a single --repo (default: the local one)")
	fl.StringVar(&sf.objectType, "type", "", "REPOSITORY, PACKAGE or PATH")
	fl.StringArrayVar(&sf.paths, "path", nil, "replicate the files under PATH (repeatable)")
	fl.StringArrayVar(&sf.packages, "package", nil, "replicate a package: KEY or KEY=V1,V2 (repeatable)")
	fl.StringVar(&sf.rate, "rate", "", "bytes per second per target, like 20MiB (default unlimited)")
	fl.StringVar(&sf.conflict, "conflict", "", "conflict strategy: SKIP, OVERWRITE or FAST_FAIL (default SKIP)")
	fl.StringVar(&sf.onError, "error", "", "error strategy: CONTINUE or FAST_FAIL (default CONTINUE)")
	fl.BoolVar(&sf.noMetadata, "no-metadata", false, "do not copy metadata")
	fl.StringVar(&sf.repoType, "repo-type", "", "repository type, like GENERIC or MAVEN")
	return cmd
}

// spec builds the run spec the flags describe.
func (f *runStartFlags) spec() (client.RunSpec, error) {
	repos, to := nonEmpty(f.repos), nonEmpty(f.to)
	switch {
	case f.project == "":
		return client.RunSpec{}, errors.New("--project is required (or -f FILE)")
	case len(repos) == 0:
		return client.RunSpec{}, errors.New("--repo is required")
	case len(to) == 0:
		return client.RunSpec{}, errors.New("--to is required")
	case f.remoteRepo != "" && len(repos) > 1:
		return client.RunSpec{}, errors.New("--remote-repo needs a single --repo")
	}

	typ := strings.ToUpper(f.objectType)
	switch typ {
	case "":
		switch {
		case len(f.paths) > 0 && len(f.packages) > 0:
			return client.RunSpec{}, errors.New("--path and --package cannot be used together")
		case len(f.paths) > 0:
			typ = client.ReplicaPath
		case len(f.packages) > 0:
			typ = client.ReplicaPackage
		default:
			typ = client.ReplicaRepository
		}
	case client.ReplicaRepository, client.ReplicaPackage, client.ReplicaPath:
	default:
		return client.RunSpec{}, fmt.Errorf("--type %q: want REPOSITORY, PACKAGE or PATH", f.objectType)
	}
	if len(f.paths) > 0 && typ != client.ReplicaPath {
		return client.RunSpec{}, fmt.Errorf("--path needs --type PATH, not %s", typ)
	}
	if len(f.packages) > 0 && typ != client.ReplicaPackage {
		return client.RunSpec{}, fmt.Errorf("--package needs --type PACKAGE, not %s", typ)
	}
	if typ == client.ReplicaPath && len(f.paths) == 0 {
		return client.RunSpec{}, errors.New("--type PATH needs --path")
	}
	if typ == client.ReplicaPackage && len(f.packages) == 0 {
		return client.RunSpec{}, errors.New("--type PACKAGE needs --package")
	}

	var paths []client.PathConstraint
	for _, p := range f.paths {
		if strings.Trim(p, "/") == "" && p != "/" {
			return client.RunSpec{}, fmt.Errorf("--path %q: empty path", p)
		}
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		paths = append(paths, client.PathConstraint{Path: p})
	}
	var pkgs []client.PackageConstraint
	for _, s := range f.packages {
		pc, err := parsePackageFlag(s)
		if err != nil {
			return client.RunSpec{}, err
		}
		pkgs = append(pkgs, pc)
	}

	var setting client.RunSetting
	if f.rate != "" {
		n, err := parseSize(strings.TrimSuffix(f.rate, "/s"))
		if err != nil {
			return client.RunSpec{}, fmt.Errorf("--rate: %w", err)
		}
		setting.RateLimit = n
	}
	var err error
	if setting.ConflictStrategy, err = oneOf("--conflict", f.conflict, client.ConflictSkip, client.ConflictOverwrite, client.ConflictFastFail); err != nil {
		return client.RunSpec{}, err
	}
	if setting.ErrorStrategy, err = oneOf("--error", f.onError, client.ErrorContinue, client.ErrorFastFail); err != nil {
		return client.RunSpec{}, err
	}
	if f.noMetadata {
		no := false
		setting.IncludeMetadata = &no
	}

	spec := client.RunSpec{
		SourceClusterID:   f.from,
		LocalProjectID:    f.project,
		ReplicaObjectType: typ,
		RemoteClusterIDs:  to,
		Setting:           setting,
	}
	for _, r := range repos {
		spec.ReplicaTaskObjects = append(spec.ReplicaTaskObjects, client.ReplicaObject{
			LocalRepoName:      r,
			RemoteProjectID:    f.remoteProject,
			RemoteRepoName:     f.remoteRepo,
			RepoType:           strings.ToUpper(f.repoType),
			PackageConstraints: pkgs,
			PathConstraints:    paths,
		})
	}
	return spec, nil
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

// readRunSpec reads a spec file; name "-" is stdin.
func readRunSpec(name string, stdin io.Reader) (client.RunSpec, error) {
	return readStrict[client.RunSpec](name, stdin, "spec")
}

// decodeRunSpec decodes a spec as JSON when name ends with .json or data
// starts with "{" (and name does not end with .yaml or .yml), as YAML
// otherwise. Either way the JSON field names apply and unknown fields are
// errors, so that a misspelt field is not silently left out.
func decodeRunSpec(data []byte, name string) (client.RunSpec, error) {
	return decodeStrict[client.RunSpec](data, name, "spec")
}

// jsonValue converts what yaml.v3 decodes into values encoding/json takes:
// mappings with keys other than strings become maps with string keys.
func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonValue(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonValue(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonValue(e)
		}
		return x
	}
	return v
}

func newRunLsCmd() *cobra.Command {
	var (
		f           clientFlags
		state, task string
		page, size  int
	)
	cmd := &cobra.Command{
		Use:   "ls [--state S] [--task KEY] [--page N --size M]",
		Short: "List runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := f.client().Runs(cmd.Context(), client.RunQuery{
				State: strings.ToUpper(state), TaskKey: task, PageNumber: page, PageSize: size,
			})
			if err != nil {
				return fmt.Errorf("list runs: %w", err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSTATE\tEXECUTOR\tTARGETS\tOBJECTS\tBYTES\tCREATED\tDURATION")
			now := time.Now()
			for _, r := range res.Records {
				fmt.Fprintln(w, runRow(r, now))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			pageFooter(cmd.ErrOrStderr(), res.PageNumber, res.TotalPages, res.TotalRecords, "runs")
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVar(&state, "state", "", "only runs in this state: WAITING, RUNNING, SUCCESS, FAILED or CANCELED")
	cmd.Flags().StringVar(&task, "task", "", "only runs of this task key")
	cmd.Flags().IntVar(&page, "page", 0, "page number, from 1 (default 1)")
	cmd.Flags().IntVar(&size, "size", 0, "runs per page (default: the agent's)")
	return cmd
}

// pageFooter tells on stderr that more pages exist.
func pageFooter(w io.Writer, page int, pages, records int64, what string) {
	if page < 1 {
		page = 1
	}
	if int64(page) < pages {
		fmt.Fprintf(w, "page %d of %d (%d %s); --page %d for the next\n", page, pages, records, what, page+1)
	}
}

// processed is what a target is through with: arrived, skipped or failed.
func processed(t client.RunTarget) (objects, bytes int64) {
	return t.ObjectsDone + t.ObjectsSkipped + t.ObjectsFailed, t.BytesDone + t.BytesSkipped + t.BytesFailed
}

// runRow is one tab-separated line of ferry run ls; now is the clock for
// the duration of runs still going.
func runRow(r client.Run, now time.Time) string {
	var targets []string
	var objDone, objTotal, bDone, bTotal int64
	for _, t := range r.Targets {
		targets = append(targets, t.ClusterID)
		o, b := processed(t)
		objDone, objTotal, bDone, bTotal = objDone+o, objTotal+t.ObjectsTotal, bDone+b, bTotal+t.BytesTotal
	}
	if len(targets) == 0 {
		targets = r.Spec.RemoteClusterIDs
	}
	return strings.Join([]string{
		r.ID, r.State, orDash(r.ExecutorClusterID), orDash(strings.Join(targets, ",")),
		fmt.Sprintf("%d/%d", objDone, objTotal), formatSize(bDone) + "/" + formatSize(bTotal),
		formatTime(r.CreatedAt, "2006-01-02 15:04"), runDuration(r, now),
	}, "\t")
}

// runDuration is how long the run took, or has been going at now; "-"
// before it started.
func runDuration(r client.Run, now time.Time) string {
	if r.StartedAt.IsZero() {
		return "-"
	}
	end := r.FinishedAt
	if end.IsZero() {
		if r.Finished() {
			return "-"
		}
		end = now
	}
	return formatDuration(max(end.Sub(r.StartedAt), 0))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// formatTime is t in local time, "-" when zero.
func formatTime(t time.Time, layout string) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(layout)
}

func newRunShowCmd() *cobra.Command {
	var (
		f               clientFlags
		objects, asJSON bool
		status, target  string
		page, size      int
	)
	cmd := &cobra.Command{
		Use:   "show ID [--objects [--status S] [--target C]] [--json]",
		Short: "Show a run, its targets and optionally its objects",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			c := f.client()
			run, err := c.Run(cmd.Context(), id)
			if err != nil {
				return fmt.Errorf("run %s: %w", id, err)
			}
			objects = objects || status != "" || target != ""
			var objs client.ObjectPage
			if objects {
				objs, err = c.RunObjects(cmd.Context(), id, client.ObjectQuery{
					Status: strings.ToUpper(status), Target: target, PageNumber: page, PageSize: size,
				})
				if err != nil {
					return fmt.Errorf("objects of run %s: %w", id, err)
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if objects {
					return enc.Encode(struct {
						Run     client.Run        `json:"run"`
						Objects client.ObjectPage `json:"objects"`
					}{run, objs})
				}
				return enc.Encode(run)
			}
			if err := printRun(out, run, time.Now()); err != nil {
				return err
			}
			if !objects {
				return nil
			}
			fmt.Fprintln(out)
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TARGET\tSTATUS\tACTION\tPATH\tPACKAGE\tSIZE\tTIME\tERROR")
			for _, o := range objs.Records {
				pkg := o.PackageKey
				if pkg != "" && o.Version != "" {
					pkg += "@" + o.Version
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Target, o.Status, orDash(o.Action), o.Path,
					orDash(pkg), formatSize(o.Size), formatTime(o.Time, "2006-01-02 15:04:05"), orDash(oneLine(o.Error)))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			pageFooter(cmd.ErrOrStderr(), objs.PageNumber, objs.TotalPages, objs.TotalRecords, "objects")
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&objects, "objects", false, "also list the run's objects, a page at a time")
	cmd.Flags().StringVar(&status, "status", "", "only objects with this status: SUCCESS, SKIPPED or FAILED (implies --objects)")
	cmd.Flags().StringVar(&target, "target", "", "only objects of this target cluster (implies --objects)")
	cmd.Flags().IntVar(&page, "page", 0, "object page number, from 1 (default 1)")
	cmd.Flags().IntVar(&size, "size", 0, "objects per page (default: the agent's)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run (and objects) as JSON")
	return cmd
}

// printRun prints a run's details and a table of its targets.
func printRun(out io.Writer, r client.Run, now time.Time) error {
	const ts = "2006-01-02 15:04:05"
	line := func(label, format string, a ...any) {
		fmt.Fprintf(out, "%-10s %s\n", label+":", fmt.Sprintf(format, a...))
	}
	state := r.State
	if r.CancelRequested && !r.Finished() {
		state += " (cancel requested)"
	}
	line("Run", "%s", r.ID)
	line("State", "%s", state)
	trigger := orDash(r.Trigger)
	if r.TaskKey != "" {
		trigger += " (task " + r.TaskKey + ")"
	}
	line("Trigger", "%s", trigger)
	line("Created", "%s by %s", formatTime(r.CreatedAt, ts), orDash(r.CreatedBy))
	line("Started", "%s", formatTime(r.StartedAt, ts))
	line("Finished", "%s", formatTime(r.FinishedAt, ts))
	line("Duration", "%s", runDuration(r, now))
	line("Executor", "%s", orDash(r.ExecutorClusterID))
	s := r.Spec
	source := "project " + s.LocalProjectID
	if s.SourceClusterID != "" {
		source += " on " + s.SourceClusterID
	}
	line("Source", "%s, %s", source, orDash(s.ReplicaObjectType))
	for i, o := range s.ReplicaTaskObjects {
		label := ""
		if i == 0 {
			label = "Repos"
		}
		text := replicaObjectText(s.LocalProjectID, o)
		if label == "" {
			fmt.Fprintf(out, "%-10s %s\n", "", text)
		} else {
			line(label, "%s", text)
		}
	}
	line("Targets", "%s", orDash(strings.Join(s.RemoteClusterIDs, ", ")))
	rate := "unlimited"
	if s.Setting.RateLimit > 0 {
		rate = formatSize(s.Setting.RateLimit) + "/s per target"
	}
	metadata := "yes"
	if !s.Setting.Metadata() {
		metadata = "no"
	}
	line("Setting", "rate %s, conflicts %s, errors %s, metadata %s", rate,
		orDefault(s.Setting.ConflictStrategy, client.ConflictSkip), orDefault(s.Setting.ErrorStrategy, client.ErrorContinue), metadata)
	if r.Error != "" {
		line("Error", "%s", oneLine(r.Error))
	}
	if len(r.Targets) == 0 {
		return nil
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TARGET\tSTATE\tPROGRESS\tOBJECTS\tDONE\tSKIPPED\tFAILED\tCONFLICTS\tBYTES\tSENT\tRATE\tERROR")
	for _, t := range r.Targets {
		v := viewTarget(t)
		rateText := "-"
		if t.State == client.RunRunning {
			rateText = formatSize(t.BytesPerSecond) + "/s"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", t.ClusterID, t.State, strings.TrimSpace(v.pct),
			t.ObjectsTotal, t.ObjectsDone, t.ObjectsSkipped, t.ObjectsFailed, t.Conflicts,
			v.bytes, formatSize(t.BytesSent), rateText, orDash(oneLine(t.Error)))
	}
	return w.Flush()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newRunWatchCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "watch ID",
		Short: "Follow a run's progress until it ends",
		Long: `Follow a run, one progress line per target, until it ends. The exit status is 0
when the run succeeds and 1 when it fails or is canceled.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return watchRun(cmd.Context(), f.client(), cmd.OutOrStdout(), args[0], nil)
		},
	}
	f.bind(cmd)
	return cmd
}

// watchRun shows run id's progress on out until it ends, starting from
// initial when not nil (otherwise from a GET, which also fails fast on a
// wrong address or id), and returns nil only when the run succeeded.
func watchRun(ctx context.Context, c *client.Client, out io.Writer, id string, initial *client.Run) error {
	var run client.Run
	if initial != nil {
		run = *initial
	} else {
		var err error
		if run, err = c.Run(ctx, id); err != nil {
			return fmt.Errorf("run %s: %w", id, err)
		}
	}
	d := &runDisplay{out: out, tty: isTerminal(out), width: termWidth()}
	d.show(run)
	if !run.Finished() {
		final, err := c.WatchRun(ctx, id, func(r client.Run) error {
			d.show(r)
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return err // "watch run ID: context canceled"
			}
			return fmt.Errorf("watch run %s: %w", id, err)
		}
		run = final
	}
	return runOutcome(run)
}

// runOutcome is nil for a run that succeeded, otherwise an error saying how
// it ended and why.
func runOutcome(r client.Run) error {
	if r.State == client.RunSuccess {
		return nil
	}
	msg := oneLine(r.Error)
	if msg == "" {
		var errs []string
		for _, t := range r.Targets {
			if t.Error != "" {
				errs = append(errs, t.ClusterID+": "+oneLine(t.Error))
			}
		}
		msg = strings.Join(errs, "; ")
	}
	if msg == "" {
		return fmt.Errorf("run %s %s", r.ID, r.State)
	}
	return fmt.Errorf("run %s %s: %s", r.ID, r.State, msg)
}

// termWidth is the terminal's width from $COLUMNS, 80 without it.
func termWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

// runDisplay draws a run's progress: on a terminal redrawn in place (the
// header and a line per target), otherwise one line per update.
type runDisplay struct {
	out   io.Writer
	tty   bool
	width int
	lines int // lines drawn last on the terminal, to move back over
}

func (d *runDisplay) show(r client.Run) {
	if !d.tty {
		fmt.Fprintln(d.out, runLine(r))
		return
	}
	var b strings.Builder
	if d.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", d.lines) // back to the first line drawn
	}
	lines := renderRun(r, d.width)
	for _, l := range lines {
		b.WriteString("\r\x1b[2K" + l + "\n")
	}
	b.WriteString("\x1b[J") // clear below, should there have been more lines
	io.WriteString(d.out, b.String())
	d.lines = len(lines)
}

// renderRun is a run's progress for a terminal: a header, one line per
// target and the run's error if any, each cut to width columns (0: no limit)
// so that none wraps.
//
//	run 7d0c RUNNING  executor shanghai
//	  beijing    RUNNING  [==>                 ]  15%   160.0 MiB / 1.0 GiB  50.0 MiB/s  ETA 17s  10/64 objects
//	  guangzhou  SUCCESS  [====================] 100%     1.0 GiB / 1.0 GiB  64/64 objects, 54 skipped
func renderRun(r client.Run, width int) []string {
	lines := []string{runHeader(r)}
	nameWidth := 0
	for _, t := range r.Targets {
		nameWidth = max(nameWidth, utf8.RuneCountInString(t.ClusterID))
	}
	for _, t := range r.Targets {
		v := viewTarget(t)
		line := fmt.Sprintf("  %-*s  %-7s  [%s] %4s %21s", nameWidth, t.ClusterID, t.State, progressBar(v.frac), v.pct, v.bytes)
		if v.tail != "" {
			line += "  " + v.tail
		}
		lines = append(lines, line)
	}
	if r.Error != "" {
		lines = append(lines, "error: "+oneLine(r.Error))
	}
	for i, l := range lines {
		lines[i] = cut(l, width)
	}
	return lines
}

// runLine is a run's progress on one line, for output that is not a terminal.
func runLine(r client.Run) string {
	var parts []string
	for _, t := range r.Targets {
		v := viewTarget(t)
		p := t.ClusterID + " " + t.State + " " + strings.TrimSpace(v.pct) + " " + strings.ReplaceAll(v.bytes, " / ", "/")
		if v.tail != "" {
			p += " " + v.tail
		}
		parts = append(parts, p)
	}
	line := runHeader(r)
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, "; ")
	}
	if r.Error != "" {
		line += "; error: " + oneLine(r.Error)
	}
	return line
}

// runHeader is "run ID STATE" with the executor, a pending cancel and, once
// finished, how long the run took.
func runHeader(r client.Run) string {
	h := "run " + r.ID + " " + r.State
	if r.ExecutorClusterID != "" {
		h += "  executor " + r.ExecutorClusterID
	}
	if r.CancelRequested && !r.Finished() {
		h += "  cancel requested"
	}
	if r.Finished() && !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		h += "  in " + formatDuration(max(r.FinishedAt.Sub(r.StartedAt), 0))
	}
	return h
}

// targetView is the text of a target's progress.
type targetView struct {
	frac  float64 // 0 to 1
	pct   string  // " 16%", "100%", " --%" before the totals are known
	bytes string  // "160.0 MiB / 1.0 GiB", "-- / --" before the totals are known
	tail  string  // rate and ETA while running, objects, skips, failures, error
}

// viewTarget renders a target's counters. Progress counts what the target
// is through with (arrived, skipped or failed), in bytes when there are any,
// otherwise in objects. The ETA is what is left at the agent's current rate.
func viewTarget(t client.RunTarget) targetView {
	objects, bytesDone := processed(t)
	known := t.BytesTotal > 0 || t.ObjectsTotal > 0 || t.State == client.RunSuccess || t.State == client.RunFailed
	v := targetView{pct: " --%", bytes: "-- / --"}
	switch {
	case t.State == client.RunSuccess:
		v.frac = 1
	case t.BytesTotal > 0:
		v.frac = float64(bytesDone) / float64(t.BytesTotal)
	case t.ObjectsTotal > 0:
		v.frac = float64(objects) / float64(t.ObjectsTotal)
	}
	v.frac = min(max(v.frac, 0), 1)
	if known {
		v.pct = fmt.Sprintf("%3d%%", int(v.frac*100))
		v.bytes = formatSize(bytesDone) + " / " + formatSize(t.BytesTotal)
	}

	var tail []string
	if t.State == client.RunRunning {
		tail = append(tail, formatSize(t.BytesPerSecond)+"/s", targetETA(t))
	}
	if t.ObjectsTotal > 0 || objects > 0 {
		o := fmt.Sprintf("%d/%d objects", objects, t.ObjectsTotal)
		for _, c := range []struct {
			n    int64
			what string
		}{{t.ObjectsSkipped, "skipped"}, {t.ObjectsFailed, "failed"}, {t.Conflicts, "conflicts"}} {
			if c.n > 0 {
				o += fmt.Sprintf(", %d %s", c.n, c.what)
			}
		}
		tail = append(tail, o)
	}
	if t.Error != "" {
		tail = append(tail, "error: "+oneLine(t.Error))
	}
	v.tail = strings.Join(tail, "  ")
	return v
}

// targetETA is "ETA 17s": the bytes left at the target's current rate.
func targetETA(t client.RunTarget) string {
	_, done := processed(t)
	left := t.BytesTotal - done
	switch {
	case t.BytesTotal <= 0:
		return "ETA --"
	case left <= 0:
		return "ETA 0s"
	case t.BytesPerSecond <= 0:
		return "ETA --"
	}
	secs := float64(left) / float64(t.BytesPerSecond)
	if secs > 1e9 { // beyond what a time.Duration holds, and meaningless
		return "ETA --"
	}
	return "ETA " + formatDuration(time.Duration(secs*float64(time.Second)))
}

// oneLine is s on one line: runs of white space, line ends included, become
// single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cut shortens s to width runes, ending it with "…" when it was longer;
// width <= 0 leaves s as it is.
func cut(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

func newRunCancelCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Ask a run to stop",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run, err := f.client().CancelRun(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("cancel run %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "run %s: cancel requested (%s)\n", run.ID, run.State)
			return nil
		},
	}
	f.bind(cmd)
	return cmd
}
