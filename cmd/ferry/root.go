package main

import (
	"github.com/ferrysync/ferry/agent"
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ferry",
		Short: "Ferry replicates artifact repositories between regions, peer to peer",
		Long: `Ferry runs one agent per region. Agents find each other by gossip, agree on
replicated state through Raft, and answer the whole API on every node.`,
		Version:       agent.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newAgentCmd(), newDevCmd(), newMembersCmd(), newStatusCmd())
	root.AddCommand(newPutCmd(), newGetCmd(), newLsCmd())
	root.AddCommand(newRunCmd())
	root.AddCommand(newTaskCmd())
	root.AddCommand(newACLCmd())
	root.AddCommand(newTLSCmd(), newKeyringCmd(), newLeaveCmd())
	return root
}
