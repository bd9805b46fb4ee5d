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
		"status", "replicatedBytes", "totalBytes", "lastExecutionStatus", "lastExecutionTime", "nextExecutionTime", "executionTimes", "enabled",
		"record", "recordReserveDays", "createdBy", "createdDate", "lastModifiedBy", "lastModifiedDate"}
	bkSettingKeys    = []string{"rateLimit", "includeMetadata", "conflictStrategy", "errorStrategy", "executionStrategy", "executionPlan"}
	bkObjectKeys     = []string{"localRepoName", "remoteProjectId", "remoteRepoName", "repoType", "packageConstraints", "pathConstraints"}
	bkPageKeys       = []string{"pageNumber", "pageSize", "totalRecords", "totalPages", "records", "count", "page"}
	bkRecordInfoKeys = []string{"id", "taskKey", "status", "startTime", "endTime", "errorReason", "replicatedBytes", "totalBytes", "replicaOverview"}
	bkDetailKeys     = []string{"id", "recordId", "localCluster", "remoteCluster", "localRepoName", "repoType", "packageConstraint", "pathConstraint",
		"artifactName", "version", "conflictStrategy", "size", "sha256", "status", "progress", "startTime", "endTime", "errorReason", "executeType"}
	bkClusterKeys = []string{"id", "name", "status", "errorReason", "type", "url", "username", "certificate", "appId", "accessKey", "udpPort",
		"extension", "detectType", "lastReportTime", "createdBy", "createdDate", "lastModifiedBy", "lastModifiedDate"}
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
	Status              string                      `json:"status"`
	ReplicatedBytes     int64                       `json:"replicatedBytes"`
	TotalBytes          int64                       `json:"totalBytes"`
	Record              bool                        `json:"record"`
	RecordReserveDays   int                         `json:"recordReserveDays"`
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
	ArtifactName      string         `json:"artifactName"`
	Size              int64          `json:"size"`
	Sha256            string         `json:"sha256"`
	Status            string         `json:"status"`
	Progress          bkProgress     `json:"progress"`
	StartTime         string         `json:"startTime"`
}

type bkCluster struct {
	ID, Name, Status, Type, URL, CreatedDate string
	ErrorReason                              *string
}

// bkProgress is bk-repo's flat ReplicaProgress.
type bkProgress struct {
	Success     int64 `json:"success"`
	Skip        int64 `json:"skip"`
	Failed      int64 `json:"failed"`
	TotalSize   int64 `json:"totalSize"`
	Conflict    int64 `json:"conflict"`
	FileSuccess int64 `json:"fileSuccess"`
	FileFailed  int64 `json:"fileFailed"`
}

// bkCall sends a request to the dialect on n with token (none if ""); a
// string body goes as it is, anything else as JSON. It checks the envelope:
// JSON, a traceId that is the X-Trace-Id, data null on failure.
func bkCall(t testing.TB, n *node, method, path, token string, body any) (int, bkEnvelope) {
	t.Helper()
	status, env, _ := bkSend(t, n, bkReq{method: method, path: path, token: token, body: body})
	return status, env
}

// bkReq is a call to the dialect: under prefix (/replication/api if ""),
// with headers.
type bkReq struct {
	method, prefix, path, token string
	headers                     map[string]string
	body                        any
}

