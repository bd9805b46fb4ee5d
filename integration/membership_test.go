package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
)

// electionBound is how long a group that has a majority may take to elect
// a leader here: raft's election timeout (1 s on lan, randomised to 2x)
// plus a restart, with room for -race on a shared machine.
const electionBound = 20 * time.Second

// voterIDs is the ids of the voters in n's Raft configuration.
func voterIDs(t testing.TB, n *node) []string {
	t.Helper()
	var out []string
	for _, p := range peersOf(t, n) {
		if p.Suffrage == "voter" {
			out = append(out, p.ID)
		}
	}
	return out
}

// TestMembershipFullStopKeepsVoters: SIGTERM on every agent keeps them all
// in the Raft configuration, so any two of the three elect a leader.
func TestMembershipFullStopKeepsVoters(t *testing.T) {
	nodes := startGroup(t, regions)
	l := sameLeader(t, 30*time.Second, nodes...)
	eventually(t, 30*time.Second, "three voters", func() error {
		if v := voterIDs(t, nodeByID(nodes, l.ID)); len(v) != 3 {
			return fmt.Errorf("voters %v", v)
		}
		return nil
	})
	for _, n := range nodes {
		n.terminate()
	}
	// Bring back two, the third never returns.
	for _, n := range nodes[1:] {
		n.restart()
	}
	back := nodes[1:]
	l = sameLeader(t, electionBound, back...)
	if l.ID == nodes[0].id() {
		t.Fatalf("leader %s is the agent that is down", l.ID)
	}
	if v := voterIDs(t, nodeByID(back, l.ID)); len(v) != 3 {
		t.Fatalf("voters after the restart = %v, want all three (the down one stays until the dead-server timeout)", v)
	}
	createToken(t, back[0], mgmtToken, "read") // the group writes
	// The third comes back as the voter it was.
	nodes[0].restart()
	sameLeader(t, electionBound, nodes...)
	if v := voterIDs(t, nodes[0]); len(v) != 3 {
		t.Fatalf("voters after the full restart = %v", v)
	}
}

