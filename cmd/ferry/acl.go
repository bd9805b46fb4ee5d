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

func newACLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "Manage credentials",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCredentialCmd(tokenKind), newCredentialCmd(accessKeyKind))
	return cmd
}

// credentialKind is what differs between tokens and access keys for the
// CLI: the words, and the calls.
type credentialKind struct {
	use, short, long, idHeader string
	create                     func(context.Context, *client.Client, client.CredentialRequest) (credentialRow, error)
	list                       func(context.Context, *client.Client) ([]credentialRow, error)
	remove                     func(context.Context, *client.Client, string) error
}

// credentialRow is one credential as the CLI prints it; secret is set only
// on the answer to its creation.
type credentialRow struct {
	id, secretLabel, secret, policy, description string
	created                                      time.Time
	limits                                       client.Limits
}

var tokenKind = credentialKind{
	use: "token", idHeader: "ACCESSOR",
	short: "Create, list and remove API tokens",
	long: `A token is sent as X-Auth-Token, Authorization: Bearer or the Basic auth
password. It has a policy (read, write or admin), may be limited to projects
(--project, repeatable: every dialect refuses the others with 403) and may
expire (--ttl 24h: refused with 401 from then on, and removed). Its secret is
shown once, at creation.`,
	create: func(ctx context.Context, c *client.Client, req client.CredentialRequest) (credentialRow, error) {
		t, err := c.CreateToken(ctx, req)
		return credentialRow{id: t.AccessorID, secretLabel: "Secret", secret: t.Secret, policy: t.Policy, created: t.CreateTime, limits: t.Limits}, err
	},
	list: func(ctx context.Context, c *client.Client) ([]credentialRow, error) {
		ts, err := c.Tokens(ctx)
		rows := make([]credentialRow, len(ts))
		for i, t := range ts {
			rows[i] = credentialRow{id: t.AccessorID, policy: t.Policy, description: t.Description, created: t.CreateTime, limits: t.Limits}
		}
		return rows, err
	},
	remove: func(ctx context.Context, c *client.Client, id string) error { return c.DeleteToken(ctx, id) },
}

var accessKeyKind = credentialKind{
	use: "access-key", idHeader: "ACCESS KEY",
	short: "Create, list and remove access keys (AK/SK) for SDK-signed requests",
	long: `An access key lets a client sign its requests with SDK-HMAC-SHA256, as
Huawei Cloud's SDKs do, instead of sending a token. It has a policy (read,
write or admin), projects and an expiry as a token has; its secret key is
shown once, at creation.`,
	create: func(ctx context.Context, c *client.Client, req client.CredentialRequest) (credentialRow, error) {
		k, err := c.CreateAccessKey(ctx, req)
		return credentialRow{id: k.AccessKey, secretLabel: "SecretKey", secret: k.SecretKey, policy: k.Policy, created: k.CreatedAt, limits: k.Limits}, err
	},
	list: func(ctx context.Context, c *client.Client) ([]credentialRow, error) {
		ks, err := c.AccessKeys(ctx)
		rows := make([]credentialRow, len(ks))
		for i, k := range ks {
			rows[i] = credentialRow{id: k.AccessKey, policy: k.Policy, description: k.Description, created: k.CreatedAt, limits: k.Limits}
		}
		return rows, err
	},
	remove: func(ctx context.Context, c *client.Client, id string) error { return c.DeleteAccessKey(ctx, id) },
}

func newCredentialCmd(k credentialKind) *cobra.Command {
	cmd := &cobra.Command{
		Use: k.use, Short: k.short, Long: k.long, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCredentialCreateCmd(k), newCredentialLsCmd(k), newCredentialRmCmd(k))
	return cmd
}

func newCredentialCreateCmd(k credentialKind) *cobra.Command {
	var (
		f   clientFlags
		req client.CredentialRequest
	)
	cmd := &cobra.Command{
		Use:     "create --policy read|write|admin [--description TEXT] [--project NAME]... [--ttl DURATION]",
		Short:   "Create a " + k.use + " and print its secret (only this once)",
		Example: fmt.Sprintf("  ferry acl %s create --description ci --policy write --project demo --ttl 24h", k.use),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			row, err := k.create(cmd.Context(), f.client(), req)
			if err != nil {
				return fmt.Errorf("create %s: %w", k.use, err)
			}
			printCredential(cmd.OutOrStdout(), k, row)
			fmt.Fprintln(cmd.ErrOrStderr(), "The secret is not shown again: keep it now.")
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().StringVar(&req.Description, "description", "", "what it is for")
	cmd.Flags().StringVar(&req.Policy, "policy", "read", "read, write or admin")
	cmd.Flags().StringSliceVar(&req.Projects, "project", nil, "a project it is limited to (repeatable; default: all)")
	cmd.Flags().StringVar(&req.ExpirationTTL, "ttl", "", "how long it works, e.g. 24h (default: until removed)")
	return cmd
}

func printCredential(out io.Writer, k credentialKind, row credentialRow) {
	label := "AccessorID"
	if k.use == accessKeyKind.use {
		label = "AccessKey"
	}
	fmt.Fprintf(out, "%-11s %s\n%-11s %s\n%-11s %s\n%-11s %s\n%-11s %s\n", label+":", row.id, row.secretLabel+":", row.secret,
		"Policy:", row.policy, "Projects:", projectsText(row.limits), "Expires:", expiresText(row.limits))
}

func projectsText(l client.Limits) string {
	if len(l.Projects) == 0 {
		return "all"
	}
	return strings.Join(l.Projects, ",")
}

func expiresText(l client.Limits) string {
	if l.ExpirationTime.IsZero() {
		return "never"
	}
	return formatTime(l.ExpirationTime, time.DateTime)
}

func newCredentialLsCmd(k credentialKind) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List " + k.use + "s (without their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := k.list(cmd.Context(), f.client())
			if err != nil {
				return err
			}
			rows := make([]string, len(list))
			for i, r := range list {
				rows[i] = strings.Join([]string{r.id, r.policy, projectsText(r.limits), expiresText(r.limits), formatTime(r.created, time.DateTime), orDash(oneLine(r.description))}, "\t")
			}
			return writeTable(cmd.OutOrStdout(), k.idHeader+"\tPOLICY\tPROJECTS\tEXPIRES\tCREATED\tDESCRIPTION", rows)
		},
	}
	f.bind(cmd)
	return cmd
}

func newCredentialRmCmd(k credentialKind) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "rm ID...",
		Short: "Remove " + k.use + "s; requests with them are refused at once",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, id := range args {
				if err := k.remove(cmd.Context(), f.client(), id); err != nil {
					return fmt.Errorf("remove %s %s: %w", k.use, id, err)
				}
			}
			return nil
		},
	}
	f.bind(cmd)
	return cmd
}
