package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/config"
	"github.com/spf13/cobra"
)

// terminateTimeout bounds what SIGINT/SIGTERM do before the agent stops: a
// leadership transfer, or a graceful leave with --leave-on-terminate.
const terminateTimeout = 30 * time.Second

func newAgentCmd() *cobra.Command {
	flags := config.Default()
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a Ferry agent for one region",
		Long: `Run a Ferry agent. Configuration comes from --config (YAML), FERRY_* environment
variables and flags; flags win over the environment, which wins over the file.

On SIGINT or SIGTERM the agent hands over leadership if it holds it and
stops, staying in the Raft configuration: the others see it fail, and it comes
back as the same voter from its data dir. With --leave-on-terminate it leaves
the group gracefully instead (waits to be removed from the Raft configuration
and leaves the gossip pool), as "ferry leave" does at any time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), os.Getenv)
			if err != nil {
				return err
			}
			agent.TuneGC(os.Getenv)
			a, err := agent.Start(cfg, agent.NewLogger(cfg, os.Stderr))
			if err != nil {
				return err
			}
			stopReload := reloadOnSIGHUP(a)
			defer stopReload()
			select {
			case <-cmd.Context().Done():
				ctx, cancel := context.WithTimeout(context.Background(), terminateTimeout)
				defer cancel()
				return a.Terminate(ctx)
			case <-a.Left():
				return nil
			case err := <-a.Err():
				_ = a.Shutdown()
				return err
			}
		},
	}
	config.BindFlags(cmd.Flags(), &flags)
	return cmd
}

// reloadOnSIGHUP reloads a's certificates on every SIGHUP until the
// returned stop is called; a failed reload keeps the old ones (the agent
// logs why).
func reloadOnSIGHUP(a *agent.Agent) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				_ = a.ReloadTLS()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
