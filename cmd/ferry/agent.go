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

// leaveTimeout bounds a graceful leave on SIGINT/SIGTERM.
const leaveTimeout = 30 * time.Second

func newAgentCmd() *cobra.Command {
	flags := config.Default()
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a Ferry agent for one region",
		Long: `Run a Ferry agent. Configuration comes from --config (YAML), FERRY_* environment
variables and flags; flags win over the environment, which wins over the file.

On SIGINT or SIGTERM the agent leaves the group gracefully: it hands over
leadership if it holds it, waits to be removed from the Raft configuration and
leaves the gossip pool.`,
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
				ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
				defer cancel()
				return a.Leave(ctx)
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