// TestMembershipPeersJSONRecovery: with a majority lost for good, the
// operator's peers.json naming the survivor makes it a group of one.
func TestMembershipPeersJSONRecovery(t *testing.T) {
	nodes := startGroup(t, regions)
	sameLeader(t, 30*time.Second, nodes...)
	tok := createToken(t, nodes[0], mgmtToken, "read")
	for _, n := range nodes {
		n.terminate()
	}
	survivor := nodes[0]
	peers := []map[string]any{{"id": survivor.id(), "address": fmt.Sprintf("127.0.0.1:%d", survivor.cfg.RaftPort), "non_voter": false}}
	b, _ := json.Marshal(peers)
	file := filepath.Join(survivor.cfg.DataDir, "raft", "peers.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	survivor.restart()
	if l := sameLeader(t, electionBound, survivor); l.ID != survivor.id() {
		t.Fatalf("leader = %s, want the survivor", l.ID)
	}
	if v := voterIDs(t, survivor); len(v) != 1 || v[0] != survivor.id() {
		t.Fatalf("voters after recovery = %v", v)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("peers.json still there after recovery: %v", err)
	}
	if _, err := os.Stat(file + ".recovered"); err != nil {
		t.Fatalf("peers.json not kept as .recovered: %v", err)
	}
	// The state survived: the token made before works, and the group writes.
	if r := call(t, "GET", survivor.url()+"/v1/clusters", tok.Secret, nil); r.status != http.StatusOK {
		t.Fatalf("token from before the recovery: %d %s", r.status, r.body)
	}
	createToken(t, survivor, mgmtToken, "read")
}

// TestMembershipLeaveOnTerminate: with --leave-on-terminate, SIGTERM
// removes the agent from the Raft configuration, as before.
func TestMembershipLeaveOnTerminate(t *testing.T) {
	nodes := startGroup(t, regions, configure(func(c *config.Config) { c.LeaveOnTerminate = true }))
	l := sameLeader(t, 30*time.Second, nodes...)
	leader := nodeByID(nodes, l.ID)
	eventually(t, 30*time.Second, "three voters", func() error {
		if v := voterIDs(t, leader); len(v) != 3 {
			return fmt.Errorf("voters %v", v)
		}
		return nil
	})
	gone := followerOf(nodes, l.ID)
	gone.terminate()
	if v := voterIDs(t, leader); len(v) != 2 || strings.Contains(strings.Join(v, ","), gone.id()) {
		t.Fatalf("voters after a leave on terminate = %v", v)
	}
}

// TestMembershipLeaveThroughAPI: PUT /v1/agent/leave (ferry leave) removes
// the agent and stops it.
func TestMembershipLeaveThroughAPI(t *testing.T) {
	nodes := startGroup(t, regions)
	l := sameLeader(t, 30*time.Second, nodes...)
	leader := nodeByID(nodes, l.ID)
	gone := followerOf(nodes, l.ID)
	if r := call(t, "PUT", gone.url()+"/v1/agent/leave", mgmtToken, nil); r.status != http.StatusOK {
		t.Fatalf("leave: %d %s", r.status, r.body)
	}
	select {
	case <-gone.a.Left():
		gone.a = nil
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not stop after leaving")
	}
	eventually(t, 10*time.Second, "the leaver out of the configuration", func() error {
		if v := voterIDs(t, leader); strings.Contains(strings.Join(v, ","), gone.id()) {
			return fmt.Errorf("voters %v", v)
		}
		return nil
	})
}

// TestReadyRestartedFollowerNeverAnswersFromOldState: until it has caught up
// with the leader, a restarted follower answers 503 with Retry-After, never
// 401 for a valid token nor an empty list.
func TestReadyRestartedFollowerNeverAnswersFromOldState(t *testing.T) {
	nodes := startGroup(t, regions)
	l := sameLeader(t, 30*time.Second, nodes...)
	leader := nodeByID(nodes, l.ID)
	before := createToken(t, leader, mgmtToken, "read")
	f := followerOf(nodes, l.ID)
	f.terminate()
	for range 200 {
		createToken(t, leader, mgmtToken, "read")
	}
	after := createToken(t, leader, mgmtToken, "read")
	f.restart()
	var refused, answered int
	eventually(t, 30*time.Second, "the restarted follower ready and answering both tokens", func() error {
		okBoth := true
		for _, tok := range []token{before, after} {
			r := call(t, "GET", f.url()+"/v1/clusters", tok.Secret, nil)
			switch r.status {
			case http.StatusServiceUnavailable:
				refused++
				if r.header.Get("Retry-After") == "" || !strings.Contains(r.errorMessage(), "not ready") {
					t.Fatalf("503 without Retry-After or reason: %v %s", r.header, r.body)
				}
				okBoth = false
			case http.StatusOK:
				answered++
				var cs []json.RawMessage
				r.decode(t, &cs)
				if len(cs) != 3 {
					t.Fatalf("a ready follower lists %d clusters: %s", len(cs), r.body)
				}
			default:
				t.Fatalf("restarted follower answered %d %s (want 503 not ready or 200)", r.status, r.body)
			}
		}
		if !okBoth {
			return errors.New("not ready yet")
		}
		return nil
	})
	if r := call(t, "GET", f.url()+"/v1/health", "", nil); r.status != http.StatusOK {
		t.Fatalf("health of the caught-up follower: %d %s", r.status, r.body)
	}
	t.Logf("while catching up: %d refused with 503, %d answered", refused, answered)
}

// TestReadyFollowerCutOffCatchesUpAgain: a follower that has heard from no
// leader for longer than the leader wait is not ready until it has caught
// up again.
func TestReadyFollowerCutOffCatchesUpAgain(t *testing.T) {
	nodes := startGroup(t, regions, withLeaderWait(time.Second))
	l := sameLeader(t, 30*time.Second, nodes...)
	alone := followerOf(nodes, l.ID)
	var others []*node
	for _, n := range nodes {
		if n != alone {
			n.terminate()
			others = append(others, n)
		}
	}
	eventually(t, 30*time.Second, "the cut-off follower not ready", func() error {
		r := call(t, "GET", alone.url()+"/v1/health", "", nil)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "no_leader") {
			return fmt.Errorf("health %d %s", r.status, r.body)
		}
		return nil
	})
	for _, n := range others {
		n.restart()
	}
	sameLeader(t, electionBound, nodes...) // every agent ready again
}

