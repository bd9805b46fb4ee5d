package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A run that ends while the group has no leader for longer than LeaderWait
// keeps its end: the executor holds the command until a leader takes it,
// instead of leaving the run RUNNING to be executed a second time (whose
// counters would then be the record of a pass that did not happen).
func TestARunsEndOutlastsAnElectionLongerThanLeaderWait(t *testing.T) {
	const leaderWait = time.Second
	nodes := replicationGroup(t, withLogs(), withLeaderWait(leaderWait))
	sh, bj, gz := nodes[0], nodes[1], nodes[2]
	slowRepo(t, sh)
	spec := repoSpec("proj", "r", "GENERIC", "beijing")
	spec["setting"].(map[string]any)["rateLimit"] = 2 << 20
	r := startRun(t, sh, spec)
	waitSending(t, sh, r.ID, "beijing", 1<<20)

	// Shanghai alone: its target is gone and the group has no quorum.
	bj.stop()
	gz.stop()
	eventually(t, 90*time.Second, "the run's end held past LeaderWait", func() error {
		first, last, n := heldCommands(sh.logs.String(), "run.finish")
		if n == 0 || last.Sub(first) < 3*leaderWait {
			return fmt.Errorf("run.finish held %d times over %s", n, last.Sub(first))
		}
		return nil
	})
	bj.restart()
	gz.restart()
	sameLeader(t, 30*time.Second, nodes...)

	ended := waitRun(t, sh, r.ID, 60*time.Second)
	if ended.State != "FAILED" || !strings.Contains(ended.target(t, "beijing").Error, "unreachable") {
		t.Fatalf("the run whose target went away: %s %+v; want FAILED, beijing unreachable", ended.State, ended.Targets)
	}
	if strings.Contains(sh.logs.String(), `"msg":"run end not recorded"`) {
		t.Fatal("the executor gave up recording the run's end")
	}
}

// heldCommands reads an agent's JSON log for the retries of a proposal of
// the given command type: the first and last time and how many.
func heldCommands(log, command string) (first, last time.Time, n int) {
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct {
			Time    time.Time `json:"time"`
			Msg     string    `json:"msg"`
			Command string    `json:"command"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Msg != "write not accepted yet, retrying" || e.Command != command {
			continue
		}
		if n == 0 {
			first = e.Time
		}
		last, n = e.Time, n+1
	}
	return first, last, n
}
