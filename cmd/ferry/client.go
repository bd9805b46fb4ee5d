package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ferrysync/ferry/client"
	"github.com/spf13/cobra"
)

// clientFlags are the flags every client subcommand takes.
type clientFlags struct {
	address string
	token   string
	caFile  string
}

func (f *clientFlags) bind(cmd *cobra.Command) {
	addr := os.Getenv("FERRY_ADDR")
	if addr == "" {
		addr = "127.0.0.1:7700"
	}
	cmd.Flags().StringVar(&f.address, "address", addr, "agent API address (env FERRY_ADDR)")
	cmd.Flags().StringVar(&f.token, "token", os.Getenv("FERRY_TOKEN"), "API token (env FERRY_TOKEN)")
	cmd.Flags().StringVar(&f.caFile, "ca-file", os.Getenv("FERRY_CACERT"), "PEM CA of the agents' certificates: talk https to them (env FERRY_CACERT)")
}

// client is the addressed agent's client; with --ca-file it speaks https
// and checks the agent's certificate.
func (f *clientFlags) client() *client.Client {
	c := client.New(f.address, f.token)
	if f.caFile == "" {
		return c
	}
	return c.WithCA(f.caFile)
}

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
			rows := make([]string, len(members))
			for i, m := range members {
				rows[i] = strings.Join([]string{m.ID, m.Name, m.APIAddr, m.Status, m.Role, mark(m.Leader)}, "\t")
			}
			return writeTable(cmd.OutOrStdout(), "ID\tNAME\tAPI\tSTATUS\tROLE\tLEADER", rows)
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
			rows := make([]string, len(peers))
			for i, p := range peers {
				rows[i] = strings.Join([]string{p.ID, p.Address, strings.ToLower(p.Suffrage), mark(p.ID == leader.ID)}, "\t")
			}
			return writeTable(out, "PEER\tRAFT ADDRESS\tSUFFRAGE\tLEADER", rows)
		},
	}
	f.bind(cmd)
	return cmd
}

// mark is "*" for the leader's row of a table, "" for the others.
func mark(leader bool) string {
	if leader {
		return "*"
	}
	return ""
}