// TestReadyFullRaftDisk: a follower whose Raft log cannot be appended is not
// ready (health 503 with the reason, authenticated calls 503, metric 0)
// while /metrics stays open, and is ready again once appends succeed.
func TestReadyFullRaftDisk(t *testing.T) {
	nodes := startGroup(t, regions)
	l := sameLeader(t, 30*time.Second, nodes...)
	leader := nodeByID(nodes, l.ID)
	f := followerOf(nodes, l.ID)
	f.a.InjectRaftLogFault(errors.New("write raft.db: no space left on device"))
	eventually(t, 20*time.Second, "follower not ready", func() error {
		createToken(t, leader, mgmtToken, "read") // something to append
		r := call(t, "GET", f.url()+"/v1/health", "", nil)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "raft_log_append_failing") {
			return fmt.Errorf("health %d %s", r.status, r.body)
		}
		return nil
	})
	if r := call(t, "GET", f.url()+"/v1/members", mgmtToken, nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("authenticated call to a follower with a broken log: %d %s", r.status, r.body)
	}
	m := call(t, "GET", f.url()+"/metrics", "", nil)
	if m.status != http.StatusOK || !strings.Contains(string(m.body), "ferry_agent_ready 0") ||
		!strings.Contains(string(m.body), `ferry_agent_ready_reason{reason="raft_log_append_failing"} 1`) {
		t.Fatalf("metrics of the broken follower: %d, ready lines missing", m.status)
	}
	f.a.InjectRaftLogFault(nil)
	eventually(t, 20*time.Second, "follower ready again", func() error {
		createToken(t, leader, mgmtToken, "read")
		if r := call(t, "GET", f.url()+"/v1/health", "", nil); r.status != http.StatusOK {
			return fmt.Errorf("health %d %s", r.status, r.body)
		}
		return nil
	})
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory for the test,
// unmounted after everything the test starts later has stopped; it skips the
// test where it cannot (not root, no mount).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes zeros to a file in dir until its disk is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			return path // ENOSPC: full
		}
	}
}

// TestReadyRaftDirOnAFullDisk: --raft-dir puts the Raft log on a disk of
// its own (a small tmpfs here); filled up, that agent is not ready, and
// ready again once space is freed.
func TestReadyRaftDirOnAFullDisk(t *testing.T) {
	raftDir := mountTmpfs(t, 16<<20)
	first := startNode(t, regions[0], withBootstrapExpect(3))
	nodes := []*node{first, startNode(t, regions[1], withBootstrapExpect(3), withJoin(first)),
		startNode(t, regions[2], withBootstrapExpect(3), withJoin(first), configure(func(c *config.Config) { c.RaftDir = raftDir }))}
	l := sameLeader(t, 30*time.Second, nodes...)
	leader := nodeByID(nodes, l.ID)
	small := nodes[2]
	if _, err := os.Stat(filepath.Join(raftDir, "raft.db")); err != nil {
		t.Fatalf("raft log not in --raft-dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(small.cfg.DataDir, "raft")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a raft dir under the data dir as well: %v", err)
	}
	filler := fill(t, raftDir)
	eventually(t, 20*time.Second, "agent on the full disk not ready", func() error {
		r := call(t, "GET", small.url()+"/v1/health", "", nil)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "disk_full") {
			return fmt.Errorf("health %d %s", r.status, r.body)
		}
		return nil
	})
	if r := call(t, "GET", small.url()+"/v1/clusters", mgmtToken, nil); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("authenticated call to the agent on the full disk: %d %v", r.status, r.header)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "ready again with space freed", func() error {
		if leader != small {
			createToken(t, leader, mgmtToken, "read") // an append to heal a failed one
		}
		if r := call(t, "GET", small.url()+"/v1/health", "", nil); r.status != http.StatusOK {
			return fmt.Errorf("health %d %s", r.status, r.body)
		}
		return nil
	})
}
