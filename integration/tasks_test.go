package integration

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type taskView struct {
	Key                 string    `json:"key"`
	ID                  string    `json:"id"`
	Name                string    `json:"name"`
	Enabled             bool      `json:"enabled"`
	LastExecutionStatus string    `json:"lastExecutionStatus"`
	ExecutionTimes      int64     `json:"executionTimes"`
	NextExecutionTime   time.Time `json:"nextExecutionTime"`
	RemoteClusters      []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"remoteClusters"`
}

type taskRun struct {
	ID      string    `json:"id"`
	State   string    `json:"state"`
	Trigger string    `json:"trigger"`
	Slot    time.Time `json:"slot"`
}

func taskBody(name, strategy string, plan map[string]any, targets ...string) map[string]any {
	b := repoSpec("proj", "r", "GENERIC", targets...)
	delete(b, "sourceClusterId")
	b["sourceClusterId"] = "shanghai"
	b["name"] = name
	b["replicaType"] = "SCHEDULED"
	b["setting"].(map[string]any)["executionStrategy"] = strategy
	b["setting"].(map[string]any)["executionPlan"] = plan
	return b
}

func createTask(t testing.TB, n *node, body map[string]any) taskView {
	t.Helper()
	r := call(t, "POST", n.url()+"/v1/tasks", mgmtToken, body)
	mustStatus(t, r, http.StatusCreated, "create task")
	var v taskView
	r.decode(t, &v)
	return v
}

// taskRuns lists a task's runs, oldest slot first.
func taskRuns(t testing.TB, n *node, key string) []taskRun {
	t.Helper()
	var p struct {
		Records []taskRun `json:"records"`
	}
	getOK(t, n, "/v1/tasks/"+key+"/runs?pageSize=1000", &p)
	slices.Reverse(p.Records)
	return p.Records
}

func TestImmediateTaskRunsOnceAndCronTaskFiresEverySlot(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	putFile(t, sh, "proj", "r", "/a.txt", []byte("a"), nil)
	f := follower(t, nodes)

	now := createTask(t, f, taskBody("now", "IMMEDIATELY", map[string]any{"executeImmediately": true}, "beijing"))
	if now.Key == "" || len(now.Key) != 32 || len(now.RemoteClusters) != 1 || now.RemoteClusters[0].Name != "Region beijing" {
		t.Fatalf("created task %+v", now)
	}
	eventually(t, 30*time.Second, "the IMMEDIATELY task ran", func() error {
		var v taskView
		getOK(t, f, "/v1/tasks/"+now.Key, &v)
		if v.LastExecutionStatus != "SUCCESS" || v.ExecutionTimes != 1 {
			return fmt.Errorf("%+v", v)
		}
		return nil
	})
	if got := tree(t, bj, "proj", "r"); len(got) != 1 {
		t.Fatalf("beijing after the task: %v", got)
	}
	// A name is unique within its project.
	r := call(t, "POST", f.url()+"/v1/tasks", mgmtToken, taskBody("now", "IMMEDIATELY", map[string]any{"executeImmediately": true}, "beijing"))
	mustStatus(t, r, http.StatusConflict, "duplicate name")

	cron := createTask(t, sh, taskBody("every2s", "CRON_EXPRESSION", map[string]any{"cronExpression": "*/2 * * * * ?"}, "beijing", "guangzhou"))
	eventually(t, 30*time.Second, "three cron slots fired", func() error {
		if runs := taskRuns(t, sh, cron.Key); len(runs) < 3 {
			return fmt.Errorf("%d runs", len(runs))
		}
		return nil
	})
	runs := taskRuns(t, sh, cron.Key)
	for i, r := range runs {
		if r.Trigger != "SCHEDULED" || r.Slot.Second()%2 != 0 || r.Slot.Nanosecond() != 0 {
			t.Fatalf("run %d: %+v", i, r)
		}
		if i > 0 && r.Slot.Sub(runs[i-1].Slot) != 2*time.Second {
			t.Fatalf("slots %s then %s", runs[i-1].Slot, r.Slot)
		}
	}
	leader := nodeByID(nodes, sameLeader(t, 10*time.Second, nodes...).ID)
	m := call(t, "GET", leader.url()+"/metrics", "", nil)
	for _, series := range []string{`ferry_scheduler_fires_total{result="started"}`, `ferry_scheduler_lag_seconds_count`, `ferry_tasks{state="enabled"} 2`} {
		if !strings.Contains(string(m.body), series) {
			t.Errorf("leader's metrics lack %s", series)
		}
	}
	// Disabled, it never fires again.
	mustStatus(t, call(t, "POST", f.url()+"/v1/tasks/"+cron.Key+"/disable", mgmtToken, nil), http.StatusOK, "disable")
	var v taskView
	getOK(t, f, "/v1/tasks/"+cron.Key, &v)
	if v.Enabled || !v.NextExecutionTime.IsZero() {
		t.Fatalf("disabled task %+v", v)
	}
	before := len(taskRuns(t, sh, cron.Key))
	// Absence can only be watched for: two periods, polling.
	deadline := time.Now().Add(4500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if n := len(taskRuns(t, sh, cron.Key)); n > before {
			t.Fatalf("a disabled task fired: %d runs, was %d", n, before)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestSlotDueWhileTheRunIsGoingIsSkipped(t *testing.T) {
	nodes := replicationGroup(t)
	sh := nodes[0]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	putFile(t, sh, "proj", "r", "/big.bin", readAllPatterned(5, 6<<20), nil)
	body := taskBody("slow", "CRON_EXPRESSION", map[string]any{"cronExpression": "* * * * * ?"}, "beijing")
	body["setting"].(map[string]any)["rateLimit"] = 2 << 20 // ~3 s per run, a slot every second
	task := createTask(t, sh, body)
	eventually(t, 30*time.Second, "a skipped slot", func() error {
		for _, r := range taskRuns(t, sh, task.Key) {
			if r.State == "SKIPPED" {
				return nil
			}
		}
		return fmt.Errorf("no SKIPPED run yet")
	})
	mustStatus(t, call(t, "POST", sh.url()+"/v1/tasks/"+task.Key+"/disable", mgmtToken, nil), http.StatusOK, "disable")
	runs := taskRuns(t, sh, task.Key)
	going := 0
	for _, r := range runs {
		if r.State == "RUNNING" || r.State == "WAITING" {
			going++
		}
	}
	if going > 1 {
		t.Fatalf("%d runs of one task at once: %+v", going, runs)
	}
	// A disabled task is not executed by hand, whether or not its last run
	// is still stopping.
	r := call(t, "POST", sh.url()+"/v1/tasks/"+task.Key+"/execute", mgmtToken, nil)
	if r.status != http.StatusConflict || !strings.Contains(r.errorMessage(), "is disabled") {
		t.Fatalf("execute of the disabled task: %d %s", r.status, r.body)
	}
}

func TestCronSlotsFireExactlyOnceAcrossLeaderFailovers(t *testing.T) {
	nodes := replicationGroup(t)
	sh := nodes[0]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	putFile(t, sh, "proj", "r", "/a.txt", []byte("a"), nil)
	task := createTask(t, sh, taskBody("failover", "CRON_EXPRESSION", map[string]any{"cronExpression": "*/2 * * * * ?"}, "beijing"))
	slotsFired := func(n *node, atLeast int) {
		t.Helper()
		eventually(t, 60*time.Second, fmt.Sprintf("%d slots", atLeast), func() error {
			if got := len(taskRuns(t, n, task.Key)); got < atLeast {
				return fmt.Errorf("%d slots", got)
			}
			return nil
		})
	}
	slotsFired(sh, 2)
	var gaps []time.Duration
	for kill := range 2 {
		l := sameLeader(t, 30*time.Second, nodes...)
		victim := nodeByID(nodes, l.ID)
		var rest []*node
		for _, n := range nodes {
			if n != victim {
				rest = append(rest, n)
			}
		}
		before := len(taskRuns(t, rest[0], task.Key))
		downAt := time.Now()
		victim.stop()
		newLeader(t, 30*time.Second, l.ID, rest...)
		gaps = append(gaps, time.Since(downAt))
		slotsFired(rest[0], before+2)
		victim.restart()
		sameLeader(t, 30*time.Second, nodes...)
		t.Logf("failover %d: killed leader %s, new leader after %s", kill+1, l.ID, gaps[kill].Round(time.Millisecond))
	}
	l := sameLeader(t, 30*time.Second, nodes...)
	mustStatus(t, call(t, "POST", nodeByID(nodes, l.ID).url()+"/v1/tasks/"+task.Key+"/disable", mgmtToken, nil), http.StatusOK, "disable")

	runs := taskRuns(t, nodeByID(nodes, l.ID), task.Key)
	seen := map[time.Time]bool{}
	long := 0
	for i, r := range runs {
		if seen[r.Slot] {
			t.Fatalf("slot %s fired twice", r.Slot)
		}
		seen[r.Slot] = true
		if i == 0 {
			continue
		}
		switch d := r.Slot.Sub(runs[i-1].Slot); {
		case d == 2*time.Second:
		case d > 2*time.Second && d%(2*time.Second) == 0:
			// A leaderless gap: its missed slots fire once, as the latest.
			long++
			if d > 2*time.Second+gaps[min(long-1, 1)]+4*time.Second {
				t.Fatalf("slots %s and %s are %s apart; the leaderless gap was %s", runs[i-1].Slot, r.Slot, d, gaps[min(long-1, 1)])
			}
		default:
			t.Fatalf("slots %s then %s", runs[i-1].Slot, r.Slot)
		}
	}
	if long > 2 {
		t.Fatalf("%d gaps in the slots for 2 failovers: %v", long, runs)
	}
	t.Logf("%d slots, %d with a gap before them", len(runs), long)
}

// changeKinds counts a repository's change-log entries per path and kind.
func changeKinds(t testing.TB, n *node, project, repo string) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	for from := 1; ; {
		var cs []struct {
			Seq  int    `json:"seq"`
			Kind string `json:"kind"`
			Path string `json:"path"`
		}
		getOK(t, n, fmt.Sprintf("/v1/projects/%s/repos/%s/changes?from=%d&limit=1000", project, repo, from), &cs)
		if len(cs) == 0 {
			return out
		}
		for _, c := range cs {
			if out[c.Path] == nil {
				out[c.Path] = map[string]int{}
			}
			out[c.Path][c.Kind]++
			from = c.Seq + 1
		}
	}
}

func TestRealTimeTaskDeliversEveryChangeOnceAcrossOutages(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	putFile(t, sh, "proj", "r", "/before.txt", []byte("written before the task"), nil)
	body := taskBody("live", "IMMEDIATELY", map[string]any{"executeImmediately": true}, "beijing")
	body["replicaType"] = "REAL_TIME"
	body["replicateDeletes"] = true
	task := createTask(t, sh, body)

	arrives := func(path string, content []byte) time.Duration {
		t.Helper()
		start := time.Now()
		eventually(t, 60*time.Second, path+" on beijing", func() error {
			if got := tree(t, bj, "proj", "r")[path]; got.SHA256 != sha(content) {
				return fmt.Errorf("beijing has %+v", got)
			}
			return nil
		})
		return time.Since(start)
	}
	arrives("/before.txt", []byte("written before the task"))
	var delays []time.Duration
	for i := range 5 {
		content := []byte(fmt.Sprintf("live %d", i))
		putFile(t, sh, "proj", "r", fmt.Sprintf("/live/%d.txt", i), content, nil)
		delays = append(delays, arrives(fmt.Sprintf("/live/%d.txt", i), content))
	}
	slices.Sort(delays)
	t.Logf("write-to-visible delay on beijing (polled every 50ms+): median %s, max %s", delays[len(delays)/2], delays[len(delays)-1])

	// beijing away, 100 writes, the source restarted, beijing back: all
	// 100 arrive, each created once.
	bj.stop()
	want := map[string][]byte{}
	for i := range 100 {
		p := fmt.Sprintf("/outage/%03d.bin", i)
		want[p] = readAllPatterned(uint64(1000+i), int64(100+i*700))
		putFile(t, sh, "proj", "r", p, want[p], nil)
	}
	sh.stop()
	sh.restart()
	bj.restart()
	sameLeader(t, 30*time.Second, nodes...)
	eventually(t, 90*time.Second, "the 100 files written during the outage on beijing", func() error {
		got := tree(t, bj, "proj", "r")
		for p, c := range want {
			if got[p].SHA256 != sha(c) {
				return fmt.Errorf("%s: %+v", p, got[p])
			}
		}
		return nil
	})
	for p, kinds := range changeKinds(t, bj, "proj", "r") {
		if strings.HasPrefix(p, "/outage/") && (kinds["NODE_CREATED"] != 1 || len(kinds) != 1) {
			t.Fatalf("%s changed on beijing as %v; want created once", p, kinds)
		}
	}

	if m := call(t, "GET", sh.url()+"/metrics", "", nil); !strings.Contains(string(m.body), `ferry_realtime_outbox_depth{target="beijing"} 0`) {
		t.Errorf("shanghai's metrics lack an empty outbox for beijing")
	}
	// Deletions follow, since the task opted in.
	mustStatus(t, do(t, "DELETE", sh.url()+"/generic/proj/r/live/0.txt", nil, nil), http.StatusNoContent, "delete")
	eventually(t, 60*time.Second, "the deletion on beijing", func() error {
		if _, ok := tree(t, bj, "proj", "r")["/live/0.txt"]; ok {
			return fmt.Errorf("still there")
		}
		return nil
	})

	// The task's standing run counts what it delivered.
	var latest taskRun
	eventually(t, 30*time.Second, "the standing run's counts", func() error {
		runs := taskRuns(t, sh, task.Key)
		latest = runs[len(runs)-1]
		r := getRun(t, sh, latest.ID)
		if r.State != "RUNNING" || r.Targets[0].ObjectsDone < 101 {
			return fmt.Errorf("%s %+v", r.State, r.Targets)
		}
		return nil
	})
	// Disabled, it stops: the standing run ends CANCELED.
	mustStatus(t, call(t, "POST", sh.url()+"/v1/tasks/"+task.Key+"/disable", mgmtToken, nil), http.StatusOK, "disable")
	if r := waitRun(t, sh, latest.ID, 30*time.Second); r.State != "CANCELED" {
		t.Fatalf("standing run after disable: %s", r.State)
	}
}
