package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferrysync/ferry/client"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

func newTaskCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Create, list, show, run and remove replication tasks",
		Long: `A task is a replication kept by the group: what to replicate, where, and when
(IMMEDIATELY, at a SPECIFIED_TIME, on a CRON_EXPRESSION, or REAL_TIME). Each
execution of a task is a run, which ferry run shows and watches.`,
		Args: cobra.NoArgs, // an unknown subcommand is an error, not help
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newTaskCreateCmd(), newTaskLsCmd(), newTaskShowCmd(), newTaskEnableCmd(true), newTaskEnableCmd(false),
		newTaskRunCmd(), newTaskRmCmd(), newTaskCopyCmd())
	return cmd
}

func newTaskCreateCmd() *cobra.Command {
	var (
		f    clientFlags
		file string
	)
	cmd := &cobra.Command{
		Use:   "create -f task.yaml|task.json",
		Short: "Create a task and print its key",
		Long: `Create a task from a file: JSON, or YAML with the same field names ("-" reads
stdin). Fields left out take the agent's defaults: the addressed agent's
cluster as the source, replicaType SCHEDULED, executionStrategy IMMEDIATELY,
enabled, conflicts SKIP, errors CONTINUE, metadata included.`,
		Example: `  ferry task create -f nightly.yaml

  # nightly.yaml
  name: nightly
  localProjectId: bkrepo
  sourceClusterId: shanghai
  replicaObjectType: REPOSITORY
  replicaTaskObjects: [{localRepoName: maven-local}]
  remoteClusterIds: [beijing, guangzhou]
  setting:
    executionStrategy: CRON_EXPRESSION
    executionPlan: {cronExpression: "0 0 2 * * ?"}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("-f FILE is required")
			}
			req, err := readTaskRequest(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			task, err := f.client().CreateTask(cmd.Context(), req)
			if err != nil {
				return fmt.Errorf("create task: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), task.Key)
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVarP(&file, "file", "f", "", `read the task from FILE (.json, .yaml or .yml; "-" for stdin)`)
	return cmd
}

// readTaskRequest reads a task file; name "-" is stdin.
func readTaskRequest(name string, stdin io.Reader) (client.TaskRequest, error) {
	return readStrict[client.TaskRequest](name, stdin, "task")
}

// readStrict reads a file (name "-": stdin) as decodeStrict decodes it,
// naming the file in errors.
func readStrict[T any](name string, stdin io.Reader, what string) (T, error) {
	var zero T
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return zero, err
	}
	v, err := decodeStrict[T](data, name, what)
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", what, name, err)
	}
	return v, nil
}

// decodeTaskRequest decodes a task file as decodeRunSpec decodes a spec:
// JSON when name ends with .json or data starts with "{" (and name does not
// end with .yaml or .yml), YAML otherwise; either way with the JSON field
// names, unknown fields being errors.
func decodeTaskRequest(data []byte, name string) (client.TaskRequest, error) {
	return decodeStrict[client.TaskRequest](data, name, "task")
}

// decodeStrict decodes one JSON or YAML document of what into a T, as
// decodeTaskRequest says.
func decodeStrict[T any](data []byte, name, what string) (T, error) {
	var zero T
	ext := strings.ToLower(filepath.Ext(name))
	isJSON := ext == ".json" || ext != ".yaml" && ext != ".yml" && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	if !isJSON {
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			return zero, err
		}
		if v == nil {
			return zero, errors.New("empty " + what)
		}
		j, err := json.Marshal(jsonValue(v))
		if err != nil {
			return zero, err
		}
		data = j
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var out T
	if err := dec.Decode(&out); err != nil {
		if err == io.EOF {
			return zero, errors.New("empty " + what)
		}
		return zero, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return zero, errors.New("data after the " + what)
	}
	return out, nil
}

func newTaskLsCmd() *cobra.Command {
	var (
		f                                      clientFlags
		project, name, enabled, status, sortBy string
		page, size                             int
	)
	cmd := &cobra.Command{
		Use:   "ls [--project P] [--name PREFIX] [--enabled true|false] [--status S] [--sort S] [--page N --size M]",
		Short: "List tasks, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := client.TaskQuery{ProjectID: project, NamePrefix: name, PageNumber: page, PageSize: size}
			if enabled != "" {
				b, err := strconv.ParseBool(enabled)
				if err != nil {
					return fmt.Errorf("--enabled %q: want true or false", enabled)
				}
				q.Enabled = &b
			}
			var err error
			if q.LastExecutionStatus, err = oneOf("--status", status, client.RunRunning, client.RunSuccess, client.RunFailed); err != nil {
				return err
			}
			if q.SortType, err = oneOf("--sort", sortBy, client.SortCreatedTime, client.SortLastExecutionTime, client.SortNextExecutionTime); err != nil {
				return err
			}
			res, err := f.client().Tasks(cmd.Context(), q)
			if err != nil {
				return fmt.Errorf("list tasks: %w", err)
			}
			if err := writeTaskTable(cmd.OutOrStdout(), res.Records); err != nil {
				return err
			}
			pageFooter(cmd.ErrOrStderr(), res.PageNumber, res.TotalPages, res.TotalRecords, "tasks")
			return nil
		},
	}
	f.bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&project, "project", "", "only tasks of this project")
	fl.StringVar(&name, "name", "", "only tasks whose name starts with PREFIX")
	fl.StringVar(&enabled, "enabled", "", "only enabled (true) or disabled (false) tasks")
	fl.StringVar(&status, "status", "", "only tasks whose last run is RUNNING, SUCCESS or FAILED")
	fl.StringVar(&sortBy, "sort", "", "newest first by CREATED_TIME (default), LAST_EXECUTION_TIME or NEXT_EXECUTION_TIME")
	fl.IntVar(&page, "page", 0, "page number, from 1 (default 1)")
	fl.IntVar(&size, "size", 0, "tasks per page (default: the agent's)")
	return cmd
}

// writeTaskTable writes the table of ferry task ls.
func writeTaskTable(out io.Writer, tasks []client.Task) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tNAME\tPROJECT\tTYPE\tSTRATEGY\tENABLED\tLAST STATUS\tLAST TIME\tNEXT TIME\tEXECUTIONS")
	for _, t := range tasks {
		fmt.Fprintln(w, taskRow(t))
	}
	return w.Flush()
}

// taskRow is one tab-separated line of ferry task ls.
func taskRow(t client.Task) string {
	const ts = "2006-01-02 15:04"
	return strings.Join([]string{
		t.Key, orDash(oneLine(t.Name)), orDash(t.ProjectID), orDash(t.ReplicaType), taskStrategy(t), yesNo(t.Enabled),
		orDash(t.LastExecutionStatus), formatTime(t.LastExecutionTime, ts), formatTime(t.NextExecutionTime, ts),
		strconv.FormatInt(t.ExecutionTimes, 10),
	}, "\t")
}

// taskStrategy is a SCHEDULED task's execution strategy, "-" for others.
func taskStrategy(t client.Task) string {
	if t.ReplicaType == client.TaskRealTime {
		return "-"
	}
	return orDash(t.Setting.ExecutionStrategy)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newTaskShowCmd() *cobra.Command {
	var (
		f            clientFlags
		runs, asJSON bool
		page, size   int
	)
	cmd := &cobra.Command{
		Use:   "show KEY [--runs [--page N --size M]] [--json]",
		Short: "Show a task and optionally its runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key := args[0]
			c := f.client()
			task, err := c.Task(cmd.Context(), key)
			if err != nil {
				return fmt.Errorf("task %s: %w", key, err)
			}
			runs = runs || page != 0 || size != 0
			var rp client.RunPage
			if runs {
				if rp, err = c.TaskRuns(cmd.Context(), key, page, size); err != nil {
					return fmt.Errorf("runs of task %s: %w", key, err)
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if runs {
					return enc.Encode(struct {
						Task client.Task    `json:"task"`
						Runs client.RunPage `json:"runs"`
					}{task, rp})
				}
				return enc.Encode(task)
			}
			if err := printTask(out, task); err != nil {
				return err
			}
			if !runs {
				return nil
			}
			fmt.Fprintln(out)
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "RUN\tSTATE\tEXECUTOR\tTARGETS\tOBJECTS\tBYTES\tCREATED\tDURATION")
			now := time.Now()
			for _, r := range rp.Records {
				fmt.Fprintln(w, runRow(r, now))
			}
			if err := w.Flush(); err != nil {
				return err
			}
			pageFooter(cmd.ErrOrStderr(), rp.PageNumber, rp.TotalPages, rp.TotalRecords, "runs")
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&runs, "runs", false, "also list the task's runs, newest first, a page at a time")
	cmd.Flags().IntVar(&page, "page", 0, "run page number, from 1 (default 1; implies --runs)")
	cmd.Flags().IntVar(&size, "size", 0, "runs per page (default: the agent's; implies --runs)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the task (and runs) as JSON")
	return cmd
}

// printTask prints a task's details.
func printTask(out io.Writer, t client.Task) error {
	const ts = "2006-01-02 15:04:05"
	var b strings.Builder
	line := func(label, format string, a ...any) {
		fmt.Fprintf(&b, "%-12s %s\n", label+":", fmt.Sprintf(format, a...))
	}
	line("Task", "%s", t.Key)
	line("Name", "%s", t.Name)
	if t.Description != "" {
		line("Description", "%s", oneLine(t.Description))
	}
	line("Enabled", "%s", yesNo(t.Enabled))
	line("Schedule", "%s", taskSchedule(t))
	last := orDash(t.LastExecutionStatus)
	if !t.LastExecutionTime.IsZero() {
		last += " at " + formatTime(t.LastExecutionTime, ts)
	}
	executions := "executions"
	if t.ExecutionTimes == 1 {
		executions = "execution"
	}
	line("Last run", "%s (%d %s)", last, t.ExecutionTimes, executions)
	line("Next run", "%s", formatTime(t.NextExecutionTime, ts))
	source := "project " + t.ProjectID
	if t.SourceClusterID != "" {
		source += " on " + t.SourceClusterID
	}
	line("Source", "%s, %s", source, orDash(t.ReplicaObjectType))
	for i, o := range t.ReplicaTaskObjects {
		label := ""
		if i == 0 {
			label = "Repos:"
		}
		fmt.Fprintf(&b, "%-12s %s\n", label, replicaObjectText(t.ProjectID, o))
	}
	line("Targets", "%s", taskTargets(t))
	s := t.Setting
	rate := "unlimited"
	if s.RateLimit > 0 {
		rate = formatSize(s.RateLimit) + "/s per target"
	}
	setting := fmt.Sprintf("rate %s, conflicts %s, errors %s, metadata %s", rate,
		orDefault(s.ConflictStrategy, client.ConflictSkip), orDefault(s.ErrorStrategy, client.ErrorContinue), yesNo(s.Metadata()))
	if t.ReplicaType == client.TaskRealTime {
		if t.ReplicateDeletes {
			setting += ", deletes replicated"
		} else {
			setting += ", deletes not replicated"
		}
	}
	line("Setting", "%s", setting)
	if t.RunHistory > 0 {
		line("History", "keeps %d ended runs", t.RunHistory)
	}
	line("Created", "%s by %s", formatTime(t.CreatedDate, ts), orDash(t.CreatedBy))
	line("Modified", "%s by %s", formatTime(t.LastModifiedDate, ts), orDash(t.LastModifiedBy))
	_, err := io.WriteString(out, b.String())
	return err
}

// taskSchedule is when a task runs: "REAL_TIME", "SCHEDULED, IMMEDIATELY",
// "SCHEDULED, SPECIFIED_TIME 2030-01-02 03:04:05",
// `SCHEDULED, CRON_EXPRESSION "0 0 2 * * ?"`.
func taskSchedule(t client.Task) string {
	s := orDash(t.ReplicaType)
	if t.ReplicaType == client.TaskRealTime {
		return s
	}
	s += ", " + orDash(t.Setting.ExecutionStrategy)
	switch p := t.Setting.ExecutionPlan; t.Setting.ExecutionStrategy {
	case client.ExecSpecifiedTime:
		s += " " + formatTime(p.ExecuteTime, "2006-01-02 15:04:05")
	case client.ExecCron:
		s += " " + strconv.Quote(p.CronExpression)
	}
	return s
}

// taskTargets lists a task's remote clusters, with their names when they
// differ from their ids.
func taskTargets(t client.Task) string {
	names := map[string]string{}
	for _, c := range t.RemoteClusters {
		names[c.ID] = c.Name
	}
	var out []string
	for _, id := range t.RemoteClusterIDs {
		if n := names[id]; n != "" && n != id {
			id += " (" + n + ")"
		}
		out = append(out, id)
	}
	return orDash(strings.Join(out, ", "))
}

// replicaObjectText is "repo -> project/repo (TYPE) path /a package k=1,2":
// what a repository of a spec replicates where. The remote names default to
// the local ones.
func replicaObjectText(project string, o client.ReplicaObject) string {
	remoteProject, remoteRepo := o.RemoteProjectID, o.RemoteRepoName
	if remoteProject == "" {
		remoteProject = project
	}
	if remoteRepo == "" {
		remoteRepo = o.LocalRepoName
	}
	text := o.LocalRepoName + " -> " + remoteProject + "/" + remoteRepo
	if o.RepoType != "" {
		text += " (" + o.RepoType + ")"
	}
	for _, p := range o.PathConstraints {
		text += " path " + p.Path
	}
	for _, p := range o.PackageConstraints {
		text += " package " + p.PackageKey
		if len(p.Versions) > 0 {
			text += "=" + strings.Join(p.Versions, ",")
		}
	}
	return text
}

// newTaskEnableCmd is ferry task enable, or ferry task disable.
func newTaskEnableCmd(enable bool) *cobra.Command {
	var f clientFlags
	use, short := "enable KEY", "Enable a task: it runs again as scheduled"
	if !enable {
		use, short = "disable KEY", "Disable a task: it no longer runs by itself (a REAL_TIME run stops)"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.client()
			toggle, verb := c.EnableTask, "enable"
			if !enable {
				toggle, verb = c.DisableTask, "disable"
			}
			task, err := toggle(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("%s task %s: %w", verb, args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %s %sd\n", task.Key, verb)
			return nil
		},
	}
	f.bind(cmd)
	return cmd
}

func newTaskRunCmd() *cobra.Command {
	var (
		f     clientFlags
		watch bool
	)
	cmd := &cobra.Command{
		Use:   "run KEY [--watch]",
		Short: "Run a task now and print the run's id",
		Long: `Start a run of a task now, whatever its schedule, and print the run's id. A task
with a run going cannot run again until that run ends. With --watch, follow
the run as ferry run watch does: the exit status is 0 when it succeeds.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.client()
			run, err := c.ExecuteTask(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("run task %s: %w", args[0], err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), run.ID)
			if !watch {
				return nil
			}
			return watchRun(cmd.Context(), c, cmd.OutOrStdout(), run.ID, &run)
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&watch, "watch", false, "then follow the run until it ends")
	return cmd
}

func newTaskRmCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "rm KEY",
		Short: "Delete a task; a run of it that is going is asked to stop",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.client().DeleteTask(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("delete task %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %s deleted\n", args[0])
			return nil
		},
	}
	f.bind(cmd)
	return cmd
}

func newTaskCopyCmd() *cobra.Command {
	var (
		f                 clientFlags
		name, description string
	)
	cmd := &cobra.Command{
		Use:   "copy KEY --name N [--description D]",
		Short: "Create a task doing what another does and print its key",
		Long: `Create a task with a new key and name doing what task KEY does, enabled if it
is. A copy of an enabled IMMEDIATELY task runs at once.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(name) == "" {
				return errors.New("--name is required")
			}
			task, err := f.client().CopyTask(cmd.Context(), args[0], name, description)
			if err != nil {
				return fmt.Errorf("copy task %s: %w", args[0], err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), task.Key)
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVar(&name, "name", "", "the new task's name (required)")
	cmd.Flags().StringVar(&description, "description", "", "the new task's description")
	return cmd
}
