package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The dashboard in a real browser against a real three-agent group: what
// an operator does with it, each view saved as a screenshot
// (FERRY_UI_SCREENSHOTS names the directory; a temporary one otherwise).
func TestDashboardInABrowser(t *testing.T) {
	nodes := replicationGroup(t)
	sh := nodes[0]
	b := newBrowser(t, 4*time.Minute)

	b.open(sh.url())
	b.login("not-the-token")
	b.waitText(10*time.Second, "#login-error", "token refused", "invalid token")
	b.screenshot("login-refused")

	b.login(mgmtToken)
	b.waitText(20*time.Second, "#view-regions", "shanghai", "beijing", "guangzhou", "leader", "alive")
	b.screenshot("regions-first")

	task := uiTaskWithContent(t, nodes)
	b.view("#/tasks")
	b.waitText(10*time.Second, "#view-tasks", "ui-demo", "cron")
	b.click(10*time.Second, `tr[data-name="ui-demo"]`, "Run now")
	id := uiTaskRun(t, sh, task)
	b.view("#/runs")
	row := `tr[data-run="` + id + `"]`
	b.waitText(20*time.Second, row, "beijing", "guangzhou")
	b.screenshot("runs-live")
	uiRunDetailLive(t, b, id)
	b.view("#/runs")
	b.waitText(60*time.Second, row, "SUCCESS")
	got := b.waitText(5*time.Second, row+` tr[data-target="beijing"]`, "100 %")
	b.waitText(5*time.Second, row+` tr[data-target="guangzhou"]`, "100 %")
	t.Logf("beijing at the end: %q", got)
	b.screenshot("runs")

	b.view("#/tasks")
	b.click(10*time.Second, `tr[data-name="ui-demo"]`, "Disable")
	b.waitText(10*time.Second, `tr[data-name="ui-demo"] td.enabled`, "disabled")
	var v taskView
	getOK(t, sh, "/v1/tasks/"+task, &v)
	if v.Enabled {
		t.Fatalf("the dashboard showed the task disabled, the API says %+v", v)
	}
	uiPulpSchedule(t, b, sh)
	b.screenshot("tasks")

	failed := uiFailedRun(t, nodes)
	b.view("#/runs/" + failed)
	b.waitText(20*time.Second, "#view-runs", "FAILED", "/blocked/x")
	b.waitText(10*time.Second, `table.objects tr[data-status="FAILED"]`, "/blocked/x", "beijing")
	if e, _ := b.text(`table.objects tr[data-status="FAILED"] td.error`); strings.TrimSpace(e) == "" {
		t.Fatal("the failed object's row shows no error")
	}
	b.screenshot("run-failed")

	uiLagView(t, b)
	uiLinks(t, b)
}

// uiTaskWithContent makes proj/r on shanghai hold 2 MiB in 40 files and a
// task that replicates it to beijing and guangzhou, paced to last about
// eight seconds so the browser sees it go; its cron fires once a year. It
// answers the task's key.
func uiTaskWithContent(t *testing.T, nodes []*node) string {
	t.Helper()
	for _, n := range nodes {
		makeRepo(t, n.url(), "", "proj", "r", "GENERIC")
	}
	for i := range 40 {
		putFile(t, nodes[0], "proj", "r", fmt.Sprintf("/ui/%02d.bin", i), readAllPatterned(uint64(i), 50<<10), nil)
	}
	body := taskBody("ui-demo", "CRON_EXPRESSION", map[string]any{"cronExpression": "0 0 3 1 1 ?"}, "beijing", "guangzhou")
	body["setting"].(map[string]any)["rateLimit"] = 256 << 10
	return createTask(t, nodes[0], body).Key
}

// uiTaskRun is the run the dashboard's run-now started.
func uiTaskRun(t *testing.T, n *node, task string) string {
	t.Helper()
	var id string
	eventually(t, 10*time.Second, "the task's run", func() error {
		runs := taskRuns(t, n, task)
		if len(runs) == 0 {
			return fmt.Errorf("no run of %s", task)
		}
		id = runs[len(runs)-1].ID
		return nil
	})
	return id
}

// uiFailedRun is a run that fails on beijing: beijing holds a file where
// shanghai has a folder (as TestErrorStrategies does).
func uiFailedRun(t *testing.T, nodes []*node) string {
	t.Helper()
	sh, bj := nodes[0], nodes[1]
	putFile(t, bj, "proj", "r", "/blocked", []byte("a file"), nil)
	putFile(t, sh, "proj", "r", "/blocked/x", []byte("x"), nil)
	r := waitRun(t, sh, startRun(t, sh, repoSpec("proj", "r", "GENERIC", "beijing")).ID, 60*time.Second)
	if r.State != "FAILED" {
		t.Fatalf("run %s: %s, want FAILED", r.ID, r.State)
	}
	return r.ID
}

