package integration

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The views' backend on three real agents: shanghai replicates to beijing
// (a SCHEDULED task) and guangzhou (REAL_TIME); guangzhou, which is
// neither the source nor the leader's concern, answers /v1/lag and
// /v1/links for the whole group.

type lagEntry struct {
	Task        string    `json:"task"`
	TaskName    string    `json:"taskName"`
	ProjectID   string    `json:"projectId"`
	ReplicaType string    `json:"replicaType"`
	Target      string    `json:"target"`
	LastSuccess time.Time `json:"lastSuccess"`
	LagSeconds  float64   `json:"lagSeconds"`
	LastStatus  string    `json:"lastStatus"`
	OutboxDepth int64     `json:"outboxDepth"`
	OutboxError string    `json:"outboxError"`
}

type lagAnswer struct {
	Lag []lagEntry `json:"lag"`
	Now time.Time  `json:"now"`
}

type linkStat struct {
	Source           string    `json:"source"`
	Target           string    `json:"target"`
	BytesTotal       int64     `json:"bytesTotal"`
	BytesPerSecond1m float64   `json:"bytesPerSecond1m"`
	BytesPerSecond5m float64   `json:"bytesPerSecond5m"`
	LastActivity     time.Time `json:"lastActivity"`
}

type linksAnswer struct {
	Links       []linkStat `json:"links"`
	Unreachable []string   `json:"unreachable"`
	Now         time.Time  `json:"now"`
}

// replicateForViews puts a small and a large file on shanghai and has
// them replicated to beijing by an IMMEDIATELY task and to guangzhou by a
// REAL_TIME one; it returns the content bytes and both task keys.
func replicateForViews(t *testing.T, nodes []*node) (int64, string, string) {
	t.Helper()
	sh := byRegion(nodes)["shanghai"]
	makeRepo(t, sh.url(), "", "obs", "files", "GENERIC")
	small, large := readAllPatterned(7, 300<<10), readAllPatterned(8, 3<<20+5)
	putFile(t, sh, "obs", "files", "/small.bin", small, nil)
	putFile(t, sh, "obs", "files", "/large.bin", large, nil)
	once := repoSpec("obs", "files", "GENERIC", "beijing")
	once["name"], once["replicaType"] = "to beijing", "SCHEDULED"
	once["setting"].(map[string]any)["executionStrategy"] = "IMMEDIATELY"
	once["setting"].(map[string]any)["executionPlan"] = map[string]any{"executeImmediately": true}
	live := repoSpec("obs", "files", "GENERIC", "guangzhou")
	live["name"], live["replicaType"] = "to guangzhou", "REAL_TIME"
	a, b := createTask(t, sh, once), createTask(t, sh, live)
	eventually(t, 60*time.Second, "the IMMEDIATELY task ran", func() error {
		var v taskView
		getOK(t, sh, "/v1/tasks/"+a.Key, &v)
		if v.LastExecutionStatus != "SUCCESS" {
			return fmt.Errorf("%+v", v)
		}
		return nil
	})
	return int64(len(small) + len(large)), a.Key, b.Key
}

func TestLagAndLinksFromAThirdAgent(t *testing.T) {
	nodes := replicationGroup(t)
	gz := byRegion(nodes)["guangzhou"]
	sent, once, live := replicateForViews(t, nodes)

	eventually(t, 30*time.Second, "guangzhou's /v1/lag", func() error {
		var ans lagAnswer
		getOK(t, gz, "/v1/lag", &ans)
		got := map[string]lagEntry{}
		for _, e := range ans.Lag {
			got[e.Task+"/"+e.Target] = e
		}
		o, l := got[once+"/beijing"], got[live+"/guangzhou"]
		switch {
		case len(ans.Lag) != 2 || ans.Now.IsZero():
			return fmt.Errorf("answer %+v", ans)
		case o.LastStatus != "SUCCESS" || o.LastSuccess.IsZero() || o.ReplicaType != "SCHEDULED" || o.OutboxDepth != 0 || o.TaskName != "to beijing" || o.ProjectID != "obs":
			return fmt.Errorf("scheduled %+v", o)
		case l.ReplicaType != "REAL_TIME" || l.OutboxError != "" || l.OutboxDepth != 0 || l.LastSuccess.IsZero() || l.LagSeconds > 30:
			return fmt.Errorf("real time %+v", l)
		}
		return nil
	})

	eventually(t, 30*time.Second, "guangzhou's /v1/links", func() error {
		var ans linksAnswer
		getOK(t, gz, "/v1/links", &ans)
		if len(ans.Unreachable) != 0 {
			return fmt.Errorf("unreachable %v", ans.Unreachable)
		}
		for _, l := range ans.Links {
			if l.Source == "shanghai" && l.Target == "beijing" {
				if l.BytesTotal != sent || l.LastActivity.IsZero() || l.BytesPerSecond5m <= 0 {
					return fmt.Errorf("shanghai -> beijing %+v, want %d bytes", l, sent)
				}
				return nil
			}
		}
		return fmt.Errorf("no shanghai -> beijing link in %+v", ans.Links)
	})

	// The source stops: its outbox and its links cannot be asked.
	byRegion(nodes)["shanghai"].stop()
	eventually(t, 30*time.Second, "guangzhou reports shanghai unreachable", func() error {
		r := call(t, "GET", gz.url()+"/v1/lag", mgmtToken, nil)
		if r.status != http.StatusOK {
			return fmt.Errorf("lag: %d %s", r.status, r.body) // the group may be electing
		}
		var lag lagAnswer
		r.decode(t, &lag)
		for _, e := range lag.Lag {
			if e.Task == live && (e.OutboxDepth != -1 || e.OutboxError == "") {
				return fmt.Errorf("real time with its source down %+v", e)
			}
		}
		var links linksAnswer
		getOK(t, gz, "/v1/links", &links)
		if !slices.Contains(links.Unreachable, "shanghai") {
			return fmt.Errorf("unreachable %v", links.Unreachable)
		}
		return nil
	})
}

