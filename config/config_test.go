package config

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// validToken is long enough to pass validation.
const validToken = "0123456789abcdef"

// baseYAML holds the fields every valid configuration needs.
const baseYAML = "cluster_id: shanghai\ndata_dir: /var/lib/ferry\ntoken: " + validToken + "\n"

// writeFile writes content to a fresh file in a per-test directory and
// returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ferry.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// load does what the agent's main does: bind the flags to a throwaway
// Config, parse args, then Load with env as the environment.
func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("ferry", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	throwaway := Default()
	BindFlags(fs, &throwaway)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return Load(fs, func(k string) string { return env[k] })
}

func assertOneLine(t *testing.T, err error) {
	t.Helper()
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("error is not one line: %q", err.Error())
	}
	if !strings.HasPrefix(err.Error(), "invalid configuration: ") {
		t.Errorf("error %q does not start with %q", err.Error(), "invalid configuration: ")
	}
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	for flag, want := range map[string]string{
		"config":                    "FERRY_CONFIG",
		"token":                     "FERRY_TOKEN",
		"cluster-id":                "FERRY_CLUSTER_ID",
		"server-stabilization-time": "FERRY_SERVER_STABILIZATION_TIME",
	} {
		if got := EnvName(flag); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flag, got, want)
		}
	}
}

