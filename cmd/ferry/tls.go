package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/ferrysync/ferry/internal/tlsutil"
	"github.com/spf13/cobra"
)

func newTLSCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tls", Short: "Create the group's CA and the agents' certificates"}
	ca := &cobra.Command{Use: "ca", Short: "The CA that signs every agent's certificate"}
	ca.AddCommand(newTLSCACreateCmd())
	cert := &cobra.Command{Use: "cert", Short: "Agent certificates"}
	cert.AddCommand(newTLSCertCreateCmd())
	cmd.AddCommand(ca, cert)
	return cmd
}

func newTLSCACreateCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Write DIR/ca.pem and DIR/ca-key.pem (refuses to overwrite them)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := createCA(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s (keep the key offline)\n", filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem"))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory to write the CA in")
	return cmd
}

func newTLSCertCreateCmd() *cobra.Command {
	var dir, id string
	var ips []net.IP
	var dns []string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Write DIR/ID.pem and DIR/ID-key.pem, signed by DIR's CA, for the agent of cluster ID",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := createAgentCert(dir, tlsutil.AgentCert{ClusterID: id, IPs: ips, DNSNames: dns}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s for %s\n", filepath.Join(dir, id+".pem"), filepath.Join(dir, id+"-key.pem"), tlsutil.AgentName(id))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory holding ca.pem and ca-key.pem; the certificate is written there")
	cmd.Flags().StringVar(&id, "cluster-id", "", "the agent's cluster id (its identity: DNS <cluster-id>.agent.ferry)")
	cmd.Flags().IPSliceVar(&ips, "ip", nil, "IP address the agent is reached at (repeatable)")
	cmd.Flags().StringArrayVar(&dns, "dns", nil, "DNS name the agent is reached at (repeatable)")
	_ = cmd.MarkFlagRequired("cluster-id")
	return cmd
}

// createCA writes a new CA in dir, creating dir (0700: it holds the key).
func createCA(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := tlsutil.CreateCA("Ferry CA")
	if err != nil {
		return err
	}
	return tlsutil.WritePair(ca, filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem"))
}

func createAgentCert(dir string, c tlsutil.AgentCert) error {
	ca, err := tlsutil.ReadPair(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		return fmt.Errorf("read the CA (create it with `ferry tls ca create --dir %s`): %w", dir, err)
	}
	p, err := tlsutil.CreateAgentCert(ca, c)
	if err != nil {
		return err
	}
	return tlsutil.WritePair(p, filepath.Join(dir, c.ClusterID+".pem"), filepath.Join(dir, c.ClusterID+"-key.pem"))
}
