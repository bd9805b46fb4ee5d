package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
)

// bk-repo's web UI (src/frontend/core/devops-repository) on the leader: its
// calls under /web, its X-BKREPO-TIME-ZONE header and the bodies its plan
// form builds (views/planManage/createPlan/index.vue).

const uiZone = "Asia/Shanghai"

// uiCall calls as the UI does: under /web, in China time.
func uiCall(t testing.TB, n *node, method, path string, body any) (int, bkEnvelope, http.Header) {
	t.Helper()
	return bkSend(t, n, bkReq{method: method, prefix: "/web/replication/api", path: path, token: mgmtToken, body: body,
		headers: map[string]string{"X-BKREPO-TIME-ZONE": uiZone, "X-BKREPO-PROJECT-ID": "bkrepo"}})
}

func uiOK(t testing.TB, n *node, method, path string, body, data any) {
	t.Helper()
	status, env, h := uiCall(t, n, method, path, body)
	if status != http.StatusOK || env.Code != 0 || h.Get("X-BKREPO-Time-Zone") != uiZone {
		t.Fatalf("%s %s: %d %d %s (zone %q)", method, path, status, env.Code, deref(env.Message), h.Get("X-BKREPO-Time-Zone"))
	}
	if data != nil {
		if err := json.Unmarshal(env.Data, data); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, env.Data, err)
		}
	}
}

// uiPlan is the plan form's body: REPOSITORY objects without constraint
// keys, the setting it always sends, description "".
func uiPlan(name, replicaType, target string, plan map[string]any) map[string]any {
	setting := map[string]any{"rateLimit": 0, "includeMetadata": true, "conflictStrategy": "SKIP", "errorStrategy": "CONTINUE"}
	if replicaType == "SCHEDULED" {
		for k, v := range plan {
			setting[k] = v
		}
	}
	return map[string]any{
		"name": name, "localProjectId": "bkrepo", "replicaObjectType": "REPOSITORY", "replicaType": replicaType,
		"replicaTaskObjects": []map[string]any{{"localRepoName": "generic-local", "remoteProjectId": "bkrepo", "remoteRepoName": "generic-local", "repoType": "GENERIC"}},
		"setting":            setting, "remoteClusterIds": []string{target}, "enabled": true, "description": "",
	}
}

