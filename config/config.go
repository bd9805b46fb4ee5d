package config

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Profiles tune gossip and Raft timing for the network between agents.
const (
	ProfileLAN = "lan" // one site: raft defaults, memberlist DefaultLANConfig
	ProfileWAN = "wan" // regions: memberlist DefaultWANConfig, raft timeouts ×5
)

// Config is one agent's configuration. YAML keys are the flag names with
// underscores (labels: the map behind the repeatable --label flag);
// environment variables are FERRY_ plus the flag name in capitals.
type Config struct {
	ClusterID       string            `yaml:"cluster_id" json:"cluster_id"`
	Name            string            `yaml:"name" json:"name"`
	Labels          map[string]string `yaml:"labels" json:"labels"`
	DataDir         string            `yaml:"data_dir" json:"data_dir"`
	Bind            string            `yaml:"bind" json:"bind"`
	Advertise       string            `yaml:"advertise" json:"advertise"`
	HTTPPort        int               `yaml:"http_port" json:"http_port"`
	GossipPort      int               `yaml:"gossip_port" json:"gossip_port"`
	RaftPort        int               `yaml:"raft_port" json:"raft_port"`
	Join            []string          `yaml:"join" json:"join"`
	BootstrapExpect int               `yaml:"bootstrap_expect" json:"bootstrap_expect"`
	Profile         string            `yaml:"profile" json:"profile"`
	MaxVoters       int               `yaml:"max_voters" json:"max_voters"`
	Token           string            `yaml:"token" json:"token,omitempty"`
	// Encrypt is the base64 gossip encryption key (16, 24 or 32 bytes:
	// AES-128/192/256), the same on every agent of a group.
	Encrypt   string `yaml:"encrypt" json:"encrypt,omitempty"`
	NoAuth    bool   `yaml:"no_auth" json:"no_auth"`
	LogLevel  string `yaml:"log_level" json:"log_level"`
	LogFormat string `yaml:"log_format" json:"log_format"`

	// ServerStabilizationTime is how long a new member must stay healthy
	// before the leader promotes it to voter.
	ServerStabilizationTime time.Duration `yaml:"server_stabilization_time" json:"server_stabilization_time"`
	// DeadServerTimeout is how long a failed member stays in the Raft
	// configuration before the leader removes it.
	DeadServerTimeout time.Duration `yaml:"dead_server_timeout" json:"dead_server_timeout"`
	// ReconcileInterval is how often the leader reconciles membership even
	// when gossip reports nothing new.
	ReconcileInterval time.Duration `yaml:"reconcile_interval" json:"reconcile_interval"`
	// LeaderWait is how long a write waits for a leader before it fails with
	// 503. Zero means the profile's default: an election must fit in it.
	LeaderWait time.Duration `yaml:"leader_wait" json:"leader_wait"`

	// LinkRateLimit caps the bytes per second this agent sends to each remote
	// cluster, over all runs (0: unlimited); each run has its own rateLimit too.
	LinkRateLimit int64 `yaml:"link_rate_limit" json:"link_rate_limit"`
	// ReplicationParallelism is the concurrent transfers per target of a run.
	ReplicationParallelism int `yaml:"replication_parallelism" json:"replication_parallelism"`
	// TimeZone is where cron expressions are evaluated and the zone of the
	// bk-repo dialect's times. Every agent of a group should use the same.
	TimeZone string `yaml:"time_zone" json:"time_zone"`
	// TaskRunHistory is how many ended runs a new task keeps by default.
	TaskRunHistory int `yaml:"task_run_history" json:"task_run_history"`
	// PulpSyncReports24 answers the Pulp dialect's sync action with Pulp
	// 2.4+'s {"result", "error", "spawned_tasks"} (pulp-admin 2.4+,
	// pulp-smash) instead of the seed's array of call reports.
	PulpSyncReports24 bool `yaml:"pulp_sync_reports_24" json:"pulp_sync_reports_24"`
	// SWRSyncWait bounds how long SWR's sync_images waits for its copy
	// before it answers the tags still going as failed (0: 60 s).
	SWRSyncWait time.Duration `yaml:"swr_sync_wait" json:"swr_sync_wait"`

	// TLS (config/tls.go): with all three the API serves HTTPS only, Raft
	// and every agent-to-agent call use mutual TLS.
	TLSCAFile   string `yaml:"tls_ca_file" json:"tls_ca_file"`
	TLSCertFile string `yaml:"tls_cert_file" json:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file" json:"tls_key_file"`

	// Limits (config/limits.go): what one client may hold of an agent.
	// Zero takes the default the check derives.
	HTTPMaxConns          int           `yaml:"http_max_conns" json:"http_max_conns"`
	HTTPMaxConnsPerClient int           `yaml:"http_max_conns_per_client" json:"http_max_conns_per_client"`
	HTTPIdleTimeout       time.Duration `yaml:"http_idle_timeout" json:"http_idle_timeout"`
	HTTPBodyReadTimeout   time.Duration `yaml:"http_body_read_timeout" json:"http_body_read_timeout"`

	// Membership and readiness (config/membership.go).
	// LeaveOnTerminate makes SIGTERM a graceful leave that removes this
	// agent from the Raft configuration (Consul's leave_on_terminate).
	LeaveOnTerminate bool `yaml:"leave_on_terminate" json:"leave_on_terminate"`
	// RaftDir is where the Raft log and snapshots are kept (default: under
	// --data-dir), e.g. on a disk of their own.
	RaftDir string `yaml:"raft_dir" json:"raft_dir"`

	// AuditLog is a file every state-changing call is appended to as a
	// JSON line (config/audit.go).
	AuditLog string `yaml:"audit_log" json:"audit_log"`

	// checked is set by Validate, so that a configuration is checked once.
	checked bool
}

