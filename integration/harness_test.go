package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/config"
)

const mgmtToken = "integration-management-token"

// node is one agent under test. Its config keeps the ports the kernel chose,
// so that a restart comes back on the same addresses with the same data dir.
type node struct {
	t   testing.TB
	cfg config.Config
	a   *agent.Agent
	// logs holds the agent's JSON log when the test asked for it.
	logs *syncBuffer
}

// nodeOption adjusts an agent under test before it starts.
type nodeOption func(*node)

// configure adapts a change of configuration into a nodeOption.
func configure(f func(*config.Config)) nodeOption { return func(n *node) { f(&n.cfg) } }

func withJoin(nodes ...*node) nodeOption {
	return configure(func(c *config.Config) {
		for _, n := range nodes {
			c.Join = append(c.Join, n.a.GossipAddr())
		}
	})
}

// withLogs keeps the agent's JSON log in node.logs for the test to read.
func withLogs() nodeOption { return func(n *node) { n.logs = &syncBuffer{} } }

func withBootstrapExpect(n int) nodeOption {
	return configure(func(c *config.Config) { c.BootstrapExpect = n })
}
func withMaxVoters(n int) nodeOption { return configure(func(c *config.Config) { c.MaxVoters = n }) }
func withDeadServerTimeout(d time.Duration) nodeOption {
	return configure(func(c *config.Config) { c.DeadServerTimeout = d })
}
func withLeaderWait(d time.Duration) nodeOption {
	return configure(func(c *config.Config) { c.LeaderWait = d })
}
func withEncrypt(key string) nodeOption { return configure(func(c *config.Config) { c.Encrypt = key }) }

func testLogger(id string) *slog.Logger {
	if os.Getenv("FERRY_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test_agent", id)
}

// startNode starts an agent on free loopback ports and stops it when the test ends.
func startNode(t testing.TB, id string, opts ...nodeOption) *node {
	t.Helper()
	cfg := config.Default()
	cfg.ClusterID = id
	cfg.Name = "Region " + id
	cfg.DataDir = filepath.Join(t.TempDir(), id)
	cfg.HTTPPort, cfg.GossipPort, cfg.RaftPort = 0, 0, 0
	cfg.Token = mgmtToken
	cfg.LogLevel = "debug"
	cfg.ServerStabilizationTime = time.Second
	cfg.ReconcileInterval = 500 * time.Millisecond
	cfg.LeaderWait = 10 * time.Second
	n := &node{t: t, cfg: cfg}
	for _, o := range opts {
		o(n)
	}
	n.start()
	t.Cleanup(func() { n.stop() })
	return n
}

func (n *node) start() {
	n.t.Helper()
	logger := testLogger(n.cfg.ClusterID)
	if n.logs != nil {
		logger = slog.New(slog.NewJSONHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := agent.Start(n.cfg, logger)
	if err != nil {
		n.t.Fatalf("start %s: %v", n.cfg.ClusterID, err)
	}
	n.a = a
	n.cfg.HTTPPort = port(n.t, a.HTTPAddr())
	n.cfg.GossipPort = port(n.t, a.GossipAddr())
	n.cfg.RaftPort = port(n.t, a.RaftAddr())
}

// stop kills the agent without leaving: the others see it fail.
func (n *node) stop() {
	if n.a != nil {
		_ = n.a.Shutdown()
		n.a = nil
	}
}

// leave leaves the group gracefully.
func (n *node) leave() {
	n.t.Helper()
	n.stopWith("leave", n.a.Leave)
}

// terminate stops the agent as SIGTERM does (agent.Terminate): without
// leaving, unless it runs with LeaveOnTerminate.
func (n *node) terminate() {
	n.t.Helper()
	n.stopWith("terminate", n.a.Terminate)
}

// stopWith stops the agent through stop, bounded, failing the test on error.
func (n *node) stopWith(what string, stop func(context.Context) error) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		n.t.Fatalf("%s %s: %v", what, n.cfg.ClusterID, err)
	}
	n.a = nil
}

// restart starts the agent again from its data dir, on its old ports.
func (n *node) restart(opts ...nodeOption) {
	n.t.Helper()
	for _, o := range opts {
		o(n)
	}
	n.start()
}

func (n *node) id() string { return n.cfg.ClusterID }
func (n *node) url() string {
	if n.cfg.TLSEnabled() {
		return "https://" + n.a.HTTPAddr()
	}
	return "http://" + n.a.HTTPAddr()
}

func port(t testing.TB, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.Atoi(p)
	return v
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) errorMessage() string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error
}

// httpClient is the tests' API client. It does not check an agent's server
// certificate: the helpers talk to agents the test itself started, and
// tls_test.go checks certificates with clients of its own.
var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// call sends a request with the token in X-Auth-Token (none if token is "").
func call(t testing.TB, method, url, token string, body any) response {
	t.Helper()
	r, err := tryCall(method, url, func(h http.Header) {
		if token != "" {
			h.Set("X-Auth-Token", token)
		}
	}, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

func tryCall(method, url string, auth func(http.Header), body any) (response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return response{}, err
	}
	auth(req.Header)
	resp, err := httpClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronisation
	}
}