// TestFlagsMatchYAMLKeys checks the documented naming rule: every flag except
// --config has a YAML key that is the flag name with underscores, and every
// YAML key has a flag.
func TestFlagsMatchYAMLKeys(t *testing.T) {
	t.Parallel()
	keys := map[string]bool{}
	typ := reflect.TypeFor[Config]()
	for i := range typ.NumField() {
		if tag := typ.Field(i).Tag.Get("yaml"); tag != "" {
			keys[tag] = true
		}
	}
	fs := pflag.NewFlagSet("ferry", pflag.ContinueOnError)
	var c Config
	BindFlags(fs, &c)
	flags := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "config" {
			return
		}
		key := strings.ReplaceAll(f.Name, "-", "_")
		if key == "label" {
			key = "labels" // the one documented exception: a map, not a repeated flag
		}
		flags[key] = true
		if !keys[key] {
			t.Errorf("flag --%s has no YAML key %q", f.Name, key)
		}
	})
	for key := range keys {
		if !flags[key] {
			t.Errorf("YAML key %q has no flag", key)
		}
	}
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string  // appended to baseYAML
		base  *string // replaces baseYAML
		env   map[string]string
		args  []string
		check func(t *testing.T, c Config)
	}{
		{
			name: "defaults survive when nothing sets them",
			check: func(t *testing.T, c Config) {
				d := Default()
				if c.HTTPPort != d.HTTPPort || c.Profile != d.Profile || c.LogLevel != d.LogLevel ||
					c.ReconcileInterval != d.ReconcileInterval || c.LeaderWait != DefaultLeaderWaitLAN {
					t.Errorf("defaults lost: %+v", c)
				}
			},
		},
		{
			name: "file over default",
			file: "log_level: debug\n",
			check: func(t *testing.T, c Config) {
				if c.LogLevel != "debug" {
					t.Errorf("LogLevel = %q, want debug", c.LogLevel)
				}
			},
		},
		{
			name: "env over file",
			file: "log_level: debug\n",
			env:  map[string]string{"FERRY_LOG_LEVEL": "warn"},
			check: func(t *testing.T, c Config) {
				if c.LogLevel != "warn" {
					t.Errorf("LogLevel = %q, want warn", c.LogLevel)
				}
			},
		},
		{
			name: "flag over env over file",
			file: "log_level: debug\n",
			env:  map[string]string{"FERRY_LOG_LEVEL": "warn"},
			args: []string{"--log-level=error"},
			check: func(t *testing.T, c Config) {
				if c.LogLevel != "error" {
					t.Errorf("LogLevel = %q, want error", c.LogLevel)
				}
			},
		},
		{
			name: "flag equal to the default still wins over env and file",
			file: "log_level: debug\n",
			env:  map[string]string{"FERRY_LOG_LEVEL": "warn"},
			args: []string{"--log-level", "info"},
			check: func(t *testing.T, c Config) {
				if c.LogLevel != "info" {
					t.Errorf("LogLevel = %q, want info", c.LogLevel)
				}
			},
		},
		{
			name: "empty env var does not override the file",
			file: "log_level: debug\n",
			env:  map[string]string{"FERRY_LOG_LEVEL": ""},
			check: func(t *testing.T, c Config) {
				if c.LogLevel != "debug" {
					t.Errorf("LogLevel = %q, want debug", c.LogLevel)
				}
			},
		},
		{
			name: "int: flag over env over file",
			file: "http_port: 8000\ngossip_port: 8100\nraft_port: 8200\n",
			env:  map[string]string{"FERRY_HTTP_PORT": "8001", "FERRY_GOSSIP_PORT": "8101"},
			args: []string{"--http-port=8002"},
			check: func(t *testing.T, c Config) {
				if c.HTTPPort != 8002 || c.GossipPort != 8101 || c.RaftPort != 8200 {
					t.Errorf("ports = %d %d %d, want 8002 8101 8200", c.HTTPPort, c.GossipPort, c.RaftPort)
				}
			},
		},
		{
			name: "fields set only in the file survive",
			file: "name: east-1\nprofile: wan\nmax_voters: 3\nbootstrap_expect: 3\nbind: 10.0.0.1\nadvertise: 10.0.0.2\nlog_format: json\nlabels:\n  zone: a\n",
			env:  map[string]string{"FERRY_LOG_LEVEL": "warn"},
			args: []string{"--http-port=9000"},
			check: func(t *testing.T, c Config) {
				if c.Name != "east-1" || c.Profile != "wan" || c.MaxVoters != 3 || c.BootstrapExpect != 3 ||
					c.Bind != "10.0.0.1" || c.Advertise != "10.0.0.2" || c.LogFormat != "json" ||
					c.ClusterID != "shanghai" || c.DataDir != "/var/lib/ferry" || c.Token != validToken {
					t.Errorf("file fields lost: %+v", c)
				}
				if !maps.Equal(c.Labels, map[string]string{"zone": "a"}) {
					t.Errorf("Labels = %v, want zone=a", c.Labels)
				}
				if c.LogLevel != "warn" || c.HTTPPort != 9000 {
					t.Errorf("LogLevel, HTTPPort = %q, %d, want warn, 9000", c.LogLevel, c.HTTPPort)
				}
			},
		},
		{
			name: "join from file",
			file: "join: [a:1, b:2]\n",
			check: func(t *testing.T, c Config) {
				if want := []string{"a:1", "b:2"}; !slices.Equal(c.Join, want) {
					t.Errorf("Join = %q, want %q", c.Join, want)
				}
			},
		},
		{
			name: "repeated --join replaces the file's list",
			file: "join: [a:1, b:2]\n",
			args: []string{"--join", "c:3", "--join", "d:4"},
			check: func(t *testing.T, c Config) {
				if want := []string{"c:3", "d:4"}; !slices.Equal(c.Join, want) {
					t.Errorf("Join = %q, want %q", c.Join, want)
				}
			},
		},
		{
			name: "comma-separated --join replaces the file's list",
			file: "join: [a:1, b:2]\n",
			args: []string{"--join=c:3,d:4"},
			check: func(t *testing.T, c Config) {
				if want := []string{"c:3", "d:4"}; !slices.Equal(c.Join, want) {
					t.Errorf("Join = %q, want %q", c.Join, want)
				}
			},
		},
		{
			name: "FERRY_JOIN replaces the file's list",
			file: "join: [a:1, b:2]\n",
			env:  map[string]string{"FERRY_JOIN": "c:3,d:4"},
			check: func(t *testing.T, c Config) {
				if want := []string{"c:3", "d:4"}; !slices.Equal(c.Join, want) {
					t.Errorf("Join = %q, want %q", c.Join, want)
				}
			},
		},
		{
			name: "--join wins over FERRY_JOIN",
			file: "join: [a:1]\n",
			env:  map[string]string{"FERRY_JOIN": "b:2,c:3"},
			args: []string{"--join=d:4"},
			check: func(t *testing.T, c Config) {
				if want := []string{"d:4"}; !slices.Equal(c.Join, want) {
					t.Errorf("Join = %q, want %q", c.Join, want)
				}
			},
		},
		{
			name: "repeated --label replaces the file's labels",
			file: "labels:\n  x: \"1\"\n  y: \"2\"\n",
			args: []string{"--label", "a=1", "--label", "b=2"},
			check: func(t *testing.T, c Config) {
				if want := map[string]string{"a": "1", "b": "2"}; !maps.Equal(c.Labels, want) {
					t.Errorf("Labels = %v, want %v", c.Labels, want)
				}
			},
		},
		{
			name: "--label a=1,b=2 replaces the file's labels",
			file: "labels:\n  x: \"1\"\n  y: \"2\"\n",
			args: []string{"--label=a=1,b=2"},
			check: func(t *testing.T, c Config) {
				if want := map[string]string{"a": "1", "b": "2"}; !maps.Equal(c.Labels, want) {
					t.Errorf("Labels = %v, want %v", c.Labels, want)
				}
			},
		},
		{
			name: "FERRY_LABEL replaces the file's labels",
			file: "labels:\n  x: \"1\"\n",
			env:  map[string]string{"FERRY_LABEL": "a=1,b=2"},
			check: func(t *testing.T, c Config) {
				if want := map[string]string{"a": "1", "b": "2"}; !maps.Equal(c.Labels, want) {
					t.Errorf("Labels = %v, want %v", c.Labels, want)
				}
			},
		},
		{
			name: "--label wins over FERRY_LABEL",
			file: "labels:\n  x: \"1\"\n",
			env:  map[string]string{"FERRY_LABEL": "a=1,b=2"},
			args: []string{"--label=c=3"},
			check: func(t *testing.T, c Config) {
				if want := map[string]string{"c": "3"}; !maps.Equal(c.Labels, want) {
					t.Errorf("Labels = %v, want %v", c.Labels, want)
				}
			},
		},
		{
			name: "label value may contain '='",
			args: []string{"--label=k=v=w"},
			check: func(t *testing.T, c Config) {
				if want := map[string]string{"k": "v=w"}; !maps.Equal(c.Labels, want) {
					t.Errorf("Labels = %v, want %v", c.Labels, want)
				}
			},
		},
		{
			name: "durations parse from YAML",
			file: "leader_wait: 3s\nserver_stabilization_time: 1m30s\ndead_server_timeout: 2h\nreconcile_interval: 250ms\n",
			check: func(t *testing.T, c Config) {
				if c.LeaderWait != 3*time.Second || c.ServerStabilizationTime != 90*time.Second ||
					c.DeadServerTimeout != 2*time.Hour || c.ReconcileInterval != 250*time.Millisecond {
					t.Errorf("durations = %s %s %s %s", c.LeaderWait, c.ServerStabilizationTime, c.DeadServerTimeout, c.ReconcileInterval)
				}
			},
		},
		{
			name: "durations: env over file",
			file: "leader_wait: 3s\nreconcile_interval: 5s\n",
			env:  map[string]string{"FERRY_LEADER_WAIT": "4s", "FERRY_DEAD_SERVER_TIMEOUT": "1h"},
			check: func(t *testing.T, c Config) {
				if c.LeaderWait != 4*time.Second || c.DeadServerTimeout != time.Hour || c.ReconcileInterval != 5*time.Second {
					t.Errorf("durations = %s %s %s", c.LeaderWait, c.DeadServerTimeout, c.ReconcileInterval)
				}
			},
		},
		{
			name: "durations: flag over env over file",
			file: "leader_wait: 3s\n",
			env:  map[string]string{"FERRY_LEADER_WAIT": "4s"},
			args: []string{"--leader-wait=5s"},
			check: func(t *testing.T, c Config) {
				if c.LeaderWait != 5*time.Second {
					t.Errorf("LeaderWait = %s, want 5s", c.LeaderWait)
				}
			},
		},
		{
			name: "bool from env",
			base: ptr("cluster_id: c1\ndata_dir: /d\n"),
			env:  map[string]string{"FERRY_NO_AUTH": "true"},
			check: func(t *testing.T, c Config) {
				if !c.NoAuth || c.Token != "" {
					t.Errorf("NoAuth, Token = %v, %q, want true, empty", c.NoAuth, c.Token)
				}
			},
		},
		{
			name: "--no-auth=false wins over file and env",
			file: "no_auth: true\n",
			env:  map[string]string{"FERRY_NO_AUTH": "true"},
			args: []string{"--no-auth=false"},
			check: func(t *testing.T, c Config) {
				if c.NoAuth {
					t.Error("NoAuth = true, want false")
				}
			},
		},
		{
			name: "token from env over file",
			env:  map[string]string{"FERRY_TOKEN": "fedcba9876543210"},
			check: func(t *testing.T, c Config) {
				if c.Token != "fedcba9876543210" {
					t.Errorf("Token = %q", c.Token)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := baseYAML
			if tt.base != nil {
				base = *tt.base
			}
			path := writeFile(t, base+tt.file)
			c, err := load(t, append([]string{"--config", path}, tt.args...), tt.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	required := []string{"--cluster-id=c1", "--data-dir=/d", "--token=" + validToken}
	tests := []struct {
		name     string
		file     *string // nil: no file written
		useEnv   bool    // name the file with FERRY_CONFIG instead of --config
		args     []string
		env      map[string]string
		wantErr  []string // substrings of the error; nil: success
		wantName string   // if set, the loaded Name
	}{
		{name: "FERRY_CONFIG names the file", file: ptr(baseYAML + "name: from-file\n"), useEnv: true, wantName: "from-file"},
		{name: "--config names the file", file: ptr(baseYAML + "name: from-file\n"), wantName: "from-file"},
		{name: "--config wins over FERRY_CONFIG", file: ptr(baseYAML + "name: from-flag-file\n"),
			env: map[string]string{"FERRY_CONFIG": "/nonexistent/ferry.yaml"}, wantName: "from-flag-file"},
		{name: "no file at all", args: required, wantName: "c1"},
		{name: "empty file", file: ptr(""), args: required, wantName: "c1"},
		{name: "comment-only file", file: ptr("# nothing here\n"), args: required, wantName: "c1"},
		{name: "empty file via FERRY_CONFIG", file: ptr(""), useEnv: true, args: required, wantName: "c1"},
		{name: "unknown key", file: ptr(baseYAML + "bogus_key: 1\n"), wantErr: []string{"bogus_key"}},
		{name: "flag spelling is not a YAML key", file: ptr(baseYAML + "data-dir: /x\n"), wantErr: []string{"data-dir"}},
		{name: "unknown key via FERRY_CONFIG", file: ptr("clusterid: x\n"), useEnv: true, wantErr: []string{"clusterid"}},
		{name: "missing file via --config", wantErr: []string{"--config"},
			args: []string{"--config=/nonexistent/dir/ferry.yaml"}},
		{name: "missing file via FERRY_CONFIG", wantErr: []string{"ferry.yaml"},
			env: map[string]string{"FERRY_CONFIG": "/nonexistent/dir/ferry.yaml"}},
		{name: "malformed YAML", file: ptr("cluster_id: [unterminated\n"), wantErr: []string{"ferry.yaml"}},
		{name: "wrong type", file: ptr(baseYAML + "http_port: eighty\n"), wantErr: []string{"eighty"}},
		{name: "bad duration in YAML", file: ptr(baseYAML + "leader_wait: soon\n"), wantErr: []string{"soon"}},
		{name: "bare number is not a duration", file: ptr(baseYAML + "leader_wait: 30\n"), wantErr: []string{"30"}},
		{name: "bad duration in env", file: ptr(baseYAML), env: map[string]string{"FERRY_LEADER_WAIT": "soon"},
			wantErr: []string{"FERRY_LEADER_WAIT"}},
		{name: "bad int in env", file: ptr(baseYAML), env: map[string]string{"FERRY_HTTP_PORT": "eighty"},
			wantErr: []string{"FERRY_HTTP_PORT"}},
		{name: "bad label in env", file: ptr(baseYAML), env: map[string]string{"FERRY_LABEL": "novalue"},
			wantErr: []string{"FERRY_LABEL"}},
		{name: "validation runs after loading", file: ptr("cluster_id: c1\ndata_dir: /d\n"), wantErr: []string{"--token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			maps.Copy(env, tt.env)
			var args []string
			if tt.file != nil {
				path := writeFile(t, *tt.file)
				if tt.useEnv {
					env["FERRY_CONFIG"] = path
				} else {
					args = append(args, "--config="+path)
				}
			}
			args = append(args, tt.args...)
			c, err := load(t, args, env)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Load succeeded with %+v, want an error", c)
				}
				assertOneLine(t, err)
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err.Error(), s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tt.wantName != "" && c.Name != tt.wantName {
				t.Errorf("Name = %q, want %q", c.Name, tt.wantName)
			}
		})
	}
}

func TestLoadValidationErrorIsFieldError(t *testing.T) {
	t.Parallel()
	_, err := load(t, []string{"--cluster-id=c1", "--data-dir=/d", "--no-auth", "--profile=moon"}, nil)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "profile" {
		t.Fatalf("Load error = %v, want a *FieldError for profile", err)
	}
}

func ptr[T any](v T) *T { return &v }

// valid returns a configuration that passes Validate.
func valid() Config {
	c := Default()
	c.ClusterID = "shanghai"
	c.DataDir = "/var/lib/ferry"
	c.Token = validToken
	return c
}

func TestValidateErrors(t *testing.T) {
	t.Parallel()
	bigLabels := map[string]string{}
	for i := range 10 {
		bigLabels[fmt.Sprintf("key%d", i)] = strings.Repeat("v", 20)
	}
	tests := []struct {
		name  string
		mod   func(c *Config)
		field string
	}{
		{"cluster-id missing", func(c *Config) { c.ClusterID = "" }, "cluster-id"},
		{"cluster-id uppercase", func(c *Config) { c.ClusterID = "Shanghai" }, "cluster-id"},
		{"cluster-id leading dash", func(c *Config) { c.ClusterID = "-sh" }, "cluster-id"},
		{"cluster-id leading dot", func(c *Config) { c.ClusterID = ".sh" }, "cluster-id"},
		{"cluster-id space", func(c *Config) { c.ClusterID = "shang hai" }, "cluster-id"},
		{"cluster-id slash", func(c *Config) { c.ClusterID = "a/b" }, "cluster-id"},
		{"cluster-id 64 chars", func(c *Config) { c.ClusterID = strings.Repeat("a", 64) }, "cluster-id"},
		{"cluster-id trailing newline", func(c *Config) { c.ClusterID = "sh\n" }, "cluster-id"},
		{"name too long", func(c *Config) { c.Name = strings.Repeat("n", 129) }, "name"},
		{"data-dir missing", func(c *Config) { c.DataDir = "" }, "data-dir"},
		{"bind hostname", func(c *Config) { c.Bind = "localhost" }, "bind"},
		{"bind empty", func(c *Config) { c.Bind = "" }, "bind"},
		{"bind with port", func(c *Config) { c.Bind = "127.0.0.1:7700" }, "bind"},
		{"advertise required for 0.0.0.0", func(c *Config) { c.Bind = "0.0.0.0" }, "advertise"},
		{"advertise required for ::", func(c *Config) { c.Bind = "::" }, "advertise"},
		{"advertise hostname", func(c *Config) { c.Advertise = "example.com" }, "advertise"},
		{"advertise unspecified", func(c *Config) { c.Bind = "0.0.0.0"; c.Advertise = "0.0.0.0" }, "advertise"},
		{"http-port negative", func(c *Config) { c.HTTPPort = -1 }, "http-port"},
		{"http-port too large", func(c *Config) { c.HTTPPort = 65536 }, "http-port"},
		{"gossip-port too large", func(c *Config) { c.GossipPort = 70000 }, "gossip-port"},
		{"raft-port negative", func(c *Config) { c.RaftPort = -5 }, "raft-port"},
		{"gossip-port duplicates http-port", func(c *Config) { c.GossipPort = c.HTTPPort }, "gossip-port"},
		{"raft-port duplicates http-port", func(c *Config) { c.RaftPort = c.HTTPPort }, "raft-port"},
		{"raft-port duplicates gossip-port", func(c *Config) { c.RaftPort = c.GossipPort }, "raft-port"},
		{"join without port", func(c *Config) { c.Join = []string{"10.0.0.1"} }, "join"},
		{"join without host", func(c *Config) { c.Join = []string{":7701"} }, "join"},
		{"join port zero", func(c *Config) { c.Join = []string{"10.0.0.1:0"} }, "join"},
		{"join port too large", func(c *Config) { c.Join = []string{"10.0.0.1:65536"} }, "join"},
		{"join named port", func(c *Config) { c.Join = []string{"10.0.0.1:gossip"} }, "join"},
		{"join bare IPv6", func(c *Config) { c.Join = []string{"::1"} }, "join"},
		{"join empty entry", func(c *Config) { c.Join = []string{"a:1", ""} }, "join"},
		{"profile unknown", func(c *Config) { c.Profile = "moon" }, "profile"},
		{"profile empty", func(c *Config) { c.Profile = "" }, "profile"},
		{"profile uppercase", func(c *Config) { c.Profile = "LAN" }, "profile"},
		{"max-voters zero", func(c *Config) { c.MaxVoters = 0 }, "max-voters"},
		{"max-voters negative", func(c *Config) { c.MaxVoters = -1 }, "max-voters"},
		{"bootstrap-expect negative", func(c *Config) { c.BootstrapExpect = -1 }, "bootstrap-expect"},
		{"bootstrap-expect above max-voters", func(c *Config) { c.MaxVoters = 3; c.BootstrapExpect = 4 }, "bootstrap-expect"},
		{"token missing", func(c *Config) { c.Token = "" }, "token"},
		{"token too short", func(c *Config) { c.Token = validToken[:15] }, "token"},
		{"log-level unknown", func(c *Config) { c.LogLevel = "trace" }, "log-level"},
		{"log-level empty", func(c *Config) { c.LogLevel = "" }, "log-level"},
		{"log-format unknown", func(c *Config) { c.LogFormat = "xml" }, "log-format"},
		{"server-stabilization-time zero", func(c *Config) { c.ServerStabilizationTime = 0 }, "server-stabilization-time"},
		{"dead-server-timeout negative", func(c *Config) { c.DeadServerTimeout = -time.Second }, "dead-server-timeout"},
		{"reconcile-interval zero", func(c *Config) { c.ReconcileInterval = 0 }, "reconcile-interval"},
		{"leader-wait negative", func(c *Config) { c.LeaderWait = -1 }, "leader-wait"},
		{"label key empty", func(c *Config) { c.Labels = map[string]string{"": "v"} }, "label"},
		{"label key with space", func(c *Config) { c.Labels = map[string]string{"a b": "v"} }, "label"},
		{"label key leading dash", func(c *Config) { c.Labels = map[string]string{"-a": "v"} }, "label"},
		{"label key with '='", func(c *Config) { c.Labels = map[string]string{"a=b": "v"} }, "label"},
		{"label key 64 chars", func(c *Config) { c.Labels = map[string]string{strings.Repeat("k", 64): "v"} }, "label"},
		{"label value 64 chars", func(c *Config) { c.Labels = map[string]string{"k": strings.Repeat("v", 64)} }, "label"},
		{"labels too large", func(c *Config) { c.Labels = bigLabels }, "label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.mod(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate succeeded, want an error for --%s", tt.field)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FieldError", err, err)
			}
			if fe.Field != tt.field {
				t.Errorf("Field = %q, want %q (error: %v)", fe.Field, tt.field, err)
			}
			if fe.Msg == "" {
				t.Error("Msg is empty")
			}
			msg := err.Error()
			if want := "invalid configuration: --" + tt.field + ": "; !strings.HasPrefix(msg, want) {
				t.Errorf("Error() = %q, want prefix %q", msg, want)
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("Error() is not one line: %q", msg)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(c *Config)
	}{
		{"defaults plus required fields", func(c *Config) {}},
		{"no-auth without token", func(c *Config) { c.Token = ""; c.NoAuth = true }},
		{"no-auth with short token", func(c *Config) { c.Token = "short"; c.NoAuth = true }},
		{"token exactly 16", func(c *Config) { c.Token = strings.Repeat("t", 16) }},
		{"all ports 0", func(c *Config) { c.HTTPPort, c.GossipPort, c.RaftPort = 0, 0, 0 }},
		{"two ports 0", func(c *Config) { c.HTTPPort, c.RaftPort = 0, 0 }},
		{"max ports", func(c *Config) { c.HTTPPort, c.GossipPort, c.RaftPort = 65535, 65534, 1 }},
		{"cluster-id 63 chars", func(c *Config) { c.ClusterID = strings.Repeat("a", 63) }},
		{"cluster-id with . _ -", func(c *Config) { c.ClusterID = "0a.b_c-d" }},
		{"name 128 chars", func(c *Config) { c.Name = strings.Repeat("n", 128) }},
		{"IPv6 bind", func(c *Config) { c.Bind = "::1" }},
		{"0.0.0.0 bind with advertise", func(c *Config) { c.Bind = "0.0.0.0"; c.Advertise = "10.0.0.1" }},
		{"join hosts and IPv6", func(c *Config) { c.Join = []string{"a.example:7701", "10.0.0.1:1", "[::1]:65535"} }},
		{"wan", func(c *Config) { c.Profile = ProfileWAN }},
		{"bootstrap-expect equals max-voters", func(c *Config) { c.MaxVoters = 3; c.BootstrapExpect = 3 }},
		{"max-voters 1", func(c *Config) { c.MaxVoters = 1; c.BootstrapExpect = 1 }},
		{"log levels", func(c *Config) { c.LogLevel = "error"; c.LogFormat = "json" }},
		{"labels", func(c *Config) {
			c.Labels = map[string]string{"zone": "a", "example.com/tier": "", "K_1": strings.Repeat("v", 63)}
		}},
		{"tiny durations", func(c *Config) {
			c.ServerStabilizationTime, c.DeadServerTimeout, c.ReconcileInterval, c.LeaderWait = 1, 1, 1, 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.mod(&c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateDerivedDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		mod                 func(c *Config)
		wantName, wantAdvrt string
	}{
		{"name defaults to cluster id, advertise to bind", func(c *Config) {}, "shanghai", "127.0.0.1"},
		{"advertise defaults to a non-default bind", func(c *Config) { c.Bind = "10.1.2.3" }, "shanghai", "10.1.2.3"},
		{"advertise defaults to IPv6 bind", func(c *Config) { c.Bind = "fd00::1" }, "shanghai", "fd00::1"},
		{"explicit name kept", func(c *Config) { c.Name = "Shanghai DC" }, "Shanghai DC", "127.0.0.1"},
		{"explicit advertise kept", func(c *Config) { c.Bind = "0.0.0.0"; c.Advertise = "10.0.0.9" }, "shanghai", "10.0.0.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.mod(&c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if c.Name != tt.wantName {
				t.Errorf("Name = %q, want %q", c.Name, tt.wantName)
			}
			if c.Advertise != tt.wantAdvrt {
				t.Errorf("Advertise = %q, want %q", c.Advertise, tt.wantAdvrt)
			}
		})
	}

	// The same derivation happens through Load.
	t.Run("via Load", func(t *testing.T) {
		t.Parallel()
		c, err := load(t, nil, map[string]string{
			"FERRY_CLUSTER_ID": "tokyo", "FERRY_DATA_DIR": "/d", "FERRY_TOKEN": validToken, "FERRY_BIND": "10.0.0.5",
		})
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if c.Name != "tokyo" || c.Advertise != "10.0.0.5" {
			t.Errorf("Name, Advertise = %q, %q, want tokyo, 10.0.0.5", c.Name, c.Advertise)
		}
	})
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, token, want string
	}{
		{"token hidden", validToken, "<redacted>"},
		{"empty token stays empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			c.Token = tt.token
			r := c.Redacted()
			if r.Token != tt.want {
				t.Errorf("Redacted().Token = %q, want %q", r.Token, tt.want)
			}
			if tt.token != "" && strings.Contains(fmt.Sprintf("%+v", r), tt.token) {
				t.Errorf("token appears in %+v", r)
			}
			if c.Token != tt.token {
				t.Errorf("Redacted changed the original token to %q", c.Token)
			}
			r.Token = c.Token
			if !reflect.DeepEqual(r, c) {
				t.Errorf("Redacted changed more than the token:\n got %+v\nwant %+v", r, c)
			}
		})
	}
}

func TestLabelsValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sets    []string
		want    map[string]string
		wantErr bool
	}{
		{name: "one", sets: []string{"a=1"}, want: map[string]string{"a": "1"}},
		{name: "repeated", sets: []string{"a=1", "b=2"}, want: map[string]string{"a": "1", "b": "2"}},
		{name: "comma form", sets: []string{"a=1,b=2"}, want: map[string]string{"a": "1", "b": "2"}},
		{name: "later wins", sets: []string{"a=1", "a=2"}, want: map[string]string{"a": "2"}},
		{name: "empty value", sets: []string{"a="}, want: map[string]string{"a": ""}},
		{name: "spaces trimmed", sets: []string{" a=1 , b=2 "}, want: map[string]string{"a": "1", "b": "2"}},
		{name: "no '='", sets: []string{"a"}, wantErr: true},
		{name: "empty key", sets: []string{"=1"}, wantErr: true},
		{name: "empty", sets: []string{""}, wantErr: true},
		{name: "trailing comma", sets: []string{"a=1,"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var l labelsValue
			var err error
			for _, s := range tt.sets {
				if err = l.Set(s); err != nil {
					break
				}
			}
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Set(%q) succeeded with %v, want an error", tt.sets, l)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%q): %v", tt.sets, err)
			}
			if !maps.Equal(l, tt.want) {
				t.Errorf("labels = %v, want %v", l, tt.want)
			}
			if got, want := l.String(), strings.Join(l.GetSlice(), ","); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
			if !slices.IsSorted(l.GetSlice()) {
				t.Errorf("GetSlice() = %q is not sorted", l.GetSlice())
			}
		})
	}
}

