package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// Pulp 2's API (api/pulp) on real agents.

// pulpCall sends a request under /pulp/api/v2 with Basic credentials whose
// password is token (none if ""), and returns the status, the JSON body as
// read, and the Content-Type.
func pulpCall(t testing.TB, n *node, method, path, token string, body string) (int, json.RawMessage, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.url()+"/pulp/api/v2"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.SetBasicAuth("admin", token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header.Get("Content-Type")
}

func TestPulpStatusAndUnknownURLs(t *testing.T) {
	nodes := replicationGroup(t)
	f := follower(t, nodes)
	for _, path := range []string{"/status/", "/status"} {
		status, raw, ct := pulpCall(t, f, "GET", path, "", "")
		var s struct {
			APIVersion string `json:"api_version"`
			Versions   struct {
				Platform string `json:"platform_version"`
			} `json:"versions"`
			Workers []struct {
				Name string `json:"name"`
			} `json:"known_workers"`
		}
		if status != 200 || ct != "application/json; charset=utf-8" || json.Unmarshal(raw, &s) != nil || s.APIVersion != "2" ||
			!strings.HasPrefix(s.Versions.Platform, "2.") || len(s.Workers) != 3 {
			t.Fatalf("GET %s: %d %s %s", path, status, ct, raw)
		}
	}
	// An unknown URL is 404 with the body null; a method a path does not
	// take 405, empty.
	if status, raw, _ := pulpCall(t, f, "GET", "/nope/", mgmtToken, ""); status != 404 || strings.TrimSpace(string(raw)) != "null" {
		t.Fatalf("unknown URL: %d %s", status, raw)
	}
	if status, raw, _ := pulpCall(t, f, "DELETE", "/status/", mgmtToken, ""); status != 405 || len(raw) != 0 {
		t.Fatalf("wrong method: %d %s", status, raw)
	}
}

// pulpError is Pulp's error body.
type pulpError struct {
	Href          string         `json:"_href"`
	HTTPStatus    int            `json:"http_status"`
	Method        string         `json:"http_request_method"`
	Message       string         `json:"error_message"`
	AuthErrorCode string         `json:"auth_error_code"`
	PropertyNames []string       `json:"property_names"`
	ResourceID    string         `json:"resource_id"`
	Resources     map[string]any `json:"resources"`
	Error         struct {
		Code        string         `json:"code"`
		Description string         `json:"description"`
		Data        map[string]any `json:"data"`
	} `json:"error"`
}

// pulpFails expects status and a Pulp error body with code.
func pulpFails(t testing.TB, n *node, method, path, token, body string, status int, code string) pulpError {
	t.Helper()
	got, raw, ct := pulpCall(t, n, method, path, token, body)
	var e pulpError
	if err := json.Unmarshal(raw, &e); err != nil || got != status || e.Error.Code != code || e.HTTPStatus != status || e.Method != method ||
		e.Message == "" || e.Message != e.Error.Description || ct != "application/json; charset=utf-8" {
		t.Errorf("%s %s: %d %s, want %d %s", method, path, got, raw, status, code)
	}
	return e
}

func pulpOK(t testing.TB, n *node, method, path, body string, status int, out any) {
	t.Helper()
	got, raw, _ := pulpCall(t, n, method, path, mgmtToken, body)
	if got != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, got, raw, status)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, raw, err)
		}
	}
}

type pulpTask struct {
	TaskID     string   `json:"task_id"`
	Href       string   `json:"_href"`
	State      string   `json:"state"`
	Tags       []string `json:"tags"`
	FinishTime *string  `json:"finish_time"`
	Spawned    []struct {
		Href   string `json:"_href"`
		TaskID string `json:"task_id"`
	} `json:"spawned_tasks"`
}

// pulpSpawned is the one task a 202 call report spawned, once finished.
func pulpSpawned(t testing.TB, n *node, report pulpTask) pulpTask {
	t.Helper()
	if len(report.Spawned) != 1 || report.Spawned[0].Href != "/pulp/api/v2/tasks/"+report.Spawned[0].TaskID+"/" {
		t.Fatalf("call report %+v", report)
	}
	var task pulpTask
	pulpOK(t, n, "GET", "/tasks/"+report.Spawned[0].TaskID+"/", "", 200, &task)
	if task.State != "finished" || task.FinishTime == nil || !pulpTime.MatchString(*task.FinishTime) {
		t.Fatalf("task %+v", task)
	}
	return task
}

var pulpTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)

func TestPulpRepositoriesThroughAFollower(t *testing.T) {
	nodes := replicationGroup(t)
	f := follower(t, nodes)
	var other *node
	for _, n := range nodes {
		if n != f {
			other = n
		}
	}
	const create = `{"id": "isos", "display_name": "ISOs", "notes": {"team": "ops"},
	  "importer_type_id": "iso_importer", "importer_config": {"feed": "http://127.0.0.1:1/feed/", "basic_auth_password": "pw"},
	  "distributors": [{"distributor_type_id": "iso_distributor", "distributor_config": {}, "auto_publish": true, "distributor_id": "iso_dist"}]}`
	status, raw, _ := pulpCall(t, f, "POST", "/repositories/", mgmtToken, create)
	var repo struct {
		ID           string            `json:"id"`
		DisplayName  string            `json:"display_name"`
		Notes        map[string]string `json:"notes"`
		Counts       map[string]int    `json:"content_unit_counts"`
		Href         string            `json:"_href"`
		OID          map[string]string `json:"_id"`
		Importers    []map[string]any  `json:"importers"`
		Distributors []map[string]any  `json:"distributors"`
		Total        *int              `json:"total_repository_units"`
	}
	if status != 201 || json.Unmarshal(raw, &repo) != nil || repo.ID != "isos" || repo.DisplayName != "ISOs" || repo.Notes["team"] != "ops" ||
		repo.Href != "/pulp/api/v2/repositories/isos/" || len(repo.OID["$oid"]) != 24 || repo.Importers != nil {
		t.Fatalf("create: %d %s", status, raw)
	}
	// Its content is the region's store repository pulp/isos, which holds
	// what a sync brings.
	putFile(t, f, "pulp", "isos", "/1.iso", []byte("one"), nil)
	// The iso_distributor publishes it: a PULP_MANIFEST and the files, with
	// the API's credentials, Range too.
	pub := func(path, token string, headers map[string]string) (int, string) {
		req, _ := http.NewRequest("GET", f.url()+"/pulp/isos/"+path, nil)
		if token != "" {
			req.SetBasicAuth("feed", token)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := pub("isos/PULP_MANIFEST", mgmtToken, nil); status != 200 || body != "1.iso,"+sha([]byte("one"))+",3\n" {
		t.Fatalf("manifest: %d %q", status, body)
	}
	if status, body := pub("isos/1.iso", mgmtToken, map[string]string{"Range": "bytes=1-"}); status != 206 || body != "ne" {
		t.Fatalf("ranged file: %d %q", status, body)
	}
	for path, want := range map[string]int{"isos/2.iso": 404, "isos/": 404} {
		if status, _ := pub(path, mgmtToken, nil); status != want {
			t.Errorf("publication %q: %d, want %d", path, status, want)
		}
	}
	if status, body := pub("isos/PULP_MANIFEST", "", nil); status != 401 || !strings.Contains(body, "PLP0025") {
		t.Fatalf("manifest without credentials: %d %s", status, body)
	}
	pulpOK(t, f, "POST", "/repositories/", `{"id": "plain"}`, 201, nil)
	if status, _ := pub("plain/PULP_MANIFEST", mgmtToken, nil); status != 404 {
		t.Fatalf("a repository without an iso_distributor is published: %d", status)
	}
	e := pulpFails(t, f, "POST", "/repositories/", mgmtToken, create, 409, "PLP0018")
	if e.ResourceID != "isos" {
		t.Errorf("duplicate %+v", e)
	}
	for body, want := range map[string][]string{
		`{"id": "a b"}`: {"repo_id"}, `{}`: {"repo_id"}, `{"id": "x", "notes": "n"}`: {"notes"}, `{"id": "x", "distributors": "d"}`: {"distributor_list"},
	} {
		if e := pulpFails(t, f, "POST", "/repositories/", mgmtToken, body, 400, "PLP0015"); fmt.Sprint(e.PropertyNames) != fmt.Sprint(want) {
			t.Errorf("%s: property_names %v, want %v", body, e.PropertyNames, want)
		}
	}
	pulpFails(t, f, "POST", "/repositories/", mgmtToken, `{"id": "x", "importer_type_id": "yum_importer"}`, 400, "PLP1008")
	pulpFails(t, f, "POST", "/repositories/", mgmtToken, `{"id": `, 400, "PLP1009")
	pulpFails(t, f, "POST", "/repositories/", mgmtToken, `["isos"]`, 400, "PLP1015")

	// The repository is the follower's region's: another agent is another
	// Pulp server, without it.
	var list []map[string]any
	pulpOK(t, f, "GET", "/repositories/", "", 200, &list)
	if len(list) != 2 {
		t.Fatalf("list %v", list)
	}
	pulpOK(t, other, "GET", "/repositories/", "", 200, &list)
	if len(list) != 0 {
		t.Fatalf("another region lists %v", list)
	}
	e = pulpFails(t, other, "GET", "/repositories/isos/", mgmtToken, "", 404, "PLP0009")
	if e.Resources["repository"] != "isos" || e.Href != "/pulp/api/v2/repositories/isos/" {
		t.Errorf("missing %+v", e)
	}
	pulpOK(t, f, "GET", "/repositories/isos/?details=true", "", 200, &repo)
	if len(repo.Importers) != 1 || len(repo.Distributors) != 1 || repo.Total == nil || *repo.Total != 1 || repo.Counts["iso"] != 1 ||
		fmt.Sprint(repo.Importers[0]["config"]) != "map[basic_auth_password:***** feed:http://127.0.0.1:1/feed/]" ||
		repo.Distributors[0]["id"] != "iso_dist" || repo.Distributors[0]["auto_publish"] != true {
		t.Fatalf("details %+v", repo)
	}

	// PUT: the delta replaces names, merges notes; a null note goes.
	var report struct {
		Result struct {
			DisplayName string            `json:"display_name"`
			Notes       map[string]string `json:"notes"`
		} `json:"result"`
		Error   any   `json:"error"`
		Spawned []any `json:"spawned_tasks"`
	}
	pulpOK(t, f, "PUT", "/repositories/isos", `{"delta": {"display_name": "ISO images", "notes": {"team": null, "env": "prod"}}}`, 200, &report)
	if report.Result.DisplayName != "ISO images" || fmt.Sprint(report.Result.Notes) != "map[env:prod]" || report.Error != nil || len(report.Spawned) != 0 {
		t.Fatalf("update %+v", report)
	}

	// Importers: a sub-resource; its changes are tasks.
	var importers []map[string]any
	pulpOK(t, f, "GET", "/repositories/isos/importers/", "", 200, &importers)
	if len(importers) != 1 || importers[0]["_href"] != "/pulp/api/v2/repositories/isos/importers/iso_importer/" {
		t.Fatalf("importers %v", importers)
	}
	pulpOK(t, f, "GET", "/repositories/nope/importers/", "", 200, &importers)
	if len(importers) != 0 {
		t.Fatalf("importers of no repository %v", importers)
	}
	if e := pulpFails(t, f, "GET", "/repositories/isos/importers/yum_importer/", mgmtToken, "", 404, "PLP0009"); e.Resources["importer_id"] != "yum_importer" {
		t.Errorf("missing importer %+v", e)
	}
	var report2 pulpTask
	pulpOK(t, f, "PUT", "/repositories/isos/importers/iso_importer/", `{"importer_config": {"validate": false, "basic_auth_password": null}}`, 202, &report2)
	if task := pulpSpawned(t, f, report2); fmt.Sprint(task.Tags) != "[pulp:repository:isos pulp:action:update_importer]" {
		t.Fatalf("update task %+v", task)
	}
	var imp map[string]any
	pulpOK(t, f, "GET", "/repositories/isos/importers/iso_importer/", "", 200, &imp)
	if fmt.Sprint(imp["config"]) != "map[feed:http://127.0.0.1:1/feed/ validate:false]" {
		t.Fatalf("merged config %v", imp["config"])
	}
	pulpFails(t, f, "PUT", "/repositories/isos/importers/iso_importer/", mgmtToken, `{}`, 400, "PLP0016")
	pulpOK(t, f, "DELETE", "/repositories/isos/importers/iso_importer/", "", 202, &report2)
	pulpSpawned(t, f, report2)
	pulpOK(t, f, "GET", "/repositories/isos/importers/", "", 200, &importers)
	if len(importers) != 0 {
		t.Fatalf("importers after the delete %v", importers)
	}
	pulpFails(t, f, "POST", "/repositories/isos/importers/", mgmtToken, `{"importer_config": {}}`, 400, "PLP0016")
	pulpOK(t, f, "POST", "/repositories/isos/importers/", `{"importer_type_id": "iso_importer", "importer_config": {"feed": "http://127.0.0.1:2/"}}`, 202, &report2)
	pulpSpawned(t, f, report2)

	// Tasks by tags, all of which must match.
	var tasks []pulpTask
	pulpOK(t, f, "GET", "/tasks/?tag=pulp:repository:isos", "", 200, &tasks)
	if len(tasks) != 3 {
		t.Fatalf("tasks of isos %+v", tasks)
	}
	pulpOK(t, f, "GET", "/tasks/?tag=pulp:repository:isos&tag=pulp:action:delete_importer", "", 200, &tasks)
	if len(tasks) != 1 {
		t.Fatalf("delete_importer tasks %+v", tasks)
	}
	pulpFails(t, f, "GET", "/tasks/nope/", mgmtToken, "", 404, "PLP0009")
	if status, raw, _ := pulpCall(t, f, "DELETE", "/tasks/"+tasks[0].TaskID+"/", mgmtToken, ""); status != 200 || strings.TrimSpace(string(raw)) != "null" {
		t.Fatalf("cancel of a finished task: %d %s", status, raw)
	}

	// Purge: the recorded tasks in the states named go.
	pulpFails(t, f, "DELETE", "/tasks/", mgmtToken, "", 403, "PLP1012")
	pulpFails(t, f, "DELETE", "/tasks/?state=running", mgmtToken, "", 400, "PLP1011")
	if status, raw, _ := pulpCall(t, f, "DELETE", "/tasks/?state=finished&state=error", mgmtToken, ""); status != 204 || len(raw) != 0 {
		t.Fatalf("purge: %d %q", status, raw)
	}
	pulpOK(t, f, "GET", "/tasks/?tag=pulp:repository:isos", "", 200, &tasks)
	if len(tasks) != 0 {
		t.Fatalf("tasks after the purge %+v", tasks)
	}

	// Credentials: Basic with a Ferry token as the password.
	if e := pulpFails(t, f, "GET", "/repositories/", "", "", 401, "PLP0025"); e.AuthErrorCode != "authentication_failed" {
		t.Errorf("no credentials %+v", e)
	}
	if e := pulpFails(t, f, "GET", "/repositories/", "not-a-token", "", 401, "PLP0030"); e.AuthErrorCode != "invalid_username_or_password" ||
		e.Message != "Authentication with username admin failed: invalid username or password" {
		t.Errorf("bad password %+v", e)
	}
	read := createToken(t, f, mgmtToken, "read")
	if e := pulpFails(t, f, "DELETE", "/repositories/isos/", read.Secret, "", 401, "PLP0026"); e.AuthErrorCode != "permission_denied" {
		t.Errorf("read token deleting %+v", e)
	}

	// DELETE: a task; the repository and its content are gone.
	pulpOK(t, f, "DELETE", "/repositories/isos/", "", 202, &report2)
	if task := pulpSpawned(t, f, report2); fmt.Sprint(task.Tags) != "[pulp:repository:isos pulp:action:delete]" {
		t.Fatalf("delete task %+v", task)
	}
	pulpFails(t, f, "GET", "/repositories/isos/", mgmtToken, "", 404, "PLP0009")
	pulpFails(t, f, "DELETE", "/repositories/isos/", mgmtToken, "", 404, "PLP0009")
	if r := call(t, "GET", f.url()+"/v1/projects/pulp/repos/isos", mgmtToken, nil); r.status != http.StatusNotFound {
		t.Fatalf("the deleted repository's content: %d %s", r.status, r.body)
	}
}
