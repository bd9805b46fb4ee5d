package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// bk-repo's replication API (api/bkrepo) on three real agents.

// bkSeedCreate is the bk-repo document's create sample, verbatim but for its
// remoteClusterIds, which name this group's clusters.
const bkSeedCreate = `{
  "name": "计划",
  "localProjectId": "bkrepo",
  "replicaObjectType": "REPOSITORY",
  "replicaTaskObjects": [
    {
      "localRepoName": "maven-local",
      "remoteProjectId": "bkrepo",
      "remoteRepoName": "maven-local",
      "repoType": "MAVEN",
      "packageConstraints": [
        {
          "packageKey": "gav://com.alibaba:fastjson",
          "versions": ["1.2.47","1.2.48"]
        }
      ],
      "pathConstraints": []
    }
  ],
  "replicaType": "SCHEDULED",
  "setting": {
    "rateLimit": 0,
    "includeMetadata": true,
    "conflictStrategy": "SKIP",
    "errorStrategy": "CONTINUE",
    "executionStrategy": "IMMEDIATELY",
    "executionPlan": {
      "executeImmediately": true
    }
  },
  "remoteClusterIds": ["beijing","guangzhou"],
  "enabled": true,
  "description": "test replica task"
}`

// bkSeedUpdate is the document's update sample, with the key of the task
// and this group's clusters.
const bkSeedUpdate = `{
  "key": "%s",
  "name": "更新后的名称",
  "localProjectId": "bkrepo",
  "replicaObjectType": "REPOSITORY",
  "replicaTaskObjects": [
    {
      "localRepoName": "maven-local",
      "remoteProjectId": "bkrepo",
      "remoteRepoName": "maven-local",
      "repoType": "MAVEN",
      "packageConstraints": [
        {
          "packageKey": "gav://com.alibaba:fastjson",
          "versions": ["1.2.47","1.2.48"]
        }
      ],
      "pathConstraints": []
    }
  ],
  "remoteClusterIds": ["beijing","guangzhou"],
  "description": "test replica task"
}`