func FuzzLabelsValue(f *testing.F) {
	for _, s := range []string{
		"a=1", "a=1,b=2", "a=b=c", " a = 1 ", "=", "=1", "a", "", ",", "a=1,", "a=1,a=2",
		"k=\u0085", "\u0085k=v", "a\t=\tb", "x=,y=", "\xff=\xfe", "a=1,,b=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var l labelsValue
		if err := l.Set(s); err != nil {
			return
		}
		if len(l) == 0 {
			t.Fatalf("Set(%q) succeeded but left no labels", s)
		}
		for k := range l {
			if k == "" {
				t.Fatalf("Set(%q) produced an empty key: %v", s, l)
			}
		}
		slice := l.GetSlice()
		var r labelsValue
		if err := r.Replace(slice); err != nil {
			t.Fatalf("Replace(GetSlice()) after Set(%q): %v (slice %q)", s, err, slice)
		}
		if !maps.Equal(l, r) {
			t.Fatalf("round trip of Set(%q) through %q: got %q, want %q", s, slice, r, l)
		}
		// Replace also discards what was there before.
		prev := labelsValue{"zz-old": "x"}
		if err := prev.Replace(slice); err != nil || !maps.Equal(prev, l) {
			t.Fatalf("Replace(%q) over an old map = %q, %v; want %q", slice, prev, err, l)
		}
	})
}

