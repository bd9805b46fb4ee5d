package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/client"
	"github.com/ferrysync/ferry/config"
	"github.com/ferrysync/ferry/internal/tlsutil"
	"github.com/spf13/cobra"
)

// devRegions are the three regions `ferry dev` runs.
var devRegions = []struct{ id, name string }{
	{"shanghai", "Shanghai"}, {"beijing", "Beijing"}, {"guangzhou", "Guangzhou"},
}

func newDevCmd() *cobra.Command {
	var dataDir, logLevel string
	var basePort int
	var withTLS bool
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a three-region development cluster in one process",
		Long: `Run shanghai, beijing and guangzhou in one process, HTTP on 127.0.0.1:7710,
7720 and 7730 (gossip and Raft on the next two ports of each). Data lives in a
temporary directory unless --data-dir is given; with --data-dir the same
cluster comes back on the next start. The token is FERRY_TOKEN, or generated.
Ctrl-C stops all three.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			agent.TuneGC(os.Getenv)
			return runDev(cmd.Context(), cmd.OutOrStdout(), os.Stderr, devOptions{dataDir: dataDir, basePort: basePort, logLevel: logLevel, tls: withTLS})
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "keep the cluster's data here (default: a temporary directory, removed on exit)")
	cmd.Flags().IntVar(&basePort, "base-port", 7710, "HTTP port of the first region; each region uses the next 10")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error")
	cmd.Flags().BoolVar(&withTLS, "tls", false, "create a CA and the agents' certificates in the data dir (tls/) and run with mutual TLS")
	return cmd
}

// devOptions are the flags of `ferry dev`.
type devOptions struct {
	dataDir, logLevel string
	basePort          int
	tls               bool
}

func runDev(ctx context.Context, out, logOut io.Writer, o devOptions) (err error) {
	dataDir, basePort, logLevel := o.dataDir, o.basePort, o.logLevel
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "ferry-dev-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	token, generated := devToken()
	tlsDir := ""
	if o.tls {
		tlsDir = filepath.Join(dataDir, "tls")
		if err := devCerts(tlsDir); err != nil {
			return err
		}
	}
	agents, err := startDevAgents(dataDir, tlsDir, basePort, token, logLevel, logOut)
	defer func() {
		for _, a := range agents {
			err = errors.Join(err, a.Shutdown())
		}
		if err == nil {
			fmt.Fprintln(out, "ferry dev: stopped")
		}
	}()
	if err != nil {
		return err
	}

	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	first := fmt.Sprintf("127.0.0.1:%d", basePort)
	c := client.New(first, token)
	if tlsDir != "" {
		c = c.WithCA(filepath.Join(tlsDir, "ca.pem"))
	}
	if err := c.WaitForLeader(waitCtx); err != nil {
		return err
	}
	printDevBanner(out, basePort, token, generated, dataDir, tlsDir)
	if err := firstFailure(ctx, agents); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nferry dev: stopping")
	return nil
}

// devToken is FERRY_TOKEN, or a random token (generated) without it.
func devToken() (token string, generated bool) {
	if token := os.Getenv(config.EnvName("token")); token != "" {
		return token, false
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]), true
}

// startDevAgents starts the agents of devRegions, each in its own directory
// under dataDir and on its own ports from basePort. On an error it returns
// the agents it started, for the caller to shut down.
func startDevAgents(dataDir, tlsDir string, basePort int, token, logLevel string, logOut io.Writer) ([]*agent.Agent, error) {
	var gossip []string
	for i := range devRegions {
		gossip = append(gossip, fmt.Sprintf("127.0.0.1:%d", basePort+10*i+1))
	}
	var agents []*agent.Agent
	for i, r := range devRegions {
		cfg := config.Default()
		cfg.ClusterID, cfg.Name = r.id, r.name
		cfg.DataDir = filepath.Join(dataDir, r.id)
		cfg.HTTPPort, cfg.GossipPort, cfg.RaftPort = basePort+10*i, basePort+10*i+1, basePort+10*i+2
		cfg.Join = gossip
		cfg.BootstrapExpect = len(devRegions)
		cfg.Token = token
		cfg.LogLevel = logLevel
		cfg.Labels = map[string]string{"env": "dev"}
		if tlsDir != "" {
			cfg.TLSCAFile = filepath.Join(tlsDir, "ca.pem")
			cfg.TLSCertFile, cfg.TLSKeyFile = filepath.Join(tlsDir, r.id+".pem"), filepath.Join(tlsDir, r.id+"-key.pem")
		}
		if err := cfg.Validate(); err != nil {
			return agents, err
		}
		a, err := agent.Start(cfg, agent.NewLogger(cfg, logOut))
		if err != nil {
			return agents, fmt.Errorf("start %s: %w", r.id, err)
		}
		agents = append(agents, a)
	}
	return agents, nil
}

// firstFailure waits for ctx to end (nil) or for an agent to fail (its
// error).
func firstFailure(ctx context.Context, agents []*agent.Agent) error {
	failed := make(chan error, len(agents))
	for _, a := range agents {
		go func() {
			select {
			case err := <-a.Err():
				failed <- err
			case <-ctx.Done():
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-failed:
		return err
	}
}

func printDevBanner(out io.Writer, basePort int, token string, generated bool, dataDir, tlsDir string) {
	fmt.Fprintf(out, "Ferry dev cluster is up: %d regions, data in %s\n\n", len(devRegions), dataDir)
	scheme, curl := "http", "curl"
	if tlsDir != "" {
		scheme, curl = "https", "curl --cacert "+filepath.Join(tlsDir, "ca.pem")
	}
	for i, r := range devRegions {
		p := basePort + 10*i
		fmt.Fprintf(out, "  %-10s %s://127.0.0.1:%d   (gossip %d, raft %d)\n", r.id, scheme, p, p+1, p+2)
	}
	fmt.Fprintf(out, "\nDashboard: %s   (on every agent's port too; log in with the token)\n", devDashboard(scheme, basePort))
	if tlsDir != "" {
		fmt.Fprintf(out, "\nMutual TLS: CA and certificates in %s\n  export FERRY_CACERT=%s\n", tlsDir, filepath.Join(tlsDir, "ca.pem"))
	}
	if generated {
		fmt.Fprintf(out, "\nManagement token (generated; set FERRY_TOKEN to choose one):\n  export FERRY_TOKEN=%s\n", token)
	} else {
		fmt.Fprintf(out, "\nManagement token: from FERRY_TOKEN\n")
	}
	h := fmt.Sprintf(`-H "X-Auth-Token: %s"`, token)
	fmt.Fprintf(out, `
Try:
  %[6]s -s %[1]s %[7]s://127.0.0.1:%[2]d/v1/members
  %[6]s -s %[1]s %[7]s://127.0.0.1:%[3]d/v1/status/leader
  %[6]s -s %[1]s -X POST -d '{"description":"ci","policy":"read"}' %[7]s://127.0.0.1:%[4]d/v1/acl/tokens
  %[6]s -s %[7]s://127.0.0.1:%[2]d/metrics | grep ^ferry_
  FERRY_TOKEN=%[5]s go run ./cmd/ferry members --address %[7]s://127.0.0.1:%[3]d

Ctrl-C stops all three.
`, h, basePort, basePort+10, basePort+20, token, curl, scheme)
}

// devDashboard is the dashboard's URL on the first region's agent.
func devDashboard(scheme string, basePort int) string {
	return fmt.Sprintf("%s://127.0.0.1:%d/ui/", scheme, basePort)
}

// devCerts creates, unless they exist from an earlier start, the CA and
// each region's certificate (for 127.0.0.1) in dir.
func devCerts(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err != nil {
		if err := createCA(dir); err != nil {
			return err
		}
	}
	for _, r := range devRegions {
		if _, err := os.Stat(filepath.Join(dir, r.id+".pem")); err == nil {
			continue
		}
		if err := createAgentCert(dir, tlsutil.AgentCert{ClusterID: r.id, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}); err != nil {
			return err
		}
	}
	return nil
}
