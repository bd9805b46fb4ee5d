package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferrysync/ferry/client"
	"github.com/spf13/cobra"
)

// clientFlags are the flags every client subcommand takes.
type clientFlags struct {
	address string
	token   string
}

func (f *clientFlags) bind(cmd *cobra.Command) {
	addr := os.Getenv("FERRY_ADDR")
	if addr == "" {
		addr = "127.0.0.1:7700"
	}
	cmd.Flags().StringVar(&f.address, "address", addr, "agent API address (env FERRY_ADDR)")
	cmd.Flags().StringVar(&f.token, "token", os.Getenv("FERRY_TOKEN"), "API token (env FERRY_TOKEN)")
}

func (f *clientFlags) client() *client.Client { return client.New(f.address, f.token) }

func newMembersCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "members",
		Short: "List the agents in the group, as the addressed agent sees them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			members, _, err := f.client().Members(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tAPI\tSTATUS\tROLE\tLEADER")
			for _, m := range members {
				leader := ""
				if m.Leader {
					leader = "*"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Name, m.APIAddr, m.Status, m.Role, leader)
			}
			return w.Flush()
		},
	}
	f.bind(cmd)
	return cmd
}

func newStatusCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the addressed agent, the leader and the Raft peers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := f.client()
			self, err := c.Self(cmd.Context())
			if err != nil {
				return err
			}
			peers, meta, err := c.Peers(cmd.Context())
			if err != nil {
				return err
			}
			leaderText := "none known"
			leader, _, lerr := c.Leader(cmd.Context())
			if lerr == nil {
				leaderText = fmt.Sprintf("%s (%s) at %s", leader.ID, leader.Name, leader.APIAddr)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Agent:   %s (%s) at %s, version %s, up %s\n", self.ID, self.Name, self.APIAddr, self.Version, time.Since(self.StartedAt).Round(time.Second))
			fmt.Fprintf(out, "Leader:  %s\n", leaderText)
			fmt.Fprintf(out, "Index:   %d (last contact with the leader %s ago)\n\n", meta.Index, meta.LastContact)
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PEER\tRAFT ADDRESS\tSUFFRAGE\tLEADER")
			for _, p := range peers {
				mark := ""
				if p.ID == leader.ID {
					mark = "*"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.ID, p.Address, strings.ToLower(p.Suffrage), mark)
			}
			return w.Flush()
		},
	}
	f.bind(cmd)
	return cmd
}
