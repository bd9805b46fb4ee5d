package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newACLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "Manage credentials",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAccessKeyCmd())
	return cmd
}

func newAccessKeyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access-key",
		Short: "Create, list and remove access keys (AK/SK) for SDK-signed requests",
		Long: `An access key lets a client sign its requests with SDK-HMAC-SHA256, as
Huawei Cloud's SDKs do, instead of sending a token. It has a policy (read,
write or admin) as a token has; its secret key is shown once, at creation.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAccessKeyCreateCmd(), newAccessKeyLsCmd(), newAccessKeyRmCmd())
	return cmd
}

func newAccessKeyCreateCmd() *cobra.Command {
	var (
		f                   clientFlags
		description, policy string
	)
	cmd := &cobra.Command{
		Use:     "create --policy read|write|admin [--description TEXT]",
		Short:   "Create an access key and print its AK and SK (the SK only this once)",
		Example: `  ferry acl access-key create --description ci --policy write`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := f.client().CreateAccessKey(cmd.Context(), description, policy)
			if err != nil {
				return fmt.Errorf("create access key: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "AccessKey:  %s\nSecretKey:  %s\nPolicy:     %s\n", k.AccessKey, k.SecretKey, k.Policy)
			fmt.Fprintln(cmd.ErrOrStderr(), "The secret key is not shown again: keep it now.")
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVar(&description, "description", "", "what the key is for")
	cmd.Flags().StringVar(&policy, "policy", "read", "read, write or admin")
	return cmd
}

func newAccessKeyLsCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List access keys (without their secret keys)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys, err := f.client().AccessKeys(cmd.Context())
			if err != nil {
				return err
			}
			rows := make([]string, len(keys))
			for i, k := range keys {
				rows[i] = strings.Join([]string{k.AccessKey, k.Policy, formatTime(k.CreatedAt, time.DateTime), orDash(oneLine(k.Description))}, "\t")
			}
			return writeTable(cmd.OutOrStdout(), "ACCESS KEY\tPOLICY\tCREATED\tDESCRIPTION", rows)
		},
	}
	f.bind(cmd)
	return cmd
}

func newAccessKeyRmCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "rm AK...",
		Short: "Remove access keys; requests signed with them are refused at once",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, ak := range args {
				if err := f.client().DeleteAccessKey(cmd.Context(), ak); err != nil {
					return fmt.Errorf("remove access key %s: %w", ak, err)
				}
			}
			return nil
		},
	}
	f.bind(cmd)
	return cmd
}