// uiLagView checks the Lag view, or logs that this agent has no
// GET /v1/lag (the obs branch adds it).
func uiLagView(t *testing.T, b *browser) {
	t.Helper()
	b.view("#/lag")
	got := b.waitText(10*time.Second, "#view-lag", "Lag")
	if strings.Contains(got, "not available") {
		t.Log("GET /v1/lag answered 404 on this agent: the Lag view's assertions are skipped")
		b.screenshot("lag")
		return
	}
	b.waitText(10*time.Second, "#view-lag", "ui-demo", "beijing", "guangzhou")
	b.screenshot("lag")
}

// uiLinks checks the region graph's links after the runs, or logs that
// this agent has no GET /v1/links.
func uiLinks(t *testing.T, b *browser) {
	t.Helper()
	b.view("#/regions")
	got := b.waitText(10*time.Second, "#view-regions", "shanghai", "Last contact")
	if strings.Contains(got, "not available") {
		t.Log("GET /v1/links answered 404 on this agent: the links' assertions are skipped")
		b.screenshot("regions")
		return
	}
	b.waitText(20*time.Second, "table.links", "shanghai → beijing", "shanghai → guangzhou")
	b.screenshot("regions")
}

// uiPulpSchedule makes a Pulp sync schedule on n, sees it in the Tasks
// view beside the tasks, and disables it there.
func uiPulpSchedule(t *testing.T, b *browser, n *node) {
	t.Helper()
	fd := newPulpFeed(t, map[string][]byte{"a.iso": []byte("a")})
	pulpOK(t, n, "POST", "/repositories/", `{"id": "isos", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+fd.url()+`"}}`, 201, nil)
	var sc pulpSchedule
	pulpOK(t, n, "POST", "/repositories/isos/importers/iso_importer/schedules/sync/", `{"schedule": "PT1H"}`, 201, &sc)
	row := `tr[data-name="isos sync"]`
	b.waitText(10*time.Second, row, "Pulp schedule", "every PT1H", "enabled")
	b.click(10*time.Second, row, "Disable")
	b.waitText(10*time.Second, row+" td.enabled", "disabled")
	pulpOK(t, n, "GET", "/repositories/isos/importers/iso_importer/schedules/sync/"+sc.ID+"/", "", 200, &sc)
	if sc.Enabled {
		t.Fatalf("the dashboard showed the Pulp schedule disabled, Pulp says %+v", sc)
	}
}

// uiRunDetailLive watches a running run's page to its end: after its
// first read the page changes only by the run's event stream, so the
// stream's events (counted on the page) carry it to 100 %.
func uiRunDetailLive(t *testing.T, b *browser, id string) {
	t.Helper()
	b.view("#/runs/" + id)
	b.waitText(10*time.Second, "#run-status", "live")
	b.waitText(5*time.Second, "dl.summary", "ui-demo", "RUNNING")
	b.waitText(30*time.Second, `table.targets-detail tr[data-target="beijing"]`, "/ 2.0 MiB") // planned: the total is known
	b.screenshot("run-live")
	for _, target := range []string{"beijing", "guangzhou"} {
		b.waitText(60*time.Second, `table.targets-detail tr[data-target="`+target+`"]`, "SUCCESS", "100 %")
	}
	b.waitText(10*time.Second, "#run-status", "ended")
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("run-status").dataset.events || "0"`))
	if err != nil || n == "0" || n == "1" {
		t.Fatalf("the run's page saw %s events (%v): the stream did not carry it", n, err)
	}
	t.Logf("the run's page followed %s events", n)
}

// TestDashboardOnANotReadyAgent: the page loads from an agent that is not
// ready (one of two expected founders, so no leader), and its views say
// why their data calls are refused.
func TestDashboardOnANotReadyAgent(t *testing.T) {
	n := startNode(t, "alone", withBootstrapExpect(2))
	if r := call(t, "GET", n.url()+"/ui/", "", nil); r.status != 200 || !strings.Contains(string(r.body), "Ferry dashboard") {
		t.Fatalf("GET /ui/ on a not-ready agent: %d", r.status)
	}
	b := newBrowser(t, time.Minute)
	b.open(n.url())
	b.login(mgmtToken)
	b.waitText(20*time.Second, "#view-regions", "agent not ready")
	b.screenshot("not-ready")
}
