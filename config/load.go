package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable the agent reads.
const EnvPrefix = "FERRY_"

// EnvName is the environment variable for a flag: FERRY_ and the flag in capitals.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// BindFlags defines the agent's flags on fs, bound to c's fields.
func BindFlags(fs *pflag.FlagSet, c *Config) {
	fs.String("config", "", "YAML configuration file (keys are the flag names with underscores)")
	fs.StringVar(&c.ClusterID, "cluster-id", c.ClusterID, "stable id of this region; also its Raft server id (required)")
	fs.StringVar(&c.Name, "name", c.Name, "human-readable name of this region (default: the cluster id)")
	fs.Var((*labelsValue)(&c.Labels), "label", "label key=value for this region (repeatable)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for Raft state and snapshots (required)")
	fs.StringVar(&c.Bind, "bind", c.Bind, "IP address to listen on")
	fs.StringVar(&c.Advertise, "advertise", c.Advertise, "IP address other agents use to reach this one (default: --bind)")
	fs.IntVar(&c.HTTPPort, "http-port", c.HTTPPort, "HTTP API port (0: any free port)")
	fs.IntVar(&c.GossipPort, "gossip-port", c.GossipPort, "gossip port, TCP and UDP (0: any free port)")
	fs.IntVar(&c.RaftPort, "raft-port", c.RaftPort, "Raft port (0: any free port)")
	fs.StringSliceVar(&c.Join, "join", c.Join, "gossip address host:port of an agent to join (repeatable; retried until it succeeds)")
	fs.IntVar(&c.BootstrapExpect, "bootstrap-expect", c.BootstrapExpect, "bootstrap the Raft group once this many agents are seen (0: never bootstrap, only join)")
	fs.StringVar(&c.Profile, "profile", c.Profile, "timing profile: lan or wan")
	fs.IntVar(&c.MaxVoters, "max-voters", c.MaxVoters, "most Raft voters; further agents are non-voters")
	fs.StringVar(&c.Token, "token", c.Token, "management token (admin policy)")
	fs.StringVar(&c.Encrypt, "encrypt", c.Encrypt, "base64 gossip encryption key, 16/24/32 bytes, shared by all agents")
	fs.BoolVar(&c.NoAuth, "no-auth", c.NoAuth, "serve the API without tokens (development only)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json")
	fs.DurationVar(&c.ServerStabilizationTime, "server-stabilization-time", c.ServerStabilizationTime, "how long a new agent must be healthy before it becomes a voter")
	fs.DurationVar(&c.DeadServerTimeout, "dead-server-timeout", c.DeadServerTimeout, "how long a failed agent stays in the Raft configuration")
	fs.DurationVar(&c.ReconcileInterval, "reconcile-interval", c.ReconcileInterval, "how often the leader reconciles membership")
	fs.Int64Var(&c.LinkRateLimit, "link-rate-limit", c.LinkRateLimit, "bytes per second this agent sends to each remote cluster, over all runs (0: unlimited)")
	fs.IntVar(&c.ReplicationParallelism, "replication-parallelism", c.ReplicationParallelism, "concurrent transfers per target of a run")
	fs.StringVar(&c.TimeZone, "time-zone", c.TimeZone, "zone of cron expressions and of the bk-repo API's times (IANA name)")
	fs.DurationVar(&c.SWRSyncWait, "swr-sync-wait", c.SWRSyncWait, "how long SWR's sync_images waits for its copy (0: 60s); tags still going are answered as failed")
	fs.BoolVar(&c.PulpSyncReports24, "pulp-sync-reports-24", c.PulpSyncReports24, "answer Pulp sync actions with Pulp 2.4+'s spawned_tasks object instead of the seed's call report array")
	fs.IntVar(&c.TaskRunHistory, "task-run-history", c.TaskRunHistory, "ended runs a new task keeps by default")
	fs.DurationVar(&c.LeaderWait, "leader-wait", c.LeaderWait, "how long a write waits for a leader before failing with 503 (0: 7s on lan, 30s on wan)")
	bindTLSFlags(fs, c)
	bindLimitFlags(fs, c)
	bindMembershipFlags(fs, c)
	bindAuditFlags(fs, c)
}

// Load builds the configuration from defaults, the file named by --config or
// FERRY_CONFIG, the environment and the flags already parsed into fs, in that
// order of precedence (flags win), and validates it.
func Load(fs *pflag.FlagSet, getenv func(string) string) (Config, error) {
	c := Default()
	path := getenv(EnvName("config"))
	if f := fs.Lookup("config"); f != nil && f.Changed {
		path = f.Value.String()
	}
	if path != "" {
		if err := loadFile(path, &c); err != nil {
			return Config{}, err
		}
	}
	target := pflag.NewFlagSet("load", pflag.ContinueOnError)
	BindFlags(target, &c)
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Name == "config" || target.Lookup(f.Name) == nil {
			return
		}
		if f.Changed {
			err = copyFlag(target.Lookup(f.Name), f)
		} else if v, ok := lookupEnv(getenv, f.Name); ok {
			if e := setFromEnv(target.Lookup(f.Name), v); e != nil {
				err = fmt.Errorf("invalid configuration: %s=%q: %v", EnvName(f.Name), v, e)
			}
		}
	})
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func lookupEnv(getenv func(string) string, flag string) (string, bool) {
	v := getenv(EnvName(flag))
	return v, v != ""
}

// setFromEnv sets a flag from a variable; a list variable replaces the
// file's list instead of adding to it, as a flag would.
func setFromEnv(f *pflag.Flag, v string) error {
	if s, ok := f.Value.(pflag.SliceValue); ok {
		return s.Replace(strings.Split(v, ","))
	}
	return f.Value.Set(v)
}

func copyFlag(dst, src *pflag.Flag) error {
	if s, ok := src.Value.(pflag.SliceValue); ok {
		return dst.Value.(pflag.SliceValue).Replace(s.GetSlice())
	}
	return dst.Value.Set(src.Value.String())
}

func loadFile(path string, c *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("invalid configuration: --config: %v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // an empty file is an empty configuration
		return fmt.Errorf("invalid configuration: %s: %s", path, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// labelsValue is a repeatable key=value flag that also reads "a=1,b=2".
type labelsValue map[string]string

func (l *labelsValue) String() string { return strings.Join(l.GetSlice(), ",") }
func (l *labelsValue) Type() string   { return "key=value" }

func (l *labelsValue) Set(s string) error {
	for _, kv := range strings.Split(s, ",") {
		if err := l.Append(kv); err != nil {
			return err
		}
	}
	return nil
}

func (l *labelsValue) Append(kv string) error {
	k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value", kv)
	}
	if *l == nil {
		*l = map[string]string{}
	}
	(*l)[k] = v
	return nil
}

func (l *labelsValue) Replace(kvs []string) error {
	*l = nil
	for _, kv := range kvs {
		if err := l.Append(kv); err != nil {
			return err
		}
	}
	return nil
}

func (l *labelsValue) GetSlice() []string {
	out := make([]string, 0, len(*l))
	for k, v := range *l {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return slices.Clip(out)
}