func bkSend(t testing.TB, n *node, c bkReq) (int, bkEnvelope, http.Header) {
	t.Helper()
	var rd io.Reader
	switch b := c.body.(type) {
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
	if c.prefix == "" {
		c.prefix = "/replication/api"
	}
	req, err := http.NewRequest(c.method, n.url()+c.prefix+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env bkEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: %d %s is no envelope: %v", c.method, c.path, resp.StatusCode, raw, err)
	}
	if env.TraceID == "" || env.TraceID != resp.Header.Get("X-Trace-Id") {
		t.Fatalf("%s %s: traceId %q, X-Trace-Id %q", c.method, c.path, env.TraceID, resp.Header.Get("X-Trace-Id"))
	}
	if (env.Code == 0) != (env.Message == nil) || env.Code != 0 && string(env.Data) != "null" {
		t.Fatalf("%s %s: envelope %s", c.method, c.path, raw)
	}
	return resp.StatusCode, env, resp.Header
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
	sameKeys(t, "executionPlan", field(t, field(t, env.Data, "setting"), "executionPlan"), []string{"executeImmediately", "executeTime", "cronExpression"})
	var task bkTaskInfo
	if err := json.Unmarshal(env.Data, &task); err != nil {
		t.Fatal(err)
	}
	if len(task.Key) != 32 || task.ID == "" || task.Name != "计划" || task.ProjectID != "bkrepo" || task.ReplicaObjectType != "REPOSITORY" ||
		task.ReplicaType != "SCHEDULED" || task.Setting.ConflictStrategy != "SKIP" || task.Setting.ErrorStrategy != "CONTINUE" ||
		!task.Setting.IncludeMetadata || task.Setting.ExecutionStrategy != "IMMEDIATELY" || task.Setting.ExecutionPlan["executeImmediately"] != true ||
		deref(task.Description) != "test replica task" || !task.Enabled || task.CreatedBy != "management" || task.LastModifiedBy != "management" ||
		!bkTime.MatchString(task.CreatedDate) || !bkTime.MatchString(task.LastModifiedDate) || task.NextExecutionTime != nil ||
		!task.Record || task.RecordReserveDays != 30 || task.Setting.ExecutionPlan["executeTime"] != nil || task.Setting.ExecutionPlan["cronExpression"] != nil ||
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
	if task.LastExecutionTime == nil || !bkTime.MatchString(*task.LastExecutionTime) || task.NextExecutionTime != nil ||
		task.Status != "COMPLETED" || task.ReplicatedBytes != 2*total || task.TotalBytes != 2*total {
		t.Fatalf("after its run: %+v", task)
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

	// copy: a new key with the same settings, disabled and never run, as
	// bk-repo copies; data null.
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
		fmt.Sprint(cp.Setting) != fmt.Sprint(task.Setting) || fmt.Sprint(cp.RemoteClusters) != fmt.Sprint(task.RemoteClusters) ||
		cp.Enabled || cp.Status != "WAITING" || cp.ExecutionTimes != 0 || cp.LastExecutionStatus != nil || cp.LastExecutionTime != nil {
		t.Fatalf("copy %+v of %+v", cp, task)
	}
	var cpDetail struct {
		Objects []json.RawMessage `json:"objects"`
	}
	bkOK(t, sh, "GET", "/task/detail/"+cp.Key, nil, &cpDetail)
	if fmt.Sprint(cpDetail.Objects) != fmt.Sprint(detail.Objects) {
		t.Fatalf("copied objects %s, want %s", cpDetail.Objects, detail.Objects)
	}
	// A disabled task is not executed: 250304, and no record.
	bkFails(t, sh, "POST", "/task/execute/"+cp.Key, mgmtToken, nil, 400, 250304, "task enables is false")
	var none []json.RawMessage
	bkOK(t, sh, "GET", "/task/record/list/"+cp.Key, nil, &none)
	if len(none) != 0 || none == nil {
		t.Fatalf("records of the disabled copy: %s", none)
	}

	// update: the document's body on the copy, which never ran, renames it;
	// what the body leaves out stays. The task that has run is not updated.
	bkOK(t, sh, "POST", "/task/update", fmt.Sprintf(bkSeedUpdate, cp.Key), nil)
	before := cp
	bkOK(t, sh, "GET", "/task/info/"+cp.Key, nil, &cp)
	if cp.Name != "更新后的名称" || fmt.Sprint(cp.Setting) != fmt.Sprint(before.Setting) || cp.Enabled || cp.ReplicaType != "SCHEDULED" ||
		deref(cp.Description) != "test replica task" || cp.ExecutionTimes != 0 || cp.CreatedDate != before.CreatedDate || cp.LastModifiedDate < before.LastModifiedDate {
		t.Fatalf("updated %+v, was %+v", cp, before)
	}
	bkFails(t, sh, "POST", "/task/update", mgmtToken, fmt.Sprintf(bkSeedUpdate, key), 400, 250308, "can not be updated")

	// page: the document's query (pageNumber 0 is the first page, answered
	// as 1), newest first, with the deprecated count and page.
	var raw json.RawMessage
	bkOK(t, sh, "GET", "/task/page/bkrepo?name=&lastExecutionStatus=SUCCESS&enabled=true&sortType=CREATED_TIME&pageNumber=0&pageSize=1", nil, &raw)
	sameKeys(t, "page", raw, bkPageKeys)
	page = bkPage[bkTaskInfo]{}
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	if page.PageNumber != 1 || page.PageSize != 1 || page.TotalRecords != 1 || page.TotalPages != 1 || len(page.Records) != 1 || page.Records[0].Key != key ||
		string(field(t, raw, "count")) != "1" || string(field(t, raw, "page")) != "1" {
		t.Fatalf("first page: %s", raw)
	}
	sameKeys(t, "page.records[0]", field(t, raw, "records")[1:len(field(t, raw, "records"))-1], bkTaskInfoKeys)
	bkOK(t, sh, "GET", "/task/page/bkrepo?pageNumber=1&pageSize=1", nil, &page)
	if page.TotalRecords != 2 || page.Records[0].Key != cp.Key {
		t.Fatalf("newest first: %+v", page)
	}
	bkOK(t, sh, "GET", "/task/page/bkrepo?pageNumber=2&pageSize=1", nil, &page)
	if page.PageNumber != 2 || len(page.Records) != 1 || page.Records[0].Key != key {
		t.Fatalf("second page: %+v", page)
	}
	bkOK(t, sh, "GET", "/task/page/bkrepo?pageNumber=-1&sortDirection=ASC", nil, &page)
	if page.PageNumber != 1 || page.PageSize != 20 || len(page.Records) != 2 || page.Records[0].Key != key {
		t.Fatalf("oldest first: %+v", page)
	}
	bkOK(t, sh, "GET", "/task/page/bkrepo?name=计", nil, &page)
	if page.TotalRecords != 1 || page.Records[0].Key != key || page.PageNumber != 1 || page.PageSize != 20 {
		t.Fatalf("name prefix 计: %+v", page)
	}
	bkOK(t, sh, "GET", "/task/page/other", nil, &page)
	if page.TotalRecords != 0 || page.Records == nil {
		t.Fatalf("another project: %+v", page)
	}

	// toggle: data null, enabled flips, the page's enabled filter follows.
	// Enabled, the copy makes its IMMEDIATELY run.
	bkOK(t, sh, "POST", "/task/toggle/status/"+key, nil, nil)
	bkOK(t, sh, "GET", "/task/info/"+key, nil, &task)
	if task.Enabled {
		t.Fatal("still enabled after a toggle")
	}
	bkOK(t, sh, "GET", "/task/page/bkrepo?enabled=false", nil, &page)
	if page.TotalRecords != 2 {
		t.Fatalf("enabled=false: %+v", page)
	}
	bkOK(t, sh, "POST", "/task/toggle/status/"+key, nil, nil)
	bkOK(t, sh, "POST", "/task/toggle/status/"+cp.Key, nil, nil)
	bkOK(t, sh, "GET", "/task/info/"+key, nil, &task)
	if !task.Enabled {
		t.Fatal("disabled after a second toggle")
	}
	eventually(t, 60*time.Second, "the enabled copy ran", func() error {
		bkOK(t, sh, "GET", "/task/info/"+cp.Key, nil, &cp)
		if deref(cp.LastExecutionStatus) != "SUCCESS" || cp.ExecutionTimes != 1 || cp.Status != "COMPLETED" {
			return fmt.Errorf("%s after %d executions, %s", deref(cp.LastExecutionStatus), cp.ExecutionTimes, cp.Status)
		}
		return nil
	})
	bkOK(t, sh, "GET", "/task/page/bkrepo?sortType=LAST_EXECUTION_TIME", nil, &page)
	if page.TotalRecords != 2 || page.Records[0].Key != cp.Key {
		t.Fatalf("by last execution, newest first: %+v", page.Records)
	}
	bkOK(t, sh, "GET", "/task/page/bkrepo?sortType=LAST_EXECUTION_TIME&sortDirection=ASC", nil, &page)
	if page.TotalRecords != 2 || page.Records[0].Key != key {
		t.Fatalf("by last execution, oldest first: %+v", page.Records)
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
	if task.ReplicatedBytes != 0 || task.TotalBytes != 2*total {
		t.Fatalf("the second run's bytes: %d of %d", task.ReplicatedBytes, task.TotalBytes)
	}

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
	sameKeys(t, "task record", raw, []string{"replicaObjectType", "replicaType", "record"})
	sameKeys(t, "task record.record", field(t, raw, "record"), bkRecordInfoKeys)
	if string(field(t, raw, "replicaObjectType")) != `"REPOSITORY"` || string(field(t, raw, "replicaType")) != `"SCHEDULED"` || !bytes.Contains(field(t, raw, "record"), []byte(first.ID)) {
		t.Fatalf("task record %s", raw)
	}
	// details: one per file and target, newest first, asked on beijing of
	// a run shanghai executed.
	var dpage bkPage[json.RawMessage]
	bkOK(t, bj, "GET", "/task/record/detail/page/"+first.ID+"?pageNumber=1&pageSize=10", nil, &dpage)
	if dpage.TotalRecords != 8 || len(dpage.Records) != 8 {
		t.Fatalf("details: %+v", dpage)
	}
	remotes := map[string]int{}
	var last string
	for _, raw := range dpage.Records {
		sameKeys(t, "detail", raw, bkDetailKeys)
		sameKeys(t, "detail.progress", field(t, raw, "progress"), []string{"success", "skip", "failed", "totalSize", "conflict", "fileSuccess", "fileFailed"})
		var d bkDetail
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if d.RecordID != first.ID || d.LocalCluster != "Region shanghai" || d.LocalRepoName != "maven-local" || d.RepoType != "MAVEN" ||
			d.Status != "SUCCESS" || d.Progress != (bkProgress{Success: 1, TotalSize: d.Size, FileSuccess: 1}) || d.Size == 0 || len(d.Sha256) != 64 ||
			!strings.HasPrefix(d.ArtifactName, "/com/alibaba/fastjson/") || last != "" && d.StartTime > last {
			t.Fatalf("detail %s", raw)
		}
		last = d.StartTime
		remotes[d.RemoteCluster]++
	}
	if fmt.Sprint(remotes) != "map[Region beijing:4 Region guangzhou:4]" {
		t.Fatalf("details for %v", remotes)
	}
	var list []bkDetail
	bkOK(t, sh, "GET", "/task/record/detail/list/"+first.ID, nil, &list)
	if len(list) != 8 {
		t.Fatalf("detail list: %+v", list)
	}
	// The detail page's filters, as the UI sends them.
	for q, want := range map[string]int{
		"status=SUCCESS": 8, "status=FAILED": 0, "status=RUNNING": 0, "path=/com/alibaba/fastjson/1.2.47/": 4, "path=/org": 0,
		"artifactName=/com/alibaba/fastjson/1.2.48/fastjson-1.2.48.jar": 2, "path=/com/alibaba&artifactName=/com/alibaba/fastjson/1.2.48/": 4,
		"repoName=maven-local": 8, "repoName=maven": 0, "clusterName=Region+beijing": 4, "clusterName=guangzhou": 4, "clusterName=bei": 0,
		"status=SUCCESS&clusterName=beijing&pageSize=3": 4,
	} {
		bkOK(t, sh, "GET", "/task/record/detail/page/"+first.ID+"?"+q, nil, &dpage)
		if dpage.TotalRecords != int64(want) {
			t.Errorf("details %s: %d, want %d", q, dpage.TotalRecords, want)
		}
	}
	// The second run found both repositories as the first left them (the
	// quick check): it lists no file, so it has no detail, and its overview
	// counts the files it skipped.
	bkOK(t, sh, "GET", "/task/record/detail/page/"+second.ID, nil, &dpage)
	if dpage.TotalRecords != 0 {
		t.Fatalf("second run's details: %+v", dpage)
	}
	var ov2 map[string]int64
	bkOK(t, sh, "GET", "/task/record/overview/"+second.ID, nil, &ov2)
	if fmt.Sprint(ov2) != "map[conflict:0 failed:0 fileFailed:0 fileSuccess:8 success:8]" {
		t.Fatalf("second overview %v", ov2)
	}
	var ov map[string]int64
	bkOK(t, sh, "GET", "/task/record/overview/"+first.ID, nil, &ov)
	if fmt.Sprint(ov) != "map[conflict:0 failed:0 fileFailed:0 fileSuccess:8 success:8]" {
		t.Fatalf("overview %v", ov)
	}

	// clusters: the registry, healthy as gossip says, newest first; to the
	// agent asked, its own cluster is the CENTER.
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
	types := map[string]string{}
	last = ""
	for _, c := range clusters {
		sameKeys(t, "cluster", c, bkClusterKeys)
		var ci bkCluster
		if err := json.Unmarshal(c, &ci); err != nil {
			t.Fatal(err)
		}
		if last != "" && ci.CreatedDate > last {
			t.Fatalf("clusters not newest first: %s", clusters)
		}
		last, types[ci.ID] = ci.CreatedDate, ci.Type
	}
	if fmt.Sprint(types) != "map[beijing:CENTER guangzhou:STANDALONE shanghai:STANDALONE]" {
		t.Fatalf("clusters as beijing lists them: %v", types)
	}
	var ci bkCluster
	bkOK(t, sh, "GET", "/cluster/info/beijing", nil, &ci)
	if ci.ID != "beijing" || ci.Name != "Region beijing" || ci.Status != "HEALTHY" || ci.Type != "STANDALONE" || ci.URL != bj.url() {
		t.Fatalf("cluster info %+v (%s); members %+v", ci, deref(ci.ErrorReason), membersOf(t, sh))
	}
	for path, want := range map[string]string{"/cluster/info/center": "shanghai CENTER", "/cluster/info?name=Region+guangzhou": "guangzhou STANDALONE"} {
		ci = bkCluster{}
		bkOK(t, sh, "GET", path, nil, &ci)
		if ci.ID+" "+ci.Type != want {
			t.Fatalf("%s: %+v", path, ci)
		}
	}
	for path, want := range map[string]int{"/cluster/list?name=Region+g": 1, "/cluster/list?type=CENTER": 1, "/cluster/list?type=STANDALONE": 2, "/cluster/list/edge": 0} {
		bkOK(t, sh, "GET", path, nil, &clusters)
		if len(clusters) != want {
			t.Fatalf("%s: %s", path, clusters)
		}
	}
	var cpage bkPage[bkCluster]
	bkOK(t, sh, "GET", "/cluster/page?pageNumber=2&pageSize=2", nil, &cpage)
	if cpage.TotalRecords != 3 || cpage.TotalPages != 2 || len(cpage.Records) != 1 {
		t.Fatalf("cluster page 2: %+v", cpage)
	}
	for path, want := range map[string]string{"/cluster/info/mars": "null", "/cluster/info?name=mars": "null", "/cluster/exist?name=Region+beijing": "true", "/cluster/exist?name=mars": "false"} {
		if status, env := bkCall(t, sh, "GET", path, mgmtToken, nil); status != 200 || env.Code != 0 || string(env.Data) != want {
			t.Fatalf("%s: %d %d %s", path, status, env.Code, env.Data)
		}
	}
	bkFails(t, sh, "GET", "/cluster/list?type=FOO", mgmtToken, nil, 400, 250131, "Parameter [type]")
	bkFails(t, sh, "GET", "/cluster/exist", mgmtToken, nil, 400, 250103, "[name]")
	// The group's members join by gossip: the registry's writes say so.
	node := map[string]any{"name": "Region beijing", "url": "http://127.0.0.1:1", "type": "STANDALONE", "username": "admin", "password": "secret"}
	bkFails(t, sh, "POST", "/cluster/create", mgmtToken, node, 400, 250107, "Resource [Region beijing] existed")
	bkFails(t, sh, "POST", "/cluster/create", mgmtToken, map[string]any{"name": "Region mars", "url": "http://127.0.0.1:1", "type": "STANDALONE"}, 400, 250105, "--join")
	bkFails(t, sh, "POST", "/cluster/create", mgmtToken, map[string]any{"url": "http://127.0.0.1:1"}, 400, 250106, "[name]")
	bkFails(t, sh, "POST", "/cluster/update", mgmtToken, node, 400, 250105, "registered by its own agent")
	bkFails(t, sh, "POST", "/cluster/update", mgmtToken, map[string]any{"name": "Region mars"}, 400, 250306, "cluster node [Region mars] is not found")
	bkFails(t, sh, "DELETE", "/cluster/delete/beijing", mgmtToken, nil, 400, 250105, "leaves the group when its agent leaves")
	bkFails(t, sh, "DELETE", "/cluster/delete/mars", mgmtToken, nil, 400, 250306, "cluster node [mars] is not found")
	bkOK(t, sh, "POST", "/cluster/tryConnect?name=Region+beijing", nil, nil)
	bkFails(t, sh, "POST", "/cluster/tryConnect?name=mars", mgmtToken, nil, 400, 250306, "cluster node [mars] is not found")

	// delete: data null; the task and its records are gone.
	bkOK(t, sh, "DELETE", "/task/delete/"+cp.Key, nil, nil)
	bkFails(t, sh, "GET", "/task/info/"+cp.Key, mgmtToken, nil, 400, 250310, "replica task ["+cp.Key+"] not found")
	bkOK(t, sh, "GET", "/task/record/list/"+cp.Key, nil, &none)
	if len(none) != 0 || none == nil {
		t.Fatalf("records of a deleted task: %s", none)
	}
	bkOK(t, sh, "DELETE", "/task/delete/"+cp.Key, nil, nil) // bk-repo's delete does not look the key up
	if n := bkTaskCount(t, sh); n != 1 {
		t.Fatalf("%d tasks after the delete", n)
	}

	// tryConnect probes the cluster's agent: a stopped one is 250301.
	gz.stop()
	bkFails(t, sh, "POST", "/cluster/tryConnect?name=Region+guangzhou", mgmtToken, nil, 400, 250301, "Remote cluster [Region guangzhou] connect error")
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
		{"missing name", with(func(b map[string]any) { delete(b, "name") }), 250106, "[name]"},
		{"missing repoType", with(func(b map[string]any) { delete(object(b), "repoType") }), 250106, "[replicaTaskObjects[0].repoType]"},
		{"unknown repoType", with(func(b map[string]any) { object(b)["repoType"] = "FOO" }), 250106, "[replicaTaskObjects[0].repoType]"},
		{"bad object type", with(func(b map[string]any) { b["replicaObjectType"] = "FOO" }), 250106, "[replicaObjectType]"},
		{"bad replica type", with(func(b map[string]any) { b["replicaType"] = "SOMETIMES" }), 250106, "[replicaType]"},
		{"a replica type Ferry does not run", with(func(b map[string]any) { b["replicaType"] = "EDGE_PULL" }), 250105, "Parameter [replicaType] is invalid"},
		{"bad conflict strategy", with(func(b map[string]any) { setting(b)["conflictStrategy"] = "MERGE" }), 250106, "[setting.conflictStrategy]"},
		{"bad execution strategy", with(func(b map[string]any) { setting(b)["executionStrategy"] = "WHENEVER" }), 250106, "[setting.executionStrategy]"},
		{"wrong type", with(func(b map[string]any) { setting(b)["rateLimit"] = "fast" }), 250106, "[setting.rateLimit]"},
		{"no clusters", with(func(b map[string]any) { b["remoteClusterIds"] = []string{} }), 250104, "Parameter [remoteClusterIds] should not be empty"},
		{"unknown cluster", with(func(b map[string]any) { b["remoteClusterIds"] = []string{"mars"} }), 250306, `cluster node is not found: "mars" is not a registered cluster`},
		{"self target", with(func(b map[string]any) { b["remoteClusterIds"] = []string{"beijing", "shanghai"} }), 250105, "Parameter [remoteClusterIds] is invalid"},
		{"PACKAGE without packageConstraints", with(func(b map[string]any) { b["replicaObjectType"] = "PACKAGE" }), 250103, "packageConstraints]"},
		{"PATH without pathConstraints", with(func(b map[string]any) { b["replicaObjectType"] = "PATH"; object(b)["pathConstraints"] = []string{} }), 250105, "pathConstraints] is invalid"},
		{"a name of one character", with(func(b map[string]any) { b["name"] = "x" }), 250105, "Parameter [name] is invalid"},
		{"invalid cron", with(func(b map[string]any) { setting(b)["executionPlan"] = map[string]any{"cronExpression": "every day"} }), 250105, "Parameter [executionPlan.cronExpression] is invalid"},
		{"cron with both day fields", with(func(b map[string]any) { setting(b)["executionPlan"] = map[string]any{"cronExpression": "0 0 12 * * *"} }), 250105, "Parameter [executionPlan.cronExpression] is invalid"},
		{"time in the past", with(func(b map[string]any) {
			setting(b)["executionStrategy"] = "SPECIFIED_TIME"
			setting(b)["executionPlan"] = map[string]any{"executeTime": "2020-03-16T12:00:00.000"}
		}), 250105, "Parameter [executionPlan.executeTime] is invalid"},
		{"no time", with(func(b map[string]any) {
			setting(b)["executionStrategy"] = "SPECIFIED_TIME"
			setting(b)["executionPlan"] = map[string]any{}
		}), 250103, "[executeTime]"},
		{"unreadable time", with(func(b map[string]any) {
			setting(b)["executionStrategy"] = "SPECIFIED_TIME"
			setting(b)["executionPlan"] = map[string]any{"executeTime": "tomorrow"}
		}), 250106, "[setting.executionPlan.executeTime]"},
		{"IMMEDIATELY, not immediately", with(func(b map[string]any) {
			setting(b)["executionStrategy"] = "IMMEDIATELY"
			setting(b)["executionPlan"] = map[string]any{"executeImmediately": false}
		}), 250105, "Parameter [executeImmediately] is invalid"},
		{"records kept no days", with(func(b map[string]any) { b["recordReserveDays"] = 0 }), 250105, "Parameter [recordReserveDays] is invalid"},
		{"duplicate name", good("existing"), 250107, "Resource [existing] existed"},
		{"duplicate name in another project", with(func(b map[string]any) { b["name"] = "existing"; b["localProjectId"] = "other" }), 250107, "Resource [existing] existed"},
		{"not JSON", `{"name": "x"`, 250106, "Invalid request content"},
		{"empty body", ``, 250106, "Invalid request content"},
	} {
		t.Run(c.what, func(t *testing.T) {
			bkFails(t, f, "POST", "/task/create", mgmtToken, c.body, 400, c.code, c.want)
		})
	}

	// Every other write, refused; a copy's name is checked before its key.
	update := func(key string, change func(map[string]any)) map[string]any {
		b := good("second")
		b["key"] = key
		change(b)
		return b
	}
	bkFails(t, f, "POST", "/task/copy", mgmtToken, map[string]string{"key": second.Key, "name": "existing"}, 400, 250107, "Resource [existing] existed")
	bkFails(t, f, "POST", "/task/copy", mgmtToken, map[string]string{"key": "nope", "name": "existing"}, 400, 250107, "Resource [existing] existed")
	bkFails(t, f, "POST", "/task/copy", mgmtToken, map[string]string{"key": second.Key}, 400, 250106, "[name]")
	bkFails(t, f, "POST", "/task/update", mgmtToken, update(second.Key, func(b map[string]any) { b["remoteClusterIds"] = []string{"mars"} }), 400, 250306, "cluster node is not found")
	bkFails(t, f, "POST", "/task/update", mgmtToken, update("", func(b map[string]any) { delete(b, "key") }), 400, 250106, "[key]")
	bkFails(t, f, "POST", "/task/update", mgmtToken, update(second.Key, func(b map[string]any) { delete(b, "replicaTaskObjects") }), 400, 250106, "[replicaTaskObjects]")
	for _, c := range []struct{ method, path string }{
		{"GET", "/task/info/nope"}, {"GET", "/task/detail/nope"}, {"POST", "/task/toggle/status/nope"},
		{"POST", "/task/execute/nope"}, {"GET", "/task/record/nope"},
	} {
		bkFails(t, f, c.method, c.path, mgmtToken, nil, 400, 250310, "not found")
	}
	// What bk-repo answers with none: records of an unknown task or record,
	// and the delete of an unknown key.
	for path, want := range map[string]string{
		"/task/record/list/nope": `[]`, "/task/record/overview/nope": `null`, "/task/record/detail/list/nope": `[]`,
		"/task/record/page/nope":        `{"pageNumber":1,"pageSize":20,"totalRecords":0,"totalPages":0,"records":[],"count":0,"page":1}`,
		"/task/record/detail/page/nope": `{"pageNumber":1,"pageSize":20,"totalRecords":0,"totalPages":0,"records":[],"count":0,"page":1}`,
	} {
		var got json.RawMessage
		bkOK(t, f, "GET", path, nil, &got)
		if string(got) != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	bkOK(t, f, "DELETE", "/task/delete/nope", nil, nil)
	bkFails(t, f, "POST", "/task/update", mgmtToken, update("nope", func(map[string]any) {}), 400, 250310, "replica task [nope] not found")
	bkFails(t, f, "POST", "/task/copy", mgmtToken, map[string]string{"key": "nope", "name": "xy"}, 400, 250310, "replica task [nope] not found")
	for _, q := range []string{"sortType=FOO", "enabled=maybe", "lastExecutionStatus=DONE", "pageSize=0", "pageNumber=x"} {
		bkFails(t, f, "GET", "/task/page/bkrepo?"+q, mgmtToken, nil, 400, 250131, "Parameter [")
	}
	bkFails(t, f, "GET", "/task/page/bkrepo?sortDirection=UP", mgmtToken, nil, 400, 250105, "Parameter [sortDirection] is invalid")
	bkFails(t, f, "GET", "/task/record/page/"+existing.Key+"?status=BAD", mgmtToken, nil, 400, 250131, "Parameter [status]")
	// An update does not look at the name: bk-repo's update takes a taken one.
	bkOK(t, f, "POST", "/task/update", update(second.Key, func(b map[string]any) { b["name"] = "existing" }), nil)

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