// Wire shapes, as a client reads them.
type leaderInfo struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	APIAddr string `json:"apiAddr"`
}

type peer struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"`
}

type member struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	APIAddr string `json:"apiAddr"`
	Status  string `json:"status"`
	Role    string `json:"role"`
	Leader  bool   `json:"leader"`
}

type token struct {
	AccessorID  string `json:"accessorId"`
	Secret      string `json:"secret"`
	Description string `json:"description"`
	Policy      string `json:"policy"`
}

func leaderOf(n *node) (leaderInfo, error) {
	r, err := tryCall("GET", n.url()+"/v1/status/leader", bearer(mgmtToken), nil)
	if err != nil {
		return leaderInfo{}, err
	}
	if r.status != http.StatusOK {
		return leaderInfo{}, fmt.Errorf("%s: status/leader %d %s", n.id(), r.status, r.body)
	}
	var l leaderInfo
	err = json.Unmarshal(r.body, &l)
	return l, err
}

// getOK reads path on n with the management token into v; anything but 200 fails the test.
func getOK(t testing.TB, n *node, path string, v any) {
	t.Helper()
	r := call(t, "GET", n.url()+path, mgmtToken, nil)
	if r.status != http.StatusOK {
		t.Fatalf("%s: GET %s: %d %s", n.id(), path, r.status, r.body)
	}
	r.decode(t, v)
}

func peersOf(t testing.TB, n *node) []peer {
	t.Helper()
	var ps []peer
	getOK(t, n, "/v1/status/peers", &ps)
	return ps
}

func membersOf(t testing.TB, n *node) map[string]member {
	t.Helper()
	var ms []member
	getOK(t, n, "/v1/members", &ms)
	out := map[string]member{}
	for _, m := range ms {
		out[m.ID] = m
	}
	return out
}

func bearer(tok string) func(http.Header) {
	return func(h http.Header) { h.Set("Authorization", "Bearer "+tok) }
}

// sameLeader waits until every node reports the same leader, and returns it.
func sameLeader(t testing.TB, within time.Duration, nodes ...*node) leaderInfo {
	t.Helper()
	return newLeader(t, within, "", nodes...)
}

// newLeader waits until every node reports the same leader, other than old.
func newLeader(t testing.TB, within time.Duration, old string, nodes ...*node) leaderInfo {
	t.Helper()
	var got leaderInfo
	eventually(t, within, "one leader known by all", func() error {
		var first leaderInfo
		for i, n := range nodes {
			l, err := leaderOf(n)
			if err != nil {
				return err
			}
			if l.ID == old {
				return fmt.Errorf("%s still reports %s as leader", n.id(), old)
			}
			if i == 0 {
				first = l
			} else if l != first {
				return fmt.Errorf("%s says %+v, %s says %+v", nodes[0].id(), first, n.id(), l)
			}
		}
		got = first
		return nil
	})
	return got
}

func describePeers(ps []peer) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.ID+"="+p.Suffrage)
	}
	return strings.Join(parts, ",")
}

// suffrages maps peer id to suffrage.
func suffrages(ps []peer) map[string]string {
	out := map[string]string{}
	for _, p := range ps {
		out[p.ID] = p.Suffrage
	}
	return out
}

func createToken(t testing.TB, n *node, auth, policy string) token {
	t.Helper()
	r := call(t, "POST", n.url()+"/v1/acl/tokens", auth, map[string]string{"description": "test " + policy, "policy": policy})
	if r.status != http.StatusCreated {
		t.Fatalf("create token on %s: %d %s", n.id(), r.status, r.body)
	}
	var tok token
	r.decode(t, &tok)
	if tok.Secret == "" || tok.AccessorID == "" {
		t.Fatalf("created token lacks secret or accessor: %s", r.body)
	}
	return tok
}

// startGroup starts n agents with bootstrap-expect n, each joining the first.
func startGroup(t testing.TB, ids []string, opts ...nodeOption) []*node {
	t.Helper()
	base := append([]nodeOption{withBootstrapExpect(len(ids))}, opts...)
	first := startNode(t, ids[0], base...)
	nodes := []*node{first}
	for _, id := range ids[1:] {
		nodes = append(nodes, startNode(t, id, append(base, withJoin(first))...))
	}
	waitReady(t, 30*time.Second, nodes...)
	return nodes
}

// waitReady waits until every node's /v1/health says ready: an agent
// answers no call that needs its state before it has caught up with a
// leader, which a new group has a second or two after it starts.
func waitReady(t testing.TB, within time.Duration, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		eventually(t, within, n.id()+" ready", func() error {
			r, err := tryCall("GET", n.url()+"/v1/health", func(http.Header) {}, nil)
			if err != nil {
				return err
			}
			if r.status != http.StatusOK {
				return fmt.Errorf("health %d %s", r.status, r.body)
			}
			return nil
		})
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
