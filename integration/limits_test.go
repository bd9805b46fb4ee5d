package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
)

// idleConns is how many connections one client holds open to the leader.
const idleConns = 5000

// raiseNoFile lifts the soft open-file limit to the hard one, and skips the
// test when even that cannot hold need descriptors.
func raiseNoFile(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot read RLIMIT_NOFILE: %v", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Cur < need {
		t.Skipf("RLIMIT_NOFILE is %d (hard %d); this test needs %d: raise it with ulimit -n", lim.Cur, lim.Max, need)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(fds)
}

// One client holding thousands of idle connections to the leader (from an
// address of its own, 127.0.0.77) gets most of them refused, and the group
// goes on: a write through a follower succeeds (issue 15 defect 1).
func TestLimitIdleConnectionsDoNotStopWritesThroughAFollower(t *testing.T) {
	raiseNoFile(t, idleConns+2000)
	const perClient = 100
	nodes := startGroup(t, []string{"la", "lb", "lc"}, configure(func(c *config.Config) { c.HTTPMaxConnsPerClient = perClient }))
	leader := nodeByID(nodes, sameLeader(t, 30*time.Second, nodes...).ID)
	follower := followerOf(nodes, leader.id())
	before := openFDs(t)

	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 77)}, Timeout: 5 * time.Second}
	conns := make([]net.Conn, 0, idleConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range idleConns {
		c, err := dialer.Dial("tcp", leader.a.HTTPAddr())
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	// The leader keeps at most perClient of them: its gauge says so, and
	// the process (client sockets included) holds no more than the client's
	// own sockets and that many.
	eventually(t, 20*time.Second, "the leader refuses the connections over the per-client limit", func() error {
		open, refused := connMetrics(t, leader)
		if open > perClient+20 || refused < idleConns-perClient-20 {
			return fmt.Errorf("open %d, refused %d", open, refused)
		}
		return nil
	})
	if grown := openFDs(t) - before; grown > idleConns+perClient+500 {
		t.Fatalf("descriptors grew by %d for %d client sockets", grown, idleConns)
	}
	tok := createToken(t, follower, mgmtToken, "read")
	if r := call(t, "GET", leader.url()+"/v1/acl/tokens", mgmtToken, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), tok.AccessorID) {
		t.Fatalf("the leader does not list the token written through %s: %d %s", follower.id(), r.status, r.body)
	}
}

var metricLine = regexp.MustCompile(`(?m)^(ferry_http_connections_open|ferry_http_connections_refused_total)(\{[^}]*\})? ([0-9.e+]+)$`)

// connMetrics reads the connection gauge and the refusals (all reasons).
func connMetrics(t *testing.T, n *node) (open, refused int) {
	t.Helper()
	r := call(t, "GET", n.url()+"/metrics", "", nil)
	for _, m := range metricLine.FindAllStringSubmatch(string(r.body), -1) {
		v, _ := strconv.ParseFloat(m[3], 64)
		if m[1] == "ferry_http_connections_open" {
			open += int(v)
		} else {
			refused += int(v)
		}
	}
	return open, refused
}

// stalledRequest writes head (and body) on a fresh connection and reads the
// answer, with a client deadline well above the agent's timeouts.
func stalledRequest(t *testing.T, n *node, head, body string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", n.a.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(90 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", strings.SplitN(head, "\r\n", 2)[0], err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// A request without a token that declares a body and never sends it is
// answered 401 at once, not after the body (it was held ≥ 144 s).
func TestLimitAnUnauthenticatedBodyIs401BeforeItIsRead(t *testing.T) {
	n := startNode(t, "lu", withBootstrapExpect(1))
	waitReady(t, 30*time.Second, n)
	for _, target := range []string{"POST /v1/tasks", "PUT /generic/demo/files/a.bin", "PATCH /v1/replica/uploads/" + strings.Repeat("a", 64) + "?size=100&offset=0"} {
		resp := stalledRequest(t, n, target+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n", "")
		if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
			t.Errorf("%s without a token or body: %d (close %v), want 401 and the connection closed", target, resp.StatusCode, resp.Close)
		}
	}
}

// A body that stops sending is cut with 408 on each upload path: the
// generic artifact, the replication protocol's upload and an OCI blob.
func TestLimitAnIdleUploadIs408(t *testing.T) {
	n := startNode(t, "li", withBootstrapExpect(1), configure(func(c *config.Config) { c.HTTPBodyReadTimeout = 300 * time.Millisecond }))
	waitReady(t, 30*time.Second, n)
	makeRepo(t, n.url(), "", "lim", "files", "GENERIC")
	makeRepo(t, n.url(), "", "lim", "img", "DOCKER")
	loc := ociOK(t, n, "POST", "/v2/lim/img/web/blobs/uploads/", nil, nil, http.StatusAccepted).header.Get("Location")
	for _, target := range []string{
		"PUT /generic/lim/files/a.bin",
		"PATCH /v1/replica/uploads/" + strings.Repeat("a", 64) + "?size=100&offset=0",
		"PATCH " + loc,
	} {
		head := target + " HTTP/1.1\r\nHost: x\r\nX-Auth-Token: " + mgmtToken + "\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n"
		if resp := stalledRequest(t, n, head, "only ten b"); resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("%s idle after 10 of 100 bytes: %d, want 408", target, resp.StatusCode)
		}
	}
}

