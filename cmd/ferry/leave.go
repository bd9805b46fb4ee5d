package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newLeaveCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "leave",
		Short: "Make the addressed agent leave the group gracefully and stop",
		Long: `Make the addressed agent leave the group for good, as Consul's "consul leave":
it hands leadership over if it leads, waits until the leader has removed it
from the Raft configuration, leaves the gossip pool and stops. Stopping an
agent with SIGTERM does not do this (unless it runs with --leave-on-terminate):
it stays a voter and is expected back.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.client().Leave(cmd.Context()); err != nil {
				return fmt.Errorf("leave: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "The agent left the group and is stopping.")
			return nil
		},
	}
	f.bind(cmd)
	return cmd
}