// Configs built from one Join slice (ferry dev does this) must not see each
// other's validation: Validate may not write through the shared array.
func TestValidateDoesNotWriteSharedJoinSlice(t *testing.T) {
	shared := []string{" 127.0.0.1:7711", "127.0.0.1:7721 "}
	c := Default()
	c.ClusterID, c.DataDir, c.NoAuth, c.Join = "a", t.TempDir(), true, shared
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if shared[0] != " 127.0.0.1:7711" || shared[1] != "127.0.0.1:7721 " {
		t.Fatalf("Validate changed the caller's slice: %q", shared)
	}
	if c.Join[0] != "127.0.0.1:7711" || c.Join[1] != "127.0.0.1:7721" {
		t.Fatalf("join entries not trimmed: %q", c.Join)
	}
}

func TestLeaderWaitDefaultsByProfile(t *testing.T) {
	for profile, want := range map[string]time.Duration{ProfileLAN: DefaultLeaderWaitLAN, ProfileWAN: DefaultLeaderWaitWAN} {
		c := Default()
		c.ClusterID, c.DataDir, c.NoAuth, c.Profile = "a", t.TempDir(), true, profile
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.LeaderWait != want {
			t.Errorf("%s: leader wait %s, want %s", profile, c.LeaderWait, want)
		}
	}
}