// Location is the configured time zone (validated).
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Default returns the defaults every source overrides.
func Default() Config {
	return Config{
		Bind:                    "127.0.0.1",
		HTTPPort:                7700,
		GossipPort:              7701,
		RaftPort:                7702,
		Profile:                 ProfileLAN,
		MaxVoters:               5,
		LogLevel:                "info",
		LogFormat:               "text",
		ServerStabilizationTime: 10 * time.Second,
		DeadServerTimeout:       30 * time.Minute,
		ReconcileInterval:       10 * time.Second,
		ReplicationParallelism:  4,
		TimeZone:                "UTC",
		TaskRunHistory:          50,
	}
}

// LeaderWait defaults per profile: several election timeouts of each.
const (
	DefaultLeaderWaitLAN = 7 * time.Second
	DefaultLeaderWaitWAN = 30 * time.Second
)

// MaxLabelBytes bounds the labels, which travel in gossip metadata (512 bytes
// in all, shared with the addresses).
const MaxLabelBytes = 200

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	labelKeyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$`)
)

// FieldError is a configuration error about one field, named as its flag.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return "invalid configuration: --" + e.Field + ": " + e.Msg }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate fills in the derived defaults (withDefaults) and checks the
// result (validate). Load runs it; agent.Start runs it only for a
// configuration that has not been through it (Checked).
func (c *Config) Validate() error {
	c.withDefaults()
	if err := c.validate(); err != nil {
		return err
	}
	c.checked = true
	return nil
}

// Checked reports whether Validate accepted c.
func (c Config) Checked() bool { return c.checked }

// withDefaults fills in what is derived from other fields: the name is the
// cluster id, the advertised address the bind address when that is a
// specific one, the join list trimmed, the leader wait the profile's.
func (c *Config) withDefaults() {
	if c.Name == "" {
		c.Name = c.ClusterID
	}
	if bind := net.ParseIP(c.Bind); c.Advertise == "" && bind != nil && !bind.IsUnspecified() {
		c.Advertise = c.Bind
	}
	// A new slice: a Config is a value, and copies share the old backing array.
	joins := make([]string, len(c.Join))
	for i, j := range c.Join {
		joins[i] = strings.TrimSpace(j)
	}
	c.Join = joins
	if c.LeaderWait == 0 {
		c.LeaderWait = DefaultLeaderWaitLAN
		if c.Profile == ProfileWAN {
			c.LeaderWait = DefaultLeaderWaitWAN
		}
	}
}

// validate checks c without changing it, the first error in flag order.
func (c Config) validate() error {
	for _, check := range []func() error{c.checkIdentity, c.checkNetwork, c.checkReplication, c.checkVoters, c.checkAuth, c.checkLogs, c.checkDurations,
		c.checkTLS, c.checkLimits, c.checkMembership, c.checkAudit} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) checkIdentity() error {
	switch {
	case c.ClusterID == "":
		return bad("cluster-id", "is required (the stable id of this region, e.g. shanghai)")
	case !idPattern.MatchString(c.ClusterID):
		return bad("cluster-id", "%q must be 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit", c.ClusterID)
	case len(c.Name) > 128:
		return bad("name", "is longer than 128 characters")
	}
	if err := validateLabels(c.Labels); err != nil {
		return err
	}
	if c.DataDir == "" {
		return bad("data-dir", "is required (where Raft state and snapshots are kept)")
	}
	return nil
}

func (c Config) checkNetwork() error {
	bind := net.ParseIP(c.Bind)
	switch {
	case bind == nil:
		return bad("bind", "%q is not an IP address", c.Bind)
	case c.Advertise == "":
		return bad("advertise", "is required when --bind is %s (other agents need an address to reach this one)", c.Bind)
	}
	if ip := net.ParseIP(c.Advertise); ip == nil || ip.IsUnspecified() {
		return bad("advertise", "%q is not a reachable IP address", c.Advertise)
	}
	if err := c.checkPorts(); err != nil {
		return err
	}
	for _, j := range c.Join {
		host, port, err := net.SplitHostPort(j)
		if err != nil || host == "" {
			return bad("join", "%q is not host:port", j)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad("join", "%q has no valid port", j)
		}
	}
	if c.Profile != ProfileLAN && c.Profile != ProfileWAN {
		return bad("profile", "%q is not lan or wan", c.Profile)
	}
	return nil
}

func (c Config) checkPorts() error {
	ports := map[int]string{}
	for _, p := range []struct {
		name string
		port int
	}{{"http-port", c.HTTPPort}, {"gossip-port", c.GossipPort}, {"raft-port", c.RaftPort}} {
		if p.port < 0 || p.port > 65535 {
			return bad(p.name, "%d is not a port (1-65535, or 0 for any free port)", p.port)
		}
		if other, dup := ports[p.port]; dup && p.port != 0 {
			return bad(p.name, "%d is already --%s", p.port, other)
		}
		ports[p.port] = p.name
	}
	return nil
}

func (c Config) checkReplication() error {
	switch {
	case c.LinkRateLimit < 0:
		return bad("link-rate-limit", "must be 0 (unlimited) or a positive number of bytes per second, got %d", c.LinkRateLimit)
	case c.ReplicationParallelism < 1 || c.ReplicationParallelism > 64:
		return bad("replication-parallelism", "must be between 1 and 64, got %d", c.ReplicationParallelism)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		return bad("time-zone", "%q is not a time zone name such as UTC or Asia/Shanghai", c.TimeZone)
	}
	if c.TaskRunHistory < 1 || c.TaskRunHistory > 10000 {
		return bad("task-run-history", "must be between 1 and 10000, got %d", c.TaskRunHistory)
	}
	return nil
}

func (c Config) checkVoters() error {
	switch {
	case c.MaxVoters < 1:
		return bad("max-voters", "must be at least 1, got %d", c.MaxVoters)
	case c.BootstrapExpect < 0:
		return bad("bootstrap-expect", "must not be negative, got %d", c.BootstrapExpect)
	case c.BootstrapExpect > c.MaxVoters:
		return bad("bootstrap-expect", "%d is more than --max-voters %d", c.BootstrapExpect, c.MaxVoters)
	}
	return nil
}

func (c Config) checkAuth() error {
	switch {
	case !c.NoAuth && c.Token == "":
		return bad("token", "is required: give a management token (or FERRY_TOKEN), or run with --no-auth")
	case !c.NoAuth && len(c.Token) < 16:
		return bad("token", "is shorter than 16 characters")
	}
	if c.Encrypt != "" {
		if _, err := c.GossipKey(); err != nil {
			return bad("encrypt", "%v", err)
		}
	}
	return nil
}

func (c Config) checkLogs() error {
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log-level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("log-format", "%q is not text or json", c.LogFormat)
	}
	return nil
}

func (c Config) checkDurations() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"server-stabilization-time", c.ServerStabilizationTime}, {"dead-server-timeout", c.DeadServerTimeout},
		{"reconcile-interval", c.ReconcileInterval}, {"leader-wait", c.LeaderWait},
	} {
		if d.v <= 0 {
			return bad(d.name, "must be positive, got %s", d.v)
		}
	}
	return nil
}

func validateLabels(labels map[string]string) error {
	for k, v := range labels {
		if !labelKeyPattern.MatchString(k) {
			return bad("label", "key %q must be 1-63 letters, digits, '.', '_', '/' or '-'", k)
		}
		if len(v) > 63 {
			return bad("label", "value of %q is longer than 63 characters", k)
		}
	}
	if b, _ := json.Marshal(labels); len(labels) > 0 && len(b) > MaxLabelBytes {
		return bad("label", "labels take %d bytes; at most %d fit in gossip metadata", len(b), MaxLabelBytes)
	}
	return nil
}

// GossipKey decodes Encrypt; nil when gossip is not encrypted.
func (c Config) GossipKey() ([]byte, error) {
	if c.Encrypt == "" {
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(c.Encrypt)
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	if n := len(key); n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("key is %d bytes; it must be 16, 24 or 32 (e.g. head -c 32 /dev/urandom | base64)", n)
	}
	return key, nil
}

// Redacted is c with secrets blanked, for /v1/agent/self and logs.
func (c Config) Redacted() Config {
	if c.Token != "" {
		c.Token = "<redacted>"
	}
	if c.Encrypt != "" {
		c.Encrypt = "<redacted>"
	}
	return c
}
