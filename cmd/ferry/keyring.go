package main

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/spf13/cobra"
)

// newKeyringCmd rotates the gossip key without downtime: install the new
// key, use it, remove the old one, each on every alive agent.
func newKeyringCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keyring", Short: "List and rotate the gossip encryption keys of every agent"}
	for _, op := range []struct{ use, short, method string }{
		{"list", "List the keys and how many agents hold (and use) each", http.MethodGet},
		{"install KEY", "Install KEY (base64) on every agent, accepted for reading", http.MethodPost},
		{"use KEY", "Make KEY the key every agent encrypts with", http.MethodPut},
		{"remove KEY", "Remove KEY from every agent (not the key in use)", http.MethodDelete},
	} {
		cmd.AddCommand(newKeyringOpCmd(op.use, op.short, op.method))
	}
	return cmd
}

func newKeyringOpCmd(use, short, method string) *cobra.Command {
	var f clientFlags
	nargs := 1
	if method == http.MethodGet {
		nargs = 0
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			key := ""
			if nargs == 1 {
				key = args[0]
			}
			kr, err := f.client().KeyringOp(cmd.Context(), method, key)
			if err != nil {
				return err
			}
			keys := make([]string, 0, len(kr.Keys))
			for k := range kr.Keys {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			rows := make([]string, 0, len(keys))
			for _, k := range keys {
				rows = append(rows, fmt.Sprintf("%s\t%d/%d\t%d", k, kr.Keys[k], kr.NumMembers, kr.PrimaryKeys[k]))
			}
			// A member's failure is an error answer, which names it.
			return writeTable(cmd.OutOrStdout(), "KEY\tHELD BY\tPRIMARY ON", rows)
		},
	}
	f.bind(cmd)
	return cmd
}