func TestBkRepoAsTheWebUICallsIt(t *testing.T) {
	// A deployment in China: cron plans are evaluated in China time, as the
	// UI shows them.
	nodes := replicationGroup(t, configure(func(c *config.Config) { c.TimeZone = uiZone }))
	l := sameLeader(t, 10*time.Second, nodes...)
	var lead *node
	var target string // a cluster the leader replicates to
	for _, n := range nodes {
		if n.id() == l.ID {
			lead = n
		} else {
			target = n.id()
		}
	}
	makeRepo(t, lead.url(), "", "bkrepo", "generic-local", "GENERIC")
	putFile(t, lead, "bkrepo", "generic-local", "/a.txt", []byte("a"), nil)
	for _, n := range nodes {
		if n != lead {
			makeRepo(t, n.url(), "", "bkrepo", "generic-local", "GENERIC")
		}
	}

	// Unknown paths and methods answer in the envelope, under every prefix.
	for _, c := range []struct {
		method, prefix, path string
		status, code         int
		want                 string
	}{
		{"GET", "/web/replication/api", "/nope", 404, 250130, "Request url[/web/replication/api/nope] not found"},
		{"GET", "/api/replication/api", "/task/record/a/b/c/d", 404, 250130, "not found"},
		{"GET", "/replication/api", "/task/create", 405, 250112, "Request method 'GET' is not supported"},
		{"PUT", "/web/replication/api", "/task/update", 405, 250112, "Request method 'PUT' is not supported"},
	} {
		status, env, _ := bkSend(t, lead, bkReq{method: c.method, prefix: c.prefix, path: c.path, token: mgmtToken})
		if status != c.status || env.Code != c.code || deref(env.Message) != c.want && c.code != 250130 || env.Message == nil {
			t.Errorf("%s %s%s: %d %d %q, want %d %d %q", c.method, c.prefix, c.path, status, env.Code, deref(env.Message), c.status, c.code, c.want)
		}
	}

	// A plan at a time the UI sends in China time, without a zone: shown back
	// as it was given in China time, and 8 hours earlier in UTC.
	var at bkTaskInfo
	uiOK(t, lead, "POST", "/task/create", uiPlan("at-time", "SCHEDULED", target, map[string]any{
		"executionStrategy": "SPECIFIED_TIME", "executionPlan": map[string]any{"executeImmediately": false, "executeTime": "2099-01-01T20:00:00.000"}}), &at)
	if at.Setting.ExecutionPlan["executeTime"] != "2099-01-01T20:00:00.000" || deref(at.Description) != "" || at.Status != "WAITING" || at.NextExecutionTime != nil {
		t.Fatalf("created %+v", at)
	}
	var inUTC bkTaskInfo
	_, env, h := bkSend(t, lead, bkReq{method: "GET", path: "/task/info/" + at.Key, token: mgmtToken, headers: map[string]string{"X-BKREPO-TIME-ZONE": "UTC"}})
	if err := json.Unmarshal(env.Data, &inUTC); err != nil || h.Get("X-BKREPO-Time-Zone") != "UTC" {
		t.Fatal(err, h)
	}
	cst, _ := time.Parse("2006-01-02T15:04:05.000", at.CreatedDate)
	utc, _ := time.Parse("2006-01-02T15:04:05.000", inUTC.CreatedDate)
	if inUTC.Setting.ExecutionPlan["executeTime"] != "2099-01-01T12:00:00.000" || cst.Sub(utc) != 8*time.Hour {
		t.Fatalf("in UTC: executeTime %v, created %s (China time %s)", inUTC.Setting.ExecutionPlan["executeTime"], inUTC.CreatedDate, at.CreatedDate)
	}
	// Not yet fired: executed by hand it would run twice (250307).
	if status, env, _ := uiCall(t, lead, "POST", "/task/execute/"+at.Key, nil); status != 400 || env.Code != 250307 {
		t.Fatalf("execute before its time: %d %d %s", status, env.Code, deref(env.Message))
	}

	// Update sends the same body with the key: a plan that never ran takes
	// a new name and description and keeps enabled.
	up := uiPlan("at-time, renamed", "SCHEDULED", target, map[string]any{
		"executionStrategy": "SPECIFIED_TIME", "executionPlan": map[string]any{"executeImmediately": false, "executeTime": "2099-01-02T20:00:00.000"}})
	up["key"], up["description"] = at.Key, "moved a day"
	uiOK(t, lead, "POST", "/task/update", up, nil)
	uiOK(t, lead, "GET", "/task/info/"+at.Key, nil, &at)
	if at.Name != "at-time, renamed" || deref(at.Description) != "moved a day" || !at.Enabled || at.Setting.ExecutionPlan["executeTime"] != "2099-01-02T20:00:00.000" {
		t.Fatalf("updated %+v", at)
	}

	// Copy and toggle, as the plan list's buttons send them.
	uiOK(t, lead, "POST", "/task/copy", map[string]any{"key": at.Key, "name": "at-time copy", "description": ""}, nil)
	var copies bkPage[bkTaskInfo]
	uiOK(t, lead, "GET", "/task/page/bkrepo?name=at-time+copy", nil, &copies)
	if copies.TotalRecords != 1 || copies.Records[0].Enabled || copies.Records[0].Status != "WAITING" || copies.Records[0].ExecutionTimes != 0 {
		t.Fatalf("copy %+v", copies)
	}
	cp := copies.Records[0]
	uiOK(t, lead, "POST", "/task/toggle/status/"+cp.Key, nil, nil)
	uiOK(t, lead, "GET", "/task/info/"+cp.Key, nil, &cp)
	if !cp.Enabled || cp.Setting.ExecutionPlan["executeTime"] != "2099-01-02T20:00:00.000" {
		t.Fatalf("the copy enabled %+v", cp)
	}
	uiOK(t, lead, "DELETE", "/task/delete/"+cp.Key, nil, nil)

	// Cron plans fire on Quartz's schedule in the agents' zone: 1 is Sunday.
	for expr, want := range map[string]func(time.Time) bool{
		"0 0 12 ? * 1":    func(n time.Time) bool { return n.Weekday() == time.Sunday && n.Hour() == 12 && n.Minute() == 0 },
		"0 0 12 ? * 7":    func(n time.Time) bool { return n.Weekday() == time.Saturday && n.Hour() == 12 },
		"0 30 9 L * ?":    func(n time.Time) bool { return n.AddDate(0, 0, 1).Day() == 1 && n.Hour() == 9 && n.Minute() == 30 },
		"0 0 8 ? * MON#2": func(n time.Time) bool { return n.Weekday() == time.Monday && (n.Day()-1)/7 == 1 && n.Hour() == 8 },
	} {
		var c bkTaskInfo
		uiOK(t, lead, "POST", "/task/create", uiPlan("cron "+expr, "SCHEDULED", target, map[string]any{
			"executionStrategy": "CRON_EXPRESSION", "executionPlan": map[string]any{"executeImmediately": false, "cronExpression": expr}}), &c)
		next, err := time.Parse("2006-01-02T15:04:05.000", deref(c.NextExecutionTime))
		if err != nil || !want(next) {
			t.Errorf("%s: next %s (%v)", expr, deref(c.NextExecutionTime), err)
		}
		uiOK(t, lead, "DELETE", "/task/delete/"+c.Key, nil, nil)
	}

	// A REAL_TIME plan has neither executionStrategy nor executionPlan; it
	// always replicates, so executing it is 250303.
	var rt bkTaskInfo
	uiOK(t, lead, "POST", "/task/create", uiPlan("live", "REAL_TIME", target, nil), &rt)
	eventually(t, 30*time.Second, "the REAL_TIME task replicating", func() error {
		uiOK(t, lead, "GET", "/task/info/"+rt.Key, nil, &rt)
		if rt.Status != "REPLICATING" {
			return fmt.Errorf("%s", rt.Status)
		}
		return nil
	})
	if status, env, _ := uiCall(t, lead, "POST", "/task/execute/"+rt.Key, nil); status != 400 || env.Code != 250303 {
		t.Fatalf("execute of a REAL_TIME task: %d %d %s", status, env.Code, deref(env.Message))
	}
	var rec json.RawMessage
	eventually(t, 30*time.Second, "the standing run's record", func() error {
		var page bkPage[bkRecord]
		uiOK(t, lead, "GET", "/task/record/page/"+rt.Key+"?pageNumber=1&pageSize=10&status=RUNNING", nil, &page)
		if len(page.Records) != 1 {
			return fmt.Errorf("%+v", page)
		}
		uiOK(t, lead, "GET", "/task/record/"+page.Records[0].ID, nil, &rec)
		return nil
	})
	if string(field(t, rec, "replicaType")) != `"REAL_TIME"` {
		t.Fatalf("record of the REAL_TIME task: %s", rec)
	}

	// The plan list as the UI asks for it: empty filters, 1-based pages of
	// 10, sorted both ways.
	var page bkPage[bkTaskInfo]
	uiOK(t, lead, "GET", "/task/page/bkrepo?name=&enabled=&lastExecutionStatus=&sortType=CREATED_TIME&sortDirection=ASC&pageNumber=1&pageSize=10", nil, &page)
	if page.TotalRecords != 2 || page.Records[0].Key != at.Key || page.Records[1].Key != rt.Key {
		t.Fatalf("oldest first: %+v", page)
	}
	uiOK(t, lead, "GET", "/task/page/bkrepo?name=&enabled=&lastExecutionStatus=&sortType=CREATED_TIME&sortDirection=DESC&pageNumber=1&pageSize=10", nil, &page)
	if page.TotalRecords != 2 || page.Records[0].Key != rt.Key {
		t.Fatalf("newest first: %+v", page)
	}

	// The node page: the list without this agent's own cluster as a target
	// (it is the CENTER), the name check before a create.
	var clusters []bkCluster
	uiOK(t, lead, "GET", "/cluster/list", nil, &clusters)
	centers := 0
	for _, c := range clusters {
		if c.Type == "CENTER" {
			centers++
			if c.ID != lead.id() {
				t.Errorf("the center is %s, not the agent asked", c.ID)
			}
		}
	}
	if centers != 1 || len(clusters) != 3 {
		t.Fatalf("clusters %+v", clusters)
	}
	var exists bool
	uiOK(t, lead, "GET", "/cluster/exist?name=Region+beijing", nil, &exists)
	if !exists {
		t.Fatal("Region beijing does not exist")
	}
}
