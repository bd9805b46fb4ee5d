package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procAgent is `ferry agent` running as its own process, so that the test can
// freeze it (SIGSTOP): a hung host, whose sockets accept but never answer.
type procAgent struct {
	id     string
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan error
	http   string
	gossip string
}

func startAgentProcess(t *testing.T, bin, id string, join ...string) *procAgent {
	t.Helper()
	args := []string{"agent", "--cluster-id", id, "--data-dir", t.TempDir(),
		"--http-port", "0", "--gossip-port", "0", "--raft-port", "0", "--bootstrap-expect", "3",
		"--log-format", "json", "--server-stabilization-time", "1s", "--reconcile-interval", "500ms",
		"--leader-wait", "20s"} // the test asserts the write succeeds, not how fast
	for _, j := range join {
		args = append(args, "--join", j)
	}
	p := &procAgent{id: id, cmd: exec.Command(bin, args...), log: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), "FERRY_TOKEN="+mgmtToken)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	eventually(t, 30*time.Second, id+" logs its addresses", func() error {
		sc := bufio.NewScanner(strings.NewReader(p.log.String()))
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "agent started" {
				p.http, _ = rec["http"].(string)
				p.gossip, _ = rec["gossip"].(string)
				return nil
			}
		}
		return fmt.Errorf("no start line yet:\n%s", p.log.String())
	})
	return p
}

func (p *procAgent) url() string { return "http://" + p.http }

func leaderAt(url string) (leaderInfo, error) {
	r, err := tryCall("GET", url+"/v1/status/leader", bearer(mgmtToken), nil)
	if err != nil {
		return leaderInfo{}, err
	}
	if r.status != http.StatusOK {
		return leaderInfo{}, fmt.Errorf("%d %s", r.status, r.body)
	}
	var l leaderInfo
	return l, json.Unmarshal(r.body, &l)
}

// agreedLeader waits until all agents name the same leader, other than old.
func agreedLeader(t *testing.T, old string, agents ...*procAgent) leaderInfo {
	t.Helper()
	var got leaderInfo
	eventually(t, 30*time.Second, "agents agree on a leader", func() error {
		for i, p := range agents {
			l, err := leaderAt(p.url())
			if err != nil {
				return fmt.Errorf("%s: %v", p.id, err)
			}
			if l.ID == old || (i > 0 && l != got) {
				return fmt.Errorf("%s says %+v", p.id, l)
			}
			got = l
		}
		return nil
	})
	return got
}

// A write through a follower while the leader's host hangs (it accepts
// connections but never answers) must reach the next leader, not wait on the
// frozen one until it gives up.
func TestWriteSucceedsWhileLeaderHangs(t *testing.T) {
	bin := ferryBinary(t)
	first := startAgentProcess(t, bin, "shanghai")
	agents := []*procAgent{first,
		startAgentProcess(t, bin, "beijing", first.gossip),
		startAgentProcess(t, bin, "guangzhou", first.gossip)}
	leader := agreedLeader(t, "", agents...)

	var frozen *procAgent
	var survivors []*procAgent
	for _, p := range agents {
		if p.id == leader.ID {
			frozen = p
		} else {
			survivors = append(survivors, p)
		}
	}
	if err := frozen.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Issued at once: the follower still believes the frozen agent leads.
	r := call(t, "POST", survivors[0].url()+"/v1/acl/tokens", mgmtToken, map[string]string{"description": "during hang", "policy": "read"})
	if r.status != http.StatusCreated {
		t.Fatalf("write through %s while the leader hangs: %d %s", survivors[0].id, r.status, r.body)
	}
	var tok token
	r.decode(t, &tok)
	next := agreedLeader(t, frozen.id, survivors...)

	// The frozen agent wakes up, follows the new leader and catches up.
	if err := frozen.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if got := agreedLeader(t, frozen.id, agents...); got != next {
		t.Fatalf("after the thaw the leader is %+v, want %+v", got, next)
	}
	eventually(t, 30*time.Second, "thawed agent has the write", func() error {
		r := call(t, "GET", frozen.url()+"/v1/acl/tokens", mgmtToken, nil)
		if !strings.Contains(string(r.body), tok.AccessorID) {
			return fmt.Errorf("token %s missing", tok.AccessorID)
		}
		return nil
	})

	// SIGTERM to all: each stops, staying a voter, and exits 0 (and, built with
	// -race, a race anywhere would make it exit 66).
	for _, p := range agents {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range agents {
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("%s exited with %v after SIGTERM:\n%s", p.id, err, p.log.String())
			}
			p.exited <- err // for the cleanup
		case <-time.After(60 * time.Second):
			// A goroutine dump (SIGQUIT) beside its log says where it hangs.
			_ = p.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case err := <-p.exited:
				p.exited <- err // for the cleanup
			case <-time.After(5 * time.Second):
			}
			t.Fatalf("%s did not exit within 60s of SIGTERM:\n%s", p.id, p.log.String())
		}
	}
}
