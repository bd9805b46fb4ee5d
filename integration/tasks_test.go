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
	// A manual execution while a run is going is refused.
	if going == 1 {
		r := call(t, "POST", sh.url()+"/v1/tasks/"+task.Key+"/execute", mgmtToken, nil)
		if r.status != http.StatusConflict || !strings.Contains(r.errorMessage(), "run going") {
			t.Fatalf("execute while running: %d %s", r.status, r.body)
		}
	}
}
