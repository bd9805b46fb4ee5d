package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ferrysync/ferry/client"
	"github.com/spf13/cobra"
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
			req, err := readStrict[client.TaskRequest](file, cmd.InOrStdin(), "task")
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

// taskShow is what ferry task show shows.
type taskShow struct {
	runs, asJSON bool
	page, size   int
}

func newTaskShowCmd() *cobra.Command {
	var (
		f clientFlags
		o taskShow
	)
	cmd := &cobra.Command{
		Use:   "show KEY [--runs [--page N --size M]] [--json]",
		Short: "Show a task and optionally its runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.show(cmd, f.client(), args[0])
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&o.runs, "runs", false, "also list the task's runs, newest first, a page at a time")
	cmd.Flags().IntVar(&o.page, "page", 0, "run page number, from 1 (default 1; implies --runs)")
	cmd.Flags().IntVar(&o.size, "size", 0, "runs per page (default: the agent's; implies --runs)")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print the task (and runs) as JSON")
	return cmd
}

func (o taskShow) show(cmd *cobra.Command, c *client.Client, key string) error {
	task, err := c.Task(cmd.Context(), key)
	if err != nil {
		return fmt.Errorf("task %s: %w", key, err)
	}
	runs := o.runs || o.page != 0 || o.size != 0
	var rp client.RunPage
	if runs {
		if rp, err = c.TaskRuns(cmd.Context(), key, o.page, o.size); err != nil {
			return fmt.Errorf("runs of task %s: %w", key, err)
		}
	}
	if o.asJSON {
		var v any = task
		if runs {
			v = struct {
				Task client.Task    `json:"task"`
				Runs client.RunPage `json:"runs"`
			}{task, rp}
		}
		return printJSON(cmd.OutOrStdout(), v)
	}
	if err := printTask(cmd.OutOrStdout(), task); err != nil || !runs {
		return err
	}
	return showPage(cmd, func(w io.Writer) error { return writeRunTable(w, "RUN", rp.Records, time.Now()) },
		rp.PageNumber, rp.TotalPages, rp.TotalRecords, "runs")
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
			return started(cmd, c, run, watch)
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
		Long: `Create a task with a new key and name doing what task KEY does. The copy is
disabled and has never run, as bk-repo copies: enable it to start it (an
IMMEDIATELY copy then runs at once).`,
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
