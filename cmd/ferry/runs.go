package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

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
			spec, err := sf.specOrFile(cmd, file)
			if err != nil {
				return err
			}
			c := cf.client()
			run, err := c.StartRun(cmd.Context(), spec)
			if err != nil {
				return fmt.Errorf("start run: %w", err)
			}
			return started(cmd, c, run, watch)
		},
	}
	cf.bind(cmd)
	cmd.Flags().StringVarP(&file, "file", "f", "", `read the spec from FILE (.json, .yaml or .yml; "-" for stdin)`)
	cmd.Flags().BoolVar(&watch, "watch", false, "then follow the run as ferry run watch does")
	sf.bind(cmd)
	return cmd
}

// started prints the id of a run just started and, with watch, follows it.
func started(cmd *cobra.Command, c *client.Client, run client.Run, watch bool) error {
	fmt.Fprintln(cmd.OutOrStdout(), run.ID)
	if !watch {
		return nil
	}
	return watchRun(cmd.Context(), c, cmd.OutOrStdout(), run.ID, &run)
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
			if err := writeRunTable(cmd.OutOrStdout(), "ID", res.Records, time.Now()); err != nil {
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

// runShow is what ferry run show shows.
type runShow struct {
	objects, asJSON bool
	status, target  string
	page, size      int
}

func newRunShowCmd() *cobra.Command {
	var (
		f clientFlags
		o runShow
	)
	cmd := &cobra.Command{
		Use:   "show ID [--objects [--status S] [--target C]] [--json]",
		Short: "Show a run, its targets and optionally its objects",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.show(cmd, f.client(), args[0])
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&o.objects, "objects", false, "also list the run's objects, a page at a time")
	cmd.Flags().StringVar(&o.status, "status", "", "only objects with this status: SUCCESS, SKIPPED or FAILED (implies --objects)")
	cmd.Flags().StringVar(&o.target, "target", "", "only objects of this target cluster (implies --objects)")
	cmd.Flags().IntVar(&o.page, "page", 0, "object page number, from 1 (default 1)")
	cmd.Flags().IntVar(&o.size, "size", 0, "objects per page (default: the agent's)")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print the run (and objects) as JSON")
	return cmd
}

func (o runShow) show(cmd *cobra.Command, c *client.Client, id string) error {
	run, err := c.Run(cmd.Context(), id)
	if err != nil {
		return fmt.Errorf("run %s: %w", id, err)
	}
	objects := o.objects || o.status != "" || o.target != ""
	var objs client.ObjectPage
	if objects {
		objs, err = c.RunObjects(cmd.Context(), id, client.ObjectQuery{
			Status: strings.ToUpper(o.status), Target: o.target, PageNumber: o.page, PageSize: o.size,
		})
		if err != nil {
			return fmt.Errorf("objects of run %s: %w", id, err)
		}
	}
	out := cmd.OutOrStdout()
	if o.asJSON {
		if !objects {
			return printJSON(out, run)
		}
		return printJSON(out, struct {
			Run     client.Run        `json:"run"`
			Objects client.ObjectPage `json:"objects"`
		}{run, objs})
	}
	if err := printRun(out, run, time.Now()); err != nil || !objects {
		return err
	}
	return showPage(cmd, func(w io.Writer) error { return writeObjectTable(w, objs.Records) },
		objs.PageNumber, objs.TotalPages, objs.TotalRecords, "objects")
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
