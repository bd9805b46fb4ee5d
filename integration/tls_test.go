package integration

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
	"github.com/ferrysync/ferry/internal/tlsutil"
)

// tlsDir creates a CA and one agent certificate per id in a new directory,
// as `ferry tls ca create` and `ferry tls cert create` do.
func tlsDir(t *testing.T, ids ...string) string {
	t.Helper()
	dir := t.TempDir()
	ca, err := tlsutil.CreateCA("Ferry test CA")
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsutil.WritePair(ca, filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		writeAgentCert(t, dir, id)
	}
	return dir
}

// writeAgentCert writes (or replaces) id's certificate in dir, signed by
// dir's CA.
func writeAgentCert(t *testing.T, dir, id string) {
	t.Helper()
	ca, err := tlsutil.ReadPair(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := tlsutil.CreateAgentCert(ca, tlsutil.AgentCert{ClusterID: id, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, id+".pem"), filepath.Join(dir, id+"-key.pem")
	os.Remove(cert)
	os.Remove(key)
	if err := tlsutil.WritePair(p, cert, key); err != nil {
		t.Fatal(err)
	}
}

// withTLS runs the agent with its certificate from dir.
func withTLS(dir string) nodeOption {
	return configure(func(c *config.Config) {
		c.TLSCAFile = filepath.Join(dir, "ca.pem")
		c.TLSCertFile = filepath.Join(dir, c.ClusterID+".pem")
		c.TLSKeyFile = filepath.Join(dir, c.ClusterID+"-key.pem")
	})
}

// agentClient calls agents with id's certificate from dir and checks theirs.
func agentClient(t *testing.T, dir, id string) *http.Client {
	t.Helper()
	tr := &http.Transport{DialTLSContext: loadPair(t, dir, id).DialTLSContext(&net.Dialer{Timeout: 5 * time.Second})}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// handshake completes a TLS handshake with addr as cfg's client; with TLS
// 1.3 a refused client certificate shows only on the first read.
func handshake(addr string, cfg *tls.Config) (*tls.ConnectionState, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != nil {
		var ne net.Error
		if !(errors.As(err, &ne) && ne.Timeout()) {
			return nil, err
		}
	}
	cs := conn.ConnectionState()
	return &cs, nil
}

func TestTLSGroupReplicatesAndRefusesStrangers(t *testing.T) {
	dir := tlsDir(t, regions...)
	key := newGossipKey(t)
	nodes := replicationGroup(t, withTLS(dir), withEncrypt(key))
	sh := nodes[0]

	t.Run("replicates a repository", func(t *testing.T) {
		makeRepo(t, sh.url(), "", "tls", "files", "GENERIC")
		files := map[string][]byte{"/a.bin": readAllPatterned(1, 300<<10), "/b/c.txt": []byte("hello over TLS")}
		for p, c := range files {
			putFile(t, sh, "tls", "files", p, c, nil)
		}
		want := tree(t, sh, "tls", "files")
		f := follower(t, nodes)
		done := waitRun(t, f, startRun(t, f, repoSpec("tls", "files", "GENERIC", "beijing", "guangzhou")).ID, 60*time.Second)
		if done.State != "SUCCESS" {
			t.Fatalf("run ended %s: %s %+v", done.State, done.Error, done.Targets)
		}
		for _, n := range nodes[1:] {
			if err := sameTree(want, tree(t, n, "tls", "files")); err != nil {
				t.Fatalf("%s: %v", n.id(), err)
			}
		}
	})

	t.Run("links and received bytes over mutual TLS", func(t *testing.T) { tlsLinks(t, nodes) })

	t.Run("plain HTTP gets no HTTP answer", func(t *testing.T) {
		resp, err := http.Get("http://" + sh.a.HTTPAddr() + "/v1/health")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("plain HTTP answered %d", resp.StatusCode)
		}
	})

	t.Run("a certificate from another CA is refused on every port", func(t *testing.T) {
		other := tlsDir(t, "shanghai")
		stranger := &tls.Config{InsecureSkipVerify: true, GetClientCertificate: loadPair(t, other, "shanghai").GetClientCertificate}
		for port, addr := range map[string]string{"api": sh.a.HTTPAddr(), "raft": sh.a.RaftAddr()} {
			if _, err := handshake(addr, stranger); err == nil {
				t.Errorf("%s port accepted a client certificate from another CA", port)
			}
		}
		// Without a certificate: the API serves (curl has none), Raft does not.
		if _, err := handshake(sh.a.RaftAddr(), &tls.Config{InsecureSkipVerify: true}); err == nil {
			t.Error("raft port accepted a client without a certificate")
		}
		// And an agent refuses a server from another CA.
		if _, err := agentClient(t, other, "shanghai").Get(sh.url() + "/v1/health"); err == nil {
			t.Error("a client of another CA accepted the agent's server certificate")
		}
	})

	t.Run("routes for agents want an agent certificate", func(t *testing.T) { tlsAgentRoutes(t, sh, dir) })

	t.Run("keyring calls fan out over mutual TLS", func(t *testing.T) {
		ans := keyring(t, nodes[1], "GET", "", http.StatusOK)
		if ans.NumMembers != 3 || ans.Keys[key] != 3 {
			t.Fatalf("keyring: %+v", ans)
		}
		mustStatus(t, call(t, "GET", sh.url()+"/v1/internal/keyring", mgmtToken, nil), http.StatusForbidden, "/v1/internal/keyring without an agent certificate")
	})

	t.Run("a reloaded certificate serves new connections", func(t *testing.T) { tlsReload(t, nodes, dir) })
}

// tlsLinks checks the links and the received bytes over mutual TLS, and that
// the agents-only link and outbox routes want an agent certificate.
func tlsLinks(t *testing.T, nodes []*node) {
	sh := nodes[0]
	const sent = 300<<10 + int64(len("hello over TLS"))
	var ans linksAnswer
	getOK(t, nodes[2], "/v1/links", &ans)
	i := slices.IndexFunc(ans.Links, func(l linkStat) bool { return l.Source == "shanghai" && l.Target == "beijing" })
	if len(ans.Unreachable) != 0 || i < 0 || ans.Links[i].BytesTotal != sent {
		t.Fatalf("links %+v, want shanghai -> beijing with %d bytes", ans, sent)
	}
	// With TLS the source is named by the sender's certificate.
	if !strings.Contains(scrape(t, nodes[1]), `ferry_replication_received_bytes_total{source="shanghai"}`) {
		t.Error("beijing counts no bytes received from shanghai")
	}
	mustStatus(t, call(t, "GET", sh.url()+"/v1/agent/links", mgmtToken, nil), http.StatusForbidden, "/v1/agent/links without an agent certificate")
	mustStatus(t, call(t, "GET", sh.url()+"/v1/agent/outbox", mgmtToken, nil), http.StatusForbidden, "/v1/agent/outbox without an agent certificate")
}

// tlsAgentRoutes checks that the routes for agents want an agent certificate
// and take one with the token.
func tlsAgentRoutes(t *testing.T, sh *node, dir string) {
	plan := map[string]any{"project": "tls", "repo": "files", "objects": []any{}}
	r := call(t, "POST", sh.url()+"/v1/replica/plan", mgmtToken, plan)
	mustStatus(t, r, http.StatusForbidden, "management token without an agent certificate on /v1/replica/plan")
	mustStatus(t, call(t, "POST", sh.url()+"/v1/internal/apply", mgmtToken, map[string]any{}), http.StatusForbidden, "/v1/internal/apply without an agent certificate")
	req, _ := http.NewRequest("POST", sh.url()+"/v1/replica/plan", bytes.NewReader([]byte(`{"project":"tls","repo":"files","objects":[]}`)))
	req.Header.Set("X-Auth-Token", mgmtToken)
	resp, err := agentClient(t, dir, "beijing").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized {
		t.Fatalf("agent certificate and token refused: %d %s", resp.StatusCode, b)
	}
}

// tlsReload checks that a reloaded certificate serves new connections on the
// API and Raft ports, and that the group carries on.
func tlsReload(t *testing.T, nodes []*node, dir string) {
	sh := nodes[0]
	writeAgentCert(t, dir, "shanghai")
	if err := sh.a.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	want := serialOf(t, filepath.Join(dir, "shanghai.pem"))
	client := &tls.Config{InsecureSkipVerify: true, GetClientCertificate: loadPair(t, dir, "beijing").GetClientCertificate}
	for port, addr := range map[string]string{"api": sh.a.HTTPAddr(), "raft": sh.a.RaftAddr()} {
		cs, err := handshake(addr, client)
		if err != nil {
			t.Fatalf("%s: %v", port, err)
		}
		if got := cs.PeerCertificates[0].SerialNumber.String(); got != want {
			t.Errorf("%s port serves serial %s, want the reloaded %s", port, got, want)
		}
	}
	sameLeader(t, 30*time.Second, nodes...) // the group carries on over the new certificate
}

func loadPair(t *testing.T, dir, id string) *tlsutil.Holder {
	t.Helper()
	h, err := tlsutil.Load(tlsutil.Files{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, id+".pem"), Key: filepath.Join(dir, id+"-key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serialOf(t *testing.T, certFile string) string {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.String()
}

// `ferry agent` reloads its certificate on SIGHUP: a new connection gets
// the certificate written to disk since, from the same process.
func TestSIGHUPReloadsTheCertificate(t *testing.T) {
	bin := ferryBinary(t)
	dir := tlsDir(t, "shanghai", "beijing")
	log := &syncBuffer{}
	cmd := exec.Command(bin, "agent", "--cluster-id", "shanghai", "--data-dir", t.TempDir(), "--bootstrap-expect", "1",
		"--http-port", "0", "--gossip-port", "0", "--raft-port", "0", "--log-format", "json",
		"--tls-ca-file", filepath.Join(dir, "ca.pem"), "--tls-cert-file", filepath.Join(dir, "shanghai.pem"), "--tls-key-file", filepath.Join(dir, "shanghai-key.pem"))
	cmd.Env = append(os.Environ(), "FERRY_TOKEN="+mgmtToken)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var addr string
	eventually(t, 30*time.Second, "the agent's start line", func() error {
		for _, line := range strings.Split(log.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "agent started" {
				addr, _ = rec["http"].(string)
				return nil
			}
		}
		return fmt.Errorf("no start line yet:\n%s", log.String())
	})
	client := &tls.Config{InsecureSkipVerify: true, GetClientCertificate: loadPair(t, dir, "beijing").GetClientCertificate}
	served := func() string {
		cs, err := handshake(addr, client)
		if err != nil {
			t.Fatal(err)
		}
		return cs.PeerCertificates[0].SerialNumber.String()
	}
	if got, want := served(), serialOf(t, filepath.Join(dir, "shanghai.pem")); got != want {
		t.Fatalf("serves serial %s, want %s", got, want)
	}
	writeAgentCert(t, dir, "shanghai")
	want := serialOf(t, filepath.Join(dir, "shanghai.pem"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the reloaded certificate served", func() error {
		if got := served(); got != want {
			return fmt.Errorf("serial %s, want %s", got, want)
		}
		return nil
	})
}
