package integration

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Pulp's task search (POST and GET /v2/tasks/search/) over a region's
// recorded tasks and its syncs.

func TestPulpTaskSearch(t *testing.T) {
	nodes := replicationGroup(t)
	f := follower(t, nodes)
	fd := newPulpFeed(t, map[string][]byte{"1.iso": []byte("one")})
	pulpOK(t, f, "POST", "/repositories/", `{"id": "alpha", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+fd.url()+`"}}`, 201, nil)
	pulpOK(t, f, "POST", "/repositories/", `{"id": "beta", "importer_type_id": "iso_importer"}`, 201, nil)
	pulpOK(t, f, "POST", "/repositories/", `{"id": "gamma"}`, 201, nil)
	alpha := pulpSync(t, f, "alpha", "")
	beta := pulpSync(t, f, "beta", "") // no feed: an error, as Pulp's
	pulpOK(t, f, "POST", "/repositories/gamma/importers/", `{"importer_type_id": "iso_importer", "importer_config": {}}`, 202, nil)
	if alpha.State != "finished" || beta.State != "error" {
		t.Fatalf("syncs %s %s", alpha.State, beta.State)
	}
	var all []pulpTask
	pulpOK(t, f, "GET", "/tasks/", "", 200, &all)
	if len(all) < 3 {
		t.Fatalf("tasks %+v", all)
	}

	search := func(criteria string) []map[string]any {
		t.Helper()
		var out []map[string]any
		pulpOK(t, f, "POST", "/tasks/search/", `{"criteria": `+criteria+`}`, 200, &out)
		return out
	}
	if got := taskIDs(search(`{"filters": {"state": "error"}}`)); got != beta.TaskID {
		t.Fatalf("by state: %s, want %s", got, beta.TaskID)
	}
	if got := taskIDs(search(`{"filters": {"tags": "pulp:action:sync"}, "sort": [["task_id", "ascending"]]}`)); got != joinSorted(alpha.TaskID, beta.TaskID) {
		t.Fatalf("by tag: %s", got)
	}
	if got := taskIDs(search(`{"filters": {"tags": {"$all": ["pulp:repository:alpha", "pulp:action:sync"]}, "state": {"$in": ["finished", "running"]}}}`)); got != alpha.TaskID {
		t.Fatalf("by tags and states: %s", got)
	}
	if got := search(`{"filters": {"$or": [{"state": "canceled"}, {"tags": "pulp:repository:nope"}]}}`); len(got) != 0 {
		t.Fatalf("nothing: %v", got)
	}
	// The same views as GET /tasks/ gives, in its order without a sort.
	if got, want := taskIDs(search(`{}`)), taskIDsOf(all); got != want {
		t.Fatalf("all: %s, want %s", got, want)
	}

	var ids []string
	for _, task := range all {
		ids = append(ids, task.TaskID)
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	if got := taskIDs(search(`{"sort": [["task_id", "descending"]], "skip": 1, "limit": 2}`)); got != strings.Join(ids[1:3], ",") {
		t.Fatalf("sort, skip, limit: %s, want %s", got, ids[1:3])
	}

	// fields project the view; id and _id stay, _href with task_id.
	found := search(`{"filters": {"task_id": "` + beta.TaskID + `"}, "fields": ["state", "task_id", "error"]}`)
	if len(found) != 1 || viewKeys(t, found[0]) != "_href,_id,error,id,state,task_id" || found[0]["state"] != "error" || found[0]["error"] == nil {
		t.Fatalf("fields: %v", found)
	}

	// GET: the criteria in the query.
	var got []map[string]any
	q := url.Values{"filters": {`{"state": "error"}`}, "field": {"state", "tags"}}
	pulpOK(t, f, "GET", "/tasks/search/?"+q.Encode(), "", 200, &got)
	if len(got) != 1 || viewKeys(t, got[0]) != "_id,id,state,tags" || got[0]["id"] != beta.TaskID {
		t.Fatalf("GET: %v", got)
	}
	q = url.Values{"sort": {`[["task_id", "descending"]]`}, "limit": {"1"}, "skip": {"0"}}
	pulpOK(t, f, "GET", "/tasks/search?"+q.Encode(), "", 200, &got)
	if taskIDs(got) != ids[0] || got[0]["_href"] != "/pulp/api/v2/tasks/"+ids[0]+"/" || got[0]["progress_report"] == nil {
		t.Fatalf("GET sorted: %v", got)
	}
	// A read token searches, with either method.
	read := createToken(t, f, mgmtToken, "read")
	if status, raw, _ := pulpCall(t, f, "POST", "/tasks/search/", read.Secret, `{"criteria": {"limit": 1}}`); status != 200 || len(raw) < 3 {
		t.Fatalf("read token: %d %s", status, raw)
	}

	// The errors Pulp answers.
	pulpFails(t, f, "POST", "/tasks/search/", mgmtToken, `{}`, 400, "PLP0016")
	pulpFails(t, f, "POST", "/tasks/search/", mgmtToken, `{"criteria": null}`, 400, "PLP0016")
	pulpFails(t, f, "POST", "/tasks/search/", mgmtToken, `{`, 400, "PLP1009")
	pulpFails(t, f, "POST", "/tasks/search/", mgmtToken, `[]`, 400, "PLP1015")
	for body, name := range map[string]string{
		`{"criteria": 5}`: "criteria", `{"criteria": {"filters": {"state": {"$foo": 1}}}}`: "criteria",
		`{"criteria": {"sort": [["state", "up"]]}}`: "sort", `{"criteria": {"limit": 0}}`: "limit", `{"criteria": {"skip": -1}}`: "skip",
		`{"criteria": {"fields": "state"}}`: "fields", `{"criteria": {"filters": []}}`: "filters", `{"criteria": {"order": 1}}`: "order",
	} {
		if e := pulpFails(t, f, "POST", "/tasks/search/", mgmtToken, body, 400, "PLP0015"); fmt.Sprint(e.PropertyNames) != "["+name+"]" {
			t.Errorf("%s: %+v", body, e)
		}
	}
	for query, name := range map[string]string{"filters=%7B": "filters", "sort=x": "sort", "limit=x": "limit", "tag=x": "tag"} {
		if e := pulpFails(t, f, "GET", "/tasks/search/?"+query, mgmtToken, "", 400, "PLP0015"); fmt.Sprint(e.PropertyNames) != "["+name+"]" {
			t.Errorf("%s: %+v", query, e)
		}
	}
	// /tasks/search/ is the search view, which takes no DELETE.
	if status, raw, _ := pulpCall(t, f, "DELETE", "/tasks/search/", mgmtToken, ""); status != 405 || len(raw) != 0 {
		t.Fatalf("DELETE search: %d %s", status, raw)
	}
	pulpOK(t, f, "GET", "/tasks/"+alpha.TaskID+"/", "", 200, nil)
}

func taskIDs(views []map[string]any) string {
	var ids []string
	for _, v := range views {
		ids = append(ids, fmt.Sprint(v["task_id"]))
	}
	return strings.Join(ids, ",")
}

func taskIDsOf(tasks []pulpTask) string {
	var ids []string
	for _, task := range tasks {
		ids = append(ids, task.TaskID)
	}
	return strings.Join(ids, ",")
}

func joinSorted(ids ...string) string {
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

// viewKeys are a view's keys, sorted, comma-separated.
func viewKeys(t testing.TB, v map[string]any) string {
	raw, _ := json.Marshal(v)
	return strings.Join(keysOf(t, raw), ",")
}