// A huge pageNumber on every list route is a page (empty) or a 400, never
// a 5xx (it overflowed the offset and panicked, issue 15 defect 6).
func TestLimitAHugePageNumberIsNot5xx(t *testing.T) {
	n := startNode(t, "lp", withBootstrapExpect(1))
	waitReady(t, 30*time.Second, n)
	makeRepo(t, n.url(), "", "demo", "files", "GENERIC")
	huge := "pageNumber=9223372036854775807&pageSize=1000"
	for _, path := range []string{
		"/v1/runs?" + huge,
		"/v1/tasks?" + huge,
		"/v1/projects/demo/repos/files/nodes?path=/&" + huge,
		"/v1/projects/demo/repos/files/packages?" + huge,
		"/v1/projects/demo/repos/files/packages/versions?packageKey=k&" + huge,
		"/replication/api/task/page/demo?" + huge,
	} {
		if r := call(t, "GET", n.url()+path, mgmtToken, nil); r.status >= 500 {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
}

// Repeated wrong tokens from one address are answered 429 with
// Retry-After; the management token from the same address still works.
func TestLimitRepeatedBadTokensAre429(t *testing.T) {
	n := startNode(t, "lt", withBootstrapExpect(1))
	waitReady(t, 30*time.Second, n)
	var last response
	for range 40 {
		if last = call(t, "GET", n.url()+"/v1/tasks", "wrong-token", nil); last.status == http.StatusTooManyRequests {
			break
		}
		if last.status != http.StatusUnauthorized {
			t.Fatalf("wrong token: %d %s, want 401 then 429", last.status, last.body)
		}
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("40 wrong tokens: still %d", last.status)
	}
	if s, err := strconv.Atoi(last.header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q", last.header.Get("Retry-After"))
	}
	mustStatus(t, call(t, "GET", n.url()+"/v1/tasks", mgmtToken, nil), http.StatusOK, "the management token from the limited address")
	// Every dialect answers the limit as a 429 of its own shape.
	for _, path := range []string{"/v2/", "/v2/manage/namespaces", "/pulp/api/v2/repositories/", "/replication/api/task/page/demo"} {
		r := call(t, "GET", n.url()+path, "wrong-token", nil)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Errorf("GET %s with a wrong token from a limited address: %d (Retry-After %q), want 429", path, r.status, r.header.Get("Retry-After"))
		}
	}
}

// A target whose store disk is full answers 507, and the run fails that
// target at once with that reason, without sending the set again (a
// 200 MiB set once sent 388 MB before failing, issue 15 defect 7).
func TestLimitAFullTargetFailsItsRunWithoutResending(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "beijing", "store")
	if err := os.MkdirAll(store, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", store, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (needs root): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(store, syscall.MNT_DETACH) })
	sh := startNode(t, "shanghai", withBootstrapExpect(2))
	bj := startNode(t, "beijing", withBootstrapExpect(2), withJoin(sh), configure(func(c *config.Config) { c.DataDir = filepath.Join(dir, "beijing") }))
	waitReady(t, 30*time.Second, sh, bj)
	sameLeader(t, 30*time.Second, sh, bj)
	eventually(t, 30*time.Second, "shanghai knows beijing", func() error {
		var cs []struct{}
		getOK(t, sh, "/v1/clusters", &cs)
		if len(cs) != 2 {
			return fmt.Errorf("%d clusters", len(cs))
		}
		return nil
	})
	makeRepo(t, sh.url(), "", "proj", "big", "GENERIC")
	makeRepo(t, bj.url(), "", "proj", "big", "GENERIC")
	const files, size = 12, 2 << 20
	for i := range files {
		putFile(t, sh, "proj", "big", fmt.Sprintf("/f%02d.bin", i), readAllPatterned(uint64(i), size), nil)
	}
	r := waitRun(t, sh, startRun(t, sh, repoSpec("proj", "big", "GENERIC", "beijing")).ID, 2*time.Minute)
	bjt := r.target(t, "beijing")
	if r.State != "FAILED" || bjt.State != "FAILED" || !strings.Contains(strings.ToLower(bjt.Error+r.Error), "insufficient storage") {
		t.Fatalf("run to a full target: %s %q, beijing %+v; want FAILED for insufficient storage", r.State, r.Error, bjt)
	}
	if bjt.BytesSent >= files*size {
		t.Fatalf("%d bytes sent to a target with 8 MiB for a %d-byte set: resent", bjt.BytesSent, files*size)
	}
}