func TestEncryptKey(t *testing.T) {
	for _, c := range []struct {
		key string
		ok  bool
	}{
		{"M3Nxb2h4cWZ5bWVyZ2p3c2x0b3B6YnVhdmtpZW5kY2c=", true}, // 32 bytes
		{"MDEyMzQ1Njc4OWFiY2RlZg==", true},                     // 16 bytes
		{"MDEyMzQ1Njc4OQ==", false},                            // 10 bytes
		{"not base64!", false},
	} {
		cfg := Default()
		cfg.ClusterID, cfg.DataDir, cfg.NoAuth, cfg.Encrypt = "a", t.TempDir(), true, c.key
		err := cfg.Validate()
		var fe *FieldError
		if c.ok != (err == nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != "encrypt")) {
			t.Errorf("encrypt %q: %v", c.key, err)
		}
	}
	c := Default()
	c.Encrypt = "secret"
	if c.Redacted().Encrypt == "secret" {
		t.Fatal("Redacted shows the gossip key")
	}
}

// Defaults are filled apart from the checks: validate changes nothing, and
// withDefaults refuses nothing (an unusable configuration stays unusable).
func TestDefaultsApartFromChecks(t *testing.T) {
	c := Default()
	c.ClusterID, c.DataDir, c.NoAuth, c.Join = "a", t.TempDir(), true, []string{" h:1 "}
	before := c
	if err := c.validate(); err == nil || c.Advertise != "" || c.Name != "" || c.LeaderWait != 0 || c.Join[0] != " h:1 " {
		t.Fatalf("validate without defaults: %v, %+v", err, c)
	}
	c.withDefaults()
	if c.Name != "a" || c.Advertise != before.Bind || c.LeaderWait != DefaultLeaderWaitLAN || c.Join[0] != "h:1" {
		t.Fatalf("withDefaults: %+v", c)
	}
	if err := c.validate(); err != nil {
		t.Fatalf("validate after the defaults: %v", err)
	}
	if c.Checked() {
		t.Fatal("only Validate marks a configuration checked")
	}
	if err := c.Validate(); err != nil || !c.Checked() {
		t.Fatalf("Validate: %v, checked %v", err, c.Checked())
	}
	bad := Default()
	bad.Bind = "0.0.0.0"
	bad.withDefaults()
	if bad.Advertise != "" || bad.Validate() == nil || bad.Checked() {
		t.Fatalf("an unspecified bind gives no advertise address: %+v", bad)
	}
}