func TestLagKeepsToTheCredentialsProjects(t *testing.T) {
	nodes := replicationGroup(t)
	sh := byRegion(nodes)["shanghai"]
	replicateForViews(t, nodes)
	r := call(t, "POST", sh.url()+"/v1/acl/tokens", mgmtToken, map[string]any{"policy": "read", "projects": []string{"other"}, "description": "other reader"})
	mustStatus(t, r, http.StatusCreated, "scoped token")
	var tok token
	r.decode(t, &tok)
	var ans lagAnswer
	r = call(t, "GET", sh.url()+"/v1/lag", tok.Secret, nil)
	mustStatus(t, r, http.StatusOK, "scoped lag")
	r.decode(t, &ans)
	if len(ans.Lag) != 0 {
		t.Fatalf("a token of project other sees %+v", ans.Lag)
	}
	if r := call(t, "GET", sh.url()+"/v1/agent/links", tok.Secret, nil); r.status != http.StatusForbidden {
		t.Fatalf("a read token on /v1/agent/links: %d %s", r.status, r.body)
	}
}

// scrape is one agent's /metrics text.
func scrape(t testing.TB, n *node) string {
	t.Helper()
	r := call(t, "GET", n.url()+"/metrics", "", nil)
	mustStatus(t, r, http.StatusOK, "metrics of "+n.id())
	return string(r.body)
}

func TestViewsMetrics(t *testing.T) {
	nodes := replicationGroup(t)
	sent, once, live := replicateForViews(t, nodes)
	// A cron task, for ferry_task_schedule_interval_seconds: nightly, so it
	// does not fire while the test runs.
	nightly := repoSpec("obs", "files", "GENERIC", "beijing")
	nightly["name"], nightly["replicaType"] = "nightly", "SCHEDULED"
	nightly["setting"].(map[string]any)["executionStrategy"] = "CRON_EXPRESSION"
	nightly["setting"].(map[string]any)["executionPlan"] = map[string]any{"cronExpression": "0 0 3 * * ?"}
	nt := createTask(t, byRegion(nodes)["shanghai"], nightly)
	t.Run("interval of the cron task", func(t *testing.T) {
		eventually(t, 30*time.Second, "the nightly task's interval", func() error {
			if !strings.Contains(scrape(t, byRegion(nodes)["shanghai"]), `ferry_task_schedule_interval_seconds{task="`+nt.Key+`"} 86400`) {
				return fmt.Errorf("no ferry_task_schedule_interval_seconds 86400 for %s", nt.Key)
			}
			return nil
		})
	})
	t.Run("new series", func(t *testing.T) { viewsSeries(t, byRegion(nodes), sent, once, live) })
	t.Run("the deploy files name exported metrics", func(t *testing.T) { deployNamesExported(t, nodes) })
}

func viewsSeries(t *testing.T, by map[string]*node, sent int64, once, live string) {
	want := map[*node][]string{
		by["shanghai"]: {
			`ferry_replication_lag_seconds{target="beijing",task="` + once + `"} [0-9.e+]+`,
			`ferry_replication_lag_seconds{target="guangzhou",task="` + live + `"} [0-9.e+]+`,
			`ferry_realtime_outbox_task_depth{target="guangzhou",task="` + live + `"} 0`,
			`ferry_task_info{name="to beijing",project="obs",replica_type="SCHEDULED",source="shanghai",task="` + once + `"} 1`,
			`ferry_store_disk_free_bytes{disk="store"} [1-9][0-9.e+]*`,
			`ferry_store_disk_size_bytes{disk="raft"} [1-9][0-9.e+]*`,
			`ferry_store_segment_bytes{state="dead"} [0-9.e+]+`,
			`ferry_store_compactions_total{result="ok"} [0-9]+`,
			`ferry_store_compacted_bytes_total [0-9.e+]+`,
			`ferry_cluster_member_alive{member="guangzhou"} 1`,
			`ferry_raft_leader_changes_total [1-9][0-9]*`,
			`ferry_raft_last_contact_seconds [0-9.e+-]+`,
		},
		by["beijing"]: {
			`ferry_replication_received_bytes_total{source="shanghai"} ` + regexp.QuoteMeta(strconv.FormatFloat(float64(sent), 'g', -1, 64)),
		},
	}
	for n, lines := range want {
		eventually(t, 30*time.Second, n.id()+"'s metrics", func() error {
			text := scrape(t, n)
			for _, l := range lines {
				if !regexp.MustCompile(`(?m)^` + l + `$`).MatchString(text) {
					return fmt.Errorf("no line matches %s", l)
				}
			}
			return nil
		})
	}
	// Only the source exports a task's lag: a sum over the group counts it once.
	for _, n := range []*node{by["beijing"], by["guangzhou"]} {
		if text := scrape(t, n); regexp.MustCompile(`(?m)^ferry_replication_lag_seconds\{`).MatchString(text) {
			t.Errorf("%s exports lag of tasks it is not the source of", n.id())
		}
	}
}