// Field names of the document's and bk-repo's shapes.
var (
	bkTaskInfoKeys = []string{"id", "key", "name", "projectId", "replicaObjectType", "replicaType", "setting", "remoteClusters", "description",
		"lastExecutionStatus", "lastExecutionTime", "nextExecutionTime", "executionTimes", "enabled", "createdBy", "createdDate", "lastModifiedBy", "lastModifiedDate"}
	bkSettingKeys    = []string{"rateLimit", "includeMetadata", "conflictStrategy", "errorStrategy", "executionStrategy", "executionPlan"}
	bkObjectKeys     = []string{"localRepoName", "remoteProjectId", "remoteRepoName", "repoType", "packageConstraints", "pathConstraints"}
	bkPageKeys       = []string{"pageNumber", "pageSize", "totalRecords", "totalPages", "records"}
	bkRecordInfoKeys = []string{"id", "taskKey", "status", "startTime", "endTime", "errorReason", "replicatedBytes", "totalBytes", "replicaOverview"}
	bkDetailKeys     = []string{"id", "recordId", "localCluster", "remoteCluster", "localRepoName", "repoType", "packageConstraint", "pathConstraint",
		"artifactName", "version", "conflictStrategy", "size", "sha256", "status", "progress", "startTime", "endTime", "errorReason", "executeType"}
	bkClusterKeys = []string{"id", "name", "status", "errorReason", "type", "url", "username", "password", "certificate",
		"createdBy", "createdDate", "lastModifiedBy", "lastModifiedDate"}
	bkTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$`)
)

type bkEnvelope struct {
	Code    int             `json:"code"`
	Message *string         `json:"message"`
	Data    json.RawMessage `json:"data"`
	TraceID string          `json:"traceId"`
}

type bkTaskInfo struct {
	ID                string `json:"id"`
	Key               string `json:"key"`
	Name              string `json:"name"`
	ProjectID         string `json:"projectId"`
	ReplicaObjectType string `json:"replicaObjectType"`
	ReplicaType       string `json:"replicaType"`
	Setting           struct {
		RateLimit         int64          `json:"rateLimit"`
		IncludeMetadata   bool           `json:"includeMetadata"`
		ConflictStrategy  string         `json:"conflictStrategy"`
		ErrorStrategy     string         `json:"errorStrategy"`
		ExecutionStrategy string         `json:"executionStrategy"`
		ExecutionPlan     map[string]any `json:"executionPlan"`
	} `json:"setting"`
	RemoteClusters      []struct{ ID, Name string } `json:"remoteClusters"`
	Description         *string                     `json:"description"`
	LastExecutionStatus *string                     `json:"lastExecutionStatus"`
	LastExecutionTime   *string                     `json:"lastExecutionTime"`
	NextExecutionTime   *string                     `json:"nextExecutionTime"`
	ExecutionTimes      int64                       `json:"executionTimes"`
	Enabled             bool                        `json:"enabled"`
	CreatedBy           string                      `json:"createdBy"`
	CreatedDate         string                      `json:"createdDate"`
	LastModifiedBy      string                      `json:"lastModifiedBy"`
	LastModifiedDate    string                      `json:"lastModifiedDate"`
}

type bkPage[T any] struct {
	PageNumber   int   `json:"pageNumber"`
	PageSize     int   `json:"pageSize"`
	TotalRecords int64 `json:"totalRecords"`
	TotalPages   int64 `json:"totalPages"`
	Records      []T   `json:"records"`
}

type bkRecord struct {
	ID              string  `json:"id"`
	TaskKey         string  `json:"taskKey"`
	Status          string  `json:"status"`
	StartTime       string  `json:"startTime"`
	EndTime         *string `json:"endTime"`
	ErrorReason     *string `json:"errorReason"`
	ReplicatedBytes int64   `json:"replicatedBytes"`
	TotalBytes      int64   `json:"totalBytes"`
	ReplicaOverview struct {
		Success, Failed, Conflict int64
	} `json:"replicaOverview"`
}

type bkDetail struct {
	RecordID          string         `json:"recordId"`
	LocalCluster      string         `json:"localCluster"`
	RemoteCluster     string         `json:"remoteCluster"`
	LocalRepoName     string         `json:"localRepoName"`
	RepoType          string         `json:"repoType"`
	PackageConstraint map[string]any `json:"packageConstraint"`
	Status            string         `json:"status"`
	Progress          struct {
		Node      struct{ Success, Skip, Failed int64 } `json:"node"`
		TotalSize int64                                 `json:"totalSize"`
	} `json:"progress"`
}

// bkCall sends a request to the dialect on n with token (none if ""); a
// string body goes as it is, anything else as JSON. It checks the envelope:
// JSON, a traceId that is the X-Trace-Id, data null on failure.
func bkCall(t testing.TB, n *node, method, path, token string, body any) (int, bkEnvelope) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, n.url()+"/replication/api"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env bkEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: %d %s is no envelope: %v", method, path, resp.StatusCode, raw, err)
	}
	if env.TraceID == "" || env.TraceID != resp.Header.Get("X-Trace-Id") {
		t.Fatalf("%s %s: traceId %q, X-Trace-Id %q", method, path, env.TraceID, resp.Header.Get("X-Trace-Id"))
	}
	if (env.Code == 0) != (env.Message == nil) || env.Code != 0 && string(env.Data) != "null" {
		t.Fatalf("%s %s: envelope %s", method, path, raw)
	}
	return resp.StatusCode, env
}

// bkOK calls with the management token and decodes data, which must come
// with HTTP 200 and code 0.
func bkOK(t testing.TB, n *node, method, path string, body, data any) {
	t.Helper()
	status, env := bkCall(t, n, method, path, mgmtToken, body)
	if status != http.StatusOK || env.Code != 0 {
		t.Fatalf("%s %s on %s: %d %d %s", method, path, n.id(), status, env.Code, deref(env.Message))
	}
	if data != nil {
		if err := json.Unmarshal(env.Data, data); err != nil {
			t.Fatalf("%s %s: data %s: %v", method, path, env.Data, err)
		}
	}
}

// bkFails expects HTTP status and code, and a message containing want.
func bkFails(t testing.TB, n *node, method, path, token string, body any, status, code int, want string) {
	t.Helper()
	got, env := bkCall(t, n, method, path, token, body)
	if got != status || env.Code != code || !strings.Contains(deref(env.Message), want) {
		t.Errorf("%s %s: %d %d %q, want %d %d with %q", method, path, got, env.Code, deref(env.Message), status, code, want)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// sameKeys checks that a JSON object has exactly the fields named.
func sameKeys(t testing.TB, what string, raw json.RawMessage, want []string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %s: %v", what, raw, err)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	w := slices.Clone(want)
	sort.Strings(w)
	if !slices.Equal(got, w) {
		t.Fatalf("%s has fields %v, want %v", what, got, w)
	}
}

// field is one field of a JSON object.
func field(t testing.TB, raw json.RawMessage, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m[name]
}

// shanghaiFollows makes shanghai (the data's source, which the document's
// sample leaves implicit) a follower: if it leads, it is restarted and
// comes back under the leader the others elected meanwhile.
func shanghaiFollows(t testing.TB, nodes []*node) *node {
	t.Helper()
	sh := nodes[0]
	if l := sameLeader(t, 30*time.Second, nodes...); l.ID == sh.id() {
		t.Logf("shanghai leads: restarting it to make it a follower")
		sh.stop()
		newLeader(t, 30*time.Second, sh.id(), nodes[1:]...)
		sh.restart(withJoin(nodes[1])) // the first agent joined no one: it rejoins gossip through beijing
		if l := sameLeader(t, 30*time.Second, nodes...); l.ID == sh.id() {
			t.Fatal("shanghai leads again after its restart")
		}
	}
	return sh
}

func bkTaskCount(t testing.TB, n *node) int64 {
	t.Helper()
	var p struct {
		TotalRecords int64 `json:"totalRecords"`
	}
	getOK(t, n, "/v1/tasks?consistent", &p)
	return p.TotalRecords
}

func TestBkRepoTaskAPIThroughAFollower(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj, gz := shanghaiFollows(t, nodes), nodes[1], nodes[2]
	makeRepo(t, sh.url(), "", "bkrepo", "maven-local", "MAVEN")
	var total int64
	for _, v := range []string{"1.2.47", "1.2.48"} {
		for _, ext := range []string{"jar", "pom"} {
			content := []byte("fastjson " + v + " " + ext)
			total += int64(len(content))
			putFile(t, sh, "bkrepo", "maven-local", "/com/alibaba/fastjson/"+v+"/fastjson-"+v+"."+ext, content, nil)
		}
	}

	// create: the sample as it is, through shanghai, a follower.
	status, env := bkCall(t, sh, "POST", "/task/create", mgmtToken, bkSeedCreate)
	if status != http.StatusOK || env.Code != 0 {
		t.Fatalf("create: %d %d %s", status, env.Code, deref(env.Message))
	}
	sameKeys(t, "task", env.Data, bkTaskInfoKeys)
	sameKeys(t, "setting", field(t, env.Data, "setting"), bkSettingKeys)
	sameKeys(t, "executionPlan", field(t, field(t, env.Data, "setting"), "executionPlan"), []string{"executeImmediately"})
	var task bkTaskInfo
	if err := json.Unmarshal(env.Data, &task); err != nil {
		t.Fatal(err)
	}
	if len(task.Key) != 32 || task.ID == "" || task.Name != "计划" || task.ProjectID != "bkrepo" || task.ReplicaObjectType != "REPOSITORY" ||
		task.ReplicaType != "SCHEDULED" || task.Setting.ConflictStrategy != "SKIP" || task.Setting.ErrorStrategy != "CONTINUE" ||
		!task.Setting.IncludeMetadata || task.Setting.ExecutionStrategy != "IMMEDIATELY" || task.Setting.ExecutionPlan["executeImmediately"] != true ||
		deref(task.Description) != "test replica task" || !task.Enabled || task.CreatedBy != "management" || task.LastModifiedBy != "management" ||
		!bkTime.MatchString(task.CreatedDate) || !bkTime.MatchString(task.LastModifiedDate) ||
		fmt.Sprint(task.RemoteClusters) != "[{beijing Region beijing} {guangzhou Region guangzhou}]" {
		t.Fatalf("created task %s", env.Data)
	}
	key := task.Key

	// IMMEDIATELY: it runs once, and the Maven files arrive on both targets.
	eventually(t, 60*time.Second, "the task ran", func() error {
		bkOK(t, sh, "GET", "/task/info/"+key, nil, &task)
		if deref(task.LastExecutionStatus) != "SUCCESS" || task.ExecutionTimes != 1 {
			return fmt.Errorf("%s after %d executions", deref(task.LastExecutionStatus), task.ExecutionTimes)
		}
		return nil
	})
	if task.LastExecutionTime == nil || !bkTime.MatchString(*task.LastExecutionTime) || task.NextExecutionTime != nil {
		t.Fatalf("after its run: last %s, next %s", deref(task.LastExecutionTime), deref(task.NextExecutionTime))
	}
	want := tree(t, sh, "bkrepo", "maven-local")
	for _, n := range []*node{bj, gz} {
		if err := sameTree(want, tree(t, n, "bkrepo", "maven-local")); err != nil || len(want) != 4 {
			t.Fatalf("%s: %v (%d files)", n.id(), err, len(want))
		}
	}

	// detail: {task, objects}, on another agent too.
	var detail struct {
		Task    json.RawMessage   `json:"task"`
		Objects []json.RawMessage `json:"objects"`
	}
	eventually(t, 10*time.Second, "the detail on beijing", func() error {
		bkOK(t, bj, "GET", "/task/detail/"+key, nil, &detail)
		if !bytes.Contains(detail.Task, []byte(`"executionTimes":1`)) {
			return fmt.Errorf("%s", detail.Task)
		}
		return nil
	})
	sameKeys(t, "detail.task", detail.Task, bkTaskInfoKeys)
	if len(detail.Objects) != 1 {
		t.Fatalf("objects %s", detail.Objects)
	}
	sameKeys(t, "detail.objects[0]", detail.Objects[0], bkObjectKeys)
	if got := string(field(t, detail.Objects[0], "packageConstraints")); got != `[{"packageKey":"gav://com.alibaba:fastjson","versions":["1.2.47","1.2.48"]}]` {
		t.Fatalf("packageConstraints %s", got)
	}
	if got := string(field(t, detail.Objects[0], "pathConstraints")); got != `[]` {
		t.Fatalf("pathConstraints %s", got)
	}

	// copy: a new key with the same settings; data null.
	status, env = bkCall(t, sh, "POST", "/task/copy", mgmtToken, map[string]string{"name": "task_copy", "key": key, "description": "copy replica task"})
	if status != http.StatusOK || env.Code != 0 || string(env.Data) != "null" {
		t.Fatalf("copy: %d %d %s %s", status, env.Code, deref(env.Message), env.Data)
	}
	var page bkPage[bkTaskInfo]
	bkOK(t, sh, "GET", "/task/page/bkrepo?name=task_&pageNumber=1&pageSize=20", nil, &page)
	if page.TotalRecords != 1 {
		t.Fatalf("page of task_: %+v", page)
	}
	cp := page.Records[0]
	if cp.Key == key || len(cp.Key) != 32 || cp.Name != "task_copy" || deref(cp.Description) != "copy replica task" ||
		fmt.Sprint(cp.Setting) != fmt.Sprint(task.Setting) || fmt.Sprint(cp.RemoteClusters) != fmt.Sprint(task.RemoteClusters) {
		t.Fatalf("copy %+v of %+v", cp, task)
	}
	var cpDetail struct {
		Objects []json.RawMessage `json:"objects"`
	}
	bkOK(t, sh, "GET", "/task/detail/"+cp.Key, nil, &cpDetail)
	if fmt.Sprint(cpDetail.Objects) != fmt.Sprint(detail.Objects) {
		t.Fatalf("copied objects %s, want %s", cpDetail.Objects, detail.Objects)
	}
	// The copy is IMMEDIATELY too: it runs once.
	eventually(t, 60*time.Second, "the copy ran", func() error {
		bkOK(t, sh, "GET", "/task/info/"+cp.Key, nil, &cp)
		if deref(cp.LastExecutionStatus) != "SUCCESS" {
			return fmt.Errorf("%s", deref(cp.LastExecutionStatus))
		}
		return nil
	})

	// page: the document's query (pageNumber 0 is the first page, echoed).
	var raw json.RawMessage
	bkOK(t, sh, "GET", "/task/page/bkrepo?name=&lastExecutionStatus=SUCCESS&enabled=true&sortType=CREATED_TIME&pageNumber=0&pageSize=1", nil, &raw)
	sameKeys(t, "page", raw, bkPageKeys)
	page = bkPage[bkTaskInfo]{}
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	if page.PageNumber != 0 || page.PageSize != 1 || page.TotalRecords != 2 || page.TotalPages != 2 || len(page.Records) != 1 || page.Records[0].Key != cp.Key {
		t.Fatalf("first page, newest first: %s", raw)
	}
	sameKeys(t, "page.records[0]", field(t, raw, "records")[1:len(field(t, raw, "records"))-1], bkTaskInfoKeys)
	bkOK(t, sh, "GET", "/task/page/bkrepo?pageNumber=2&pageSize=1", nil, &page)
	if page.PageNumber != 2 || len(page.Records) != 1 || page.Records[0].Key != key {
		t.Fatalf("second page: %+v", page)
	}
	bkOK(t, sh, "GET", "/task/page/bkrepo?name=计", nil, &page)
	if page.TotalRecords != 1 || page.Records[0].Key != key || page.PageNumber != 1 || page.PageSize != 20 {
		t.Fatalf("name prefix 计: %+v", page)
	}
	bkOK(t, sh, "GET", "/task/page/bkrepo?sortType=LAST_EXECUTION_TIME", nil, &page)
	if page.TotalRecords != 2 || *page.Records[0].LastExecutionTime < *page.Records[1].LastExecutionTime {
		t.Fatalf("by last execution: %+v", page.Records)
	}
	bkOK(t, sh, "GET", "/task/page/other", nil, &page)
	if page.TotalRecords != 0 || page.Records == nil {
		t.Fatalf("another project: %+v", page)
	}

	// toggle: data null, enabled flips, the page's enabled filter follows.
	bkOK(t, sh, "POST", "/task/toggle/status/"+key, nil, nil)
	bkOK(t, sh, "GET", "/task/info/"+key, nil, &task)
	if task.Enabled {
		t.Fatal("still enabled after a toggle")
	}
	bkOK(t, sh, "GET", "/task/page/bkrepo?enabled=false", nil, &page)
	if page.TotalRecords != 1 || page.Records[0].Key != key {
		t.Fatalf("enabled=false: %+v", page)
	}
	bkOK(t, sh, "POST", "/task/toggle/status/"+key, nil, nil)
	bkOK(t, sh, "GET", "/task/info/"+key, nil, &task)
	if !task.Enabled {
		t.Fatal("disabled after a second toggle")
	}

	// update: the document's body renames; what it leaves out stays.
	before := task
	bkOK(t, sh, "POST", "/task/update", fmt.Sprintf(bkSeedUpdate, key), nil)
	bkOK(t, sh, "GET", "/task/info/"+key, nil, &task)
	if task.Name != "更新后的名称" || fmt.Sprint(task.Setting) != fmt.Sprint(before.Setting) || !task.Enabled || task.ReplicaType != "SCHEDULED" ||
		task.ExecutionTimes != 1 || task.CreatedDate != before.CreatedDate || task.LastModifiedDate < before.LastModifiedDate {
		t.Fatalf("updated %+v, was %+v", task, before)
	}

	// execute: data null; a second run, which finds everything there.
	bkOK(t, sh, "POST", "/task/execute/"+key, nil, nil)
	eventually(t, 60*time.Second, "the second run", func() error {
		bkOK(t, sh, "GET", "/task/info/"+key, nil, &task)
		if deref(task.LastExecutionStatus) != "SUCCESS" || task.ExecutionTimes != 2 {
			return fmt.Errorf("%s after %d executions", deref(task.LastExecutionStatus), task.ExecutionTimes)
		}
		return nil
	})

	// records: the two runs, newest first, from any agent.
	var records []json.RawMessage
	eventually(t, 10*time.Second, "two ended records on guangzhou", func() error {
		bkOK(t, gz, "GET", "/task/record/list/"+key, nil, &records)
		if len(records) != 2 || !bytes.Contains(records[0], []byte(`"status":"SUCCESS"`)) {
			return fmt.Errorf("%s", records)
		}
		return nil
	})
	var recs []bkRecord
	for i, r := range records {
		sameKeys(t, fmt.Sprintf("record %d", i), r, bkRecordInfoKeys)
		var rec bkRecord
		if err := json.Unmarshal(r, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.TaskKey != key || rec.Status != "SUCCESS" || !bkTime.MatchString(rec.StartTime) || rec.EndTime == nil || rec.ErrorReason != nil ||
			rec.TotalBytes != 2*total || rec.ReplicaOverview.Success != 8 || rec.ReplicaOverview.Failed != 0 || rec.ReplicaOverview.Conflict != 0 {
			t.Fatalf("record %d: %s", i, r)
		}
		recs = append(recs, rec)
	}
	second, first := recs[0], recs[1]
	if first.ReplicatedBytes != 2*total || second.ReplicatedBytes != 0 || first.StartTime > second.StartTime {
		t.Fatalf("first run %+v, second %+v", first, second)
	}
	var rpage bkPage[bkRecord]
	bkOK(t, sh, "GET", "/task/record/page/"+key+"?pageNumber=1&pageSize=1", nil, &rpage)
	if rpage.TotalRecords != 2 || rpage.TotalPages != 2 || len(rpage.Records) != 1 || rpage.Records[0].ID != second.ID {
		t.Fatalf("record page: %+v", rpage)
	}
	bkOK(t, sh, "GET", "/task/record/page/"+key+"?status=FAILED", nil, &rpage)
	if rpage.TotalRecords != 0 {
		t.Fatalf("FAILED records: %+v", rpage)
	}
	bkOK(t, sh, "GET", "/task/record/"+first.ID, nil, &raw)
	sameKeys(t, "task record", raw, []string{"replicaObjectType", "record"})
	sameKeys(t, "task record.record", field(t, raw, "record"), bkRecordInfoKeys)
	if string(field(t, raw, "replicaObjectType")) != `"REPOSITORY"` || !bytes.Contains(field(t, raw, "record"), []byte(first.ID)) {
		t.Fatalf("task record %s", raw)
	}
	var dpage bkPage[json.RawMessage]
	bkOK(t, bj, "GET", "/task/record/detail/page/"+first.ID+"?pageNumber=1&pageSize=10", nil, &dpage)
	if dpage.TotalRecords != 2 || len(dpage.Records) != 2 {
		t.Fatalf("details: %+v", dpage)
	}
	var remotes []string
	for _, raw := range dpage.Records {
		sameKeys(t, "detail", raw, bkDetailKeys)
		var d bkDetail
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if d.RecordID != first.ID || d.LocalCluster != "Region shanghai" || d.LocalRepoName != "maven-local" || d.RepoType != "MAVEN" ||
			d.Status != "SUCCESS" || d.Progress.Node.Success != 4 || d.Progress.Node.Skip != 0 || d.Progress.Node.Failed != 0 ||
			d.Progress.TotalSize != total || d.PackageConstraint["packageKey"] != "gav://com.alibaba:fastjson" {
			t.Fatalf("detail %s", raw)
		}
		remotes = append(remotes, d.RemoteCluster)
	}
	if fmt.Sprint(remotes) != "[Region beijing Region guangzhou]" {
		t.Fatalf("details for %v", remotes)
	}
	bkOK(t, sh, "GET", "/task/record/detail/page/"+second.ID+"?clusterName=guangzhou", nil, &dpage)
	var d bkDetail
	if len(dpage.Records) != 1 || json.Unmarshal(dpage.Records[0], &d) != nil || d.RemoteCluster != "Region guangzhou" || d.Progress.Node.Skip != 4 {
		t.Fatalf("second run's guangzhou detail: %s", dpage.Records)
	}
	var ov map[string]int64
	bkOK(t, sh, "GET", "/task/record/overview/"+first.ID, nil, &ov)
	if fmt.Sprint(ov) != "map[conflict:0 failed:0 success:8]" {
		t.Fatalf("overview %v", ov)
	}

	// clusters: the registry, healthy as gossip says.
	var clusters []json.RawMessage
	eventually(t, 30*time.Second, "three healthy clusters", func() error {
		bkOK(t, bj, "GET", "/cluster/list", nil, &clusters)
		if len(clusters) != 3 {
			return fmt.Errorf("%d clusters", len(clusters))
		}
		for _, c := range clusters {
			if !bytes.Contains(c, []byte(`"status":"HEALTHY"`)) {
				return fmt.Errorf("%s", c)
			}
		}
		return nil
	})
	for _, c := range clusters {
		sameKeys(t, "cluster", c, bkClusterKeys)
	}
	var ci struct {
		ID, Name, Status, Type, URL string
		Password, ErrorReason       *string
	}
	bkOK(t, sh, "GET", "/cluster/info/beijing", nil, &ci)
	if ci.ID != "beijing" || ci.Name != "Region beijing" || ci.Status != "HEALTHY" || ci.Type != "STANDALONE" || ci.URL != bj.url() || ci.Password != nil {
		t.Fatalf("cluster info %+v (%s); members %+v", ci, deref(ci.ErrorReason), membersOf(t, sh))
	}
	bkOK(t, sh, "GET", "/cluster/list?name=Region+g", nil, &clusters)
	if len(clusters) != 1 {
		t.Fatalf("clusters named Region g: %s", clusters)
	}
	if status, env := bkCall(t, sh, "GET", "/cluster/info/mars", mgmtToken, nil); status != 200 || env.Code != 0 || string(env.Data) != "null" {
		t.Fatalf("unknown cluster: %d %d %s", status, env.Code, env.Data)
	}

	// delete: data null; the task and its records are gone.
	bkOK(t, sh, "DELETE", "/task/delete/"+cp.Key, nil, nil)
	bkFails(t, sh, "GET", "/task/info/"+cp.Key, mgmtToken, nil, 400, 250310, "replica task ["+cp.Key+"] not found")
	bkFails(t, sh, "GET", "/task/record/list/"+cp.Key, mgmtToken, nil, 400, 250310, "not found")
	if n := bkTaskCount(t, sh); n != 1 {
		t.Fatalf("%d tasks after the delete", n)
	}
}

func TestBkRepoBadRequestsChangeNothing(t *testing.T) {
	nodes := replicationGroup(t)
	sh := nodes[0]
	f := follower(t, nodes)
	good := func(name string) map[string]any {
		return map[string]any{
			"name": name, "localProjectId": "bkrepo", "sourceClusterId": "shanghai", "replicaObjectType": "REPOSITORY",
			"replicaTaskObjects": []map[string]any{{"localRepoName": "slow", "remoteProjectId": "bkrepo", "remoteRepoName": "slow", "repoType": "GENERIC"}},
			"replicaType":        "SCHEDULED",
			"setting": map[string]any{"rateLimit": 1 << 20, "includeMetadata": true, "conflictStrategy": "SKIP", "errorStrategy": "CONTINUE",
				"executionStrategy": "CRON_EXPRESSION", "executionPlan": map[string]any{"executeImmediately": false, "cronExpression": "0 0 0 1 1 ?"}},
			"remoteClusterIds": []string{"beijing"}, "enabled": true,
		}
	}
	var existing, second bkTaskInfo
	bkOK(t, f, "POST", "/task/create", good("existing"), &existing)
	bkOK(t, f, "POST", "/task/create", good("second"), &second)
	if existing.Setting.ExecutionPlan["cronExpression"] != "0 0 0 1 1 ?" || existing.NextExecutionTime == nil || !bkTime.MatchString(*existing.NextExecutionTime) {
		t.Fatalf("cron task %+v", existing)
	}
	count := bkTaskCount(t, f)
	if count != 2 {
		t.Fatalf("%d tasks", count)
	}

	with := func(change func(map[string]any)) map[string]any {
		b := good("new")
		change(b)
		return b
	}
	setting := func(b map[string]any) map[string]any { return b["setting"].(map[string]any) }
	object := func(b map[string]any) map[string]any { return b["replicaTaskObjects"].([]map[string]any)[0] }
	for _, c := range []struct {
		what string
		body any
		code int
		want string
	}{
		{"missing name", with(func(b map[string]any) { delete(b, "name") }), 250105, "Parameter [name] is invalid"},
		{"bad object type", with(func(b map[string]any) { b["replicaObjectType"] = "FOO" }), 250105, "Parameter [replicaObjectType] is invalid"},
		{"bad replica type", with(func(b map[string]any) { b["replicaType"] = "SOMETIMES" }), 250105, "Parameter [replicaType] is invalid"},
		{"bad conflict strategy", with(func(b map[string]any) { setting(b)["conflictStrategy"] = "MERGE" }), 250105, "Parameter [setting.conflictStrategy] is invalid"},
		{"bad execution strategy", with(func(b map[string]any) { setting(b)["executionStrategy"] = "WHENEVER" }), 250105, "Parameter [executionStrategy] is invalid"},
		{"unknown cluster", with(func(b map[string]any) { b["remoteClusterIds"] = []string{"mars"} }), 250105, `Parameter [remoteClusterIds] is invalid: "mars" is not a registered cluster`},
		{"self target", with(func(b map[string]any) { b["remoteClusterIds"] = []string{"beijing", "shanghai"} }), 250105, "Parameter [remoteClusterIds] is invalid"},
		{"PACKAGE without packageConstraints", with(func(b map[string]any) { b["replicaObjectType"] = "PACKAGE" }), 250105, "packageConstraints] is invalid"},
		{"PATH without pathConstraints", with(func(b map[string]any) { b["replicaObjectType"] = "PATH"; object(b)["pathConstraints"] = []string{} }), 250105, "pathConstraints] is invalid"},
		{"invalid cron", with(func(b map[string]any) { setting(b)["executionPlan"] = map[string]any{"cronExpression": "every day"} }), 250105, "Parameter [executionPlan.cronExpression] is invalid"},
		{"time in the past", with(func(b map[string]any) {
			setting(b)["executionStrategy"] = "SPECIFIED_TIME"
			setting(b)["executionPlan"] = map[string]any{"executeTime": "2020-03-16T12:00:00.000"}
		}), 250105, "Parameter [executionPlan.executeTime] is invalid"},
		{"unreadable time", with(func(b map[string]any) {
			setting(b)["executionStrategy"] = "SPECIFIED_TIME"
			setting(b)["executionPlan"] = map[string]any{"executeTime": "tomorrow"}
		}), 250105, "Parameter [setting.executionPlan.executeTime] is invalid"},
		{"wrong type", with(func(b map[string]any) { setting(b)["rateLimit"] = "fast" }), 250105, "Parameter [setting.rateLimit] is invalid"},
		{"duplicate name", good("existing"), 250107, "Resource [existing] existed"},
		{"not JSON", `{"name": "x"`, 250106, "Invalid request content"},
		{"empty body", ``, 250106, "Invalid request content"},
	} {
		t.Run(c.what, func(t *testing.T) {
			bkFails(t, f, "POST", "/task/create", mgmtToken, c.body, 400, c.code, c.want)
		})
	}

	// Every other write, refused.
	bkFails(t, f, "POST", "/task/copy", mgmtToken, map[string]string{"key": second.Key, "name": "existing"}, 400, 250107, "Resource [existing] existed")
	bkFails(t, f, "POST", "/task/copy", mgmtToken, map[string]string{"key": second.Key}, 400, 250105, "Parameter [name] is invalid")
	bkFails(t, f, "POST", "/task/update", mgmtToken, map[string]string{"key": second.Key, "name": "existing"}, 400, 250107, "Resource [existing] existed")
	bkFails(t, f, "POST", "/task/update", mgmtToken, map[string]any{"key": second.Key, "remoteClusterIds": []string{"mars"}}, 400, 250105, "Parameter [remoteClusterIds] is invalid")
	bkFails(t, f, "POST", "/task/update", mgmtToken, map[string]any{"name": "keyless"}, 400, 250105, "Parameter [key] is invalid")
	for _, c := range []struct{ method, path string }{
		{"GET", "/task/info/nope"}, {"GET", "/task/detail/nope"}, {"DELETE", "/task/delete/nope"}, {"POST", "/task/toggle/status/nope"},
		{"POST", "/task/execute/nope"}, {"GET", "/task/record/list/nope"}, {"GET", "/task/record/page/nope"},
		{"GET", "/task/record/nope"}, {"GET", "/task/record/overview/nope"}, {"GET", "/task/record/detail/page/nope"},
	} {
		bkFails(t, f, c.method, c.path, mgmtToken, nil, 400, 250310, "not found")
	}
	bkFails(t, f, "POST", "/task/update", mgmtToken, map[string]string{"key": "nope", "name": "x"}, 400, 250310, "replica task [nope] not found")
	bkFails(t, f, "POST", "/task/copy", mgmtToken, map[string]string{"key": "nope", "name": "x"}, 400, 250310, "replica task [nope] not found")
	for _, q := range []string{"sortType=FOO", "enabled=maybe", "lastExecutionStatus=DONE", "pageNumber=-1", "pageSize=0", "pageNumber=x"} {
		bkFails(t, f, "GET", "/task/page/bkrepo?"+q, mgmtToken, nil, 400, 250105, "Parameter [")
	}

	// Authentication failures come back in the envelope.
	read := createToken(t, f, mgmtToken, "read")
	bkFails(t, f, "GET", "/task/info/"+existing.Key, "", nil, 401, 250114, "Failed to authenticate: missing token")
	bkFails(t, f, "GET", "/task/info/"+existing.Key, "not-a-token", nil, 401, 250114, "Failed to authenticate: invalid token")
	bkFails(t, f, "POST", "/task/create", read.Secret, good("by reader"), 403, 250113, "Access denied: ")
	bkFails(t, f, "POST", "/task/execute/"+existing.Key, read.Secret, nil, 403, 250113, "Access denied: ")
	if status, env := bkCall(t, f, "GET", "/task/info/"+existing.Key, read.Secret, nil); status != 200 || env.Code != 0 {
		t.Fatalf("read token reads: %d %d", status, env.Code)
	}
	if n := bkTaskCount(t, f); n != count {
		t.Fatalf("bad requests changed the task count: %d, was %d", n, count)
	}

	// Executed while its run is going: 250303, and no second run. 8 MiB at
	// 1 MiB/s keeps the first one going for seconds.
	makeRepo(t, sh.url(), "", "bkrepo", "slow", "GENERIC")
	putFile(t, sh, "bkrepo", "slow", "/big.bin", readAllPatterned(9, 8<<20), nil)
	bkOK(t, f, "POST", "/task/execute/"+existing.Key, nil, nil)
	bkFails(t, f, "POST", "/task/execute/"+existing.Key, mgmtToken, nil, 400, 250303, "task status invalid")
	var records []bkRecord
	bkOK(t, f, "GET", "/task/record/list/"+existing.Key, nil, &records)
	if len(records) != 1 || records[0].Status != "RUNNING" || records[0].EndTime != nil {
		t.Fatalf("records while running: %+v", records)
	}
	var info bkTaskInfo
	bkOK(t, f, "GET", "/task/info/"+existing.Key, nil, &info)
	if info.ExecutionTimes != 1 || deref(info.LastExecutionStatus) != "RUNNING" {
		t.Fatalf("task while running: %+v", info)
	}
	// Deleting the task stops its run.
	bkOK(t, f, "DELETE", "/task/delete/"+existing.Key, nil, nil)
	if r := waitRun(t, f, records[0].ID, 30*time.Second); r.State != "CANCELED" {
		t.Fatalf("the run of a deleted task ended %s", r.State)
	}
	if n := bkTaskCount(t, f); n != count-1 {
		t.Fatalf("%d tasks after the delete, want %d", n, count-1)
	}
}
