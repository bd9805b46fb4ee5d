package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
)

// pulpFeed is a feed on a real HTTP server on loopback: a PULP_MANIFEST and
// its files, with the requests it served counted by path.
type pulpFeed struct {
	srv      *httptest.Server
	files    map[string][]byte
	manifest string // when set, served instead of the files' own
	hits     sync.Map
	total    atomic.Int64
}

func newPulpFeed(t testing.TB, files map[string][]byte) *pulpFeed {
	f := &pulpFeed{files: files}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/feed/")
		f.total.Add(1)
		n, _ := f.hits.LoadOrStore(name, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		if name == "PULP_MANIFEST" {
			fmt.Fprint(w, f.manifestText())
			return
		}
		b, ok := f.files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *pulpFeed) url() string { return f.srv.URL + "/feed/" }

func (f *pulpFeed) manifestText() string {
	if f.manifest != "" {
		return f.manifest
	}
	var b strings.Builder
	for name, content := range f.files {
		sum := sha256.Sum256(content)
		fmt.Fprintf(&b, "%s,%s,%d\n", name, hex.EncodeToString(sum[:]), len(content))
	}
	return b.String()
}

func (f *pulpFeed) hitsOf(name string) int64 {
	if n, ok := f.hits.Load(name); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

type pulpSyncTask struct {
	pulpTask
	StartTime *string `json:"start_time"`
	Error     *struct {
		Code        string `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
	Progress struct {
		ISO struct {
			State    string `json:"state"`
			NumISOs  int    `json:"num_isos"`
			Finished int    `json:"num_isos_finished"`
		} `json:"iso_importer"`
	} `json:"progress_report"`
	Result *struct {
		Result string `json:"result"`
		RepoID string `json:"repo_id"`
	} `json:"result"`
}

// pulpSync syncs repo on n and waits for its task to end.
func pulpSync(t testing.TB, n *node, repo, body string) pulpSyncTask {
	t.Helper()
	var reports []struct {
		TaskID      string `json:"task_id"`
		TaskGroupID string `json:"task_group_id"`
		Href        string `json:"_href"`
		Spawned     []any  `json:"spawned_tasks"`
	}
	pulpOK(t, n, "POST", "/repositories/"+repo+"/actions/sync/", body, 202, &reports)
	if len(reports) != 1 || reports[0].TaskGroupID == "" || reports[0].Href != "/pulp/api/v2/task_groups/"+reports[0].TaskGroupID+"/" || len(reports[0].Spawned) != 1 {
		t.Fatalf("sync call reports %+v", reports)
	}
	return pulpWait(t, n, reports[0].TaskID)
}

func pulpWait(t testing.TB, n *node, id string) pulpSyncTask {
	t.Helper()
	var task pulpSyncTask
	eventually(t, 60*time.Second, "sync task "+id+" ends", func() error {
		pulpOK(t, n, "GET", "/tasks/"+id+"/", "", 200, &task)
		switch task.State {
		case "finished", "error", "canceled":
			return nil
		}
		return fmt.Errorf("%s", task.State)
	})
	return task
}

func TestPulpSyncFromAFeedAndBetweenRegions(t *testing.T) {
	nodes := replicationGroup(t)
	a, b := nodes[0], nodes[1]
	files := map[string][]byte{"1.iso": readAllPatterned(1, 300<<10), "2.iso": []byte("two"), "sub/3.iso": readAllPatterned(3, 70<<10)}
	fd := newPulpFeed(t, files)
	pulpOK(t, a, "POST", "/repositories/", `{"id": "isos", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+fd.url()+`"},
	  "distributors": [{"distributor_type_id": "iso_distributor", "distributor_id": "iso", "auto_publish": true}]}`, 201, nil)

	task := pulpSync(t, a, "isos", "")
	if task.State != "finished" || task.Result == nil || task.Result.Result != "success" || task.Progress.ISO.State != "complete" ||
		fmt.Sprint(task.Tags) != "[pulp:repository:isos pulp:action:sync]" {
		t.Fatalf("sync %+v", task)
	}
	for name, content := range files {
		if got := getFile(t, a, "pulp", "isos", "/"+name); string(got) != string(content) {
			t.Fatalf("%s: %d bytes, want %d", name, len(got), len(content))
		}
	}
	var repo struct {
		Counts map[string]int `json:"content_unit_counts"`
	}
	pulpOK(t, a, "GET", "/repositories/isos/", "", 200, &repo)
	if repo.Counts["iso"] != 3 {
		t.Fatalf("units %v", repo.Counts)
	}
	// The sync is a run of the region's agent.
	var run struct {
		State    string `json:"state"`
		Executor string `json:"executorClusterId"`
	}
	getOK(t, a, "/v1/runs/"+task.TaskID, &run)
	if run.State != "SUCCESS" || run.Executor != a.id() {
		t.Fatalf("run %+v", run)
	}

	// A re-sync of an unchanged feed fetches the manifest and nothing else.
	before := fd.total.Load()
	if task := pulpSync(t, a, "isos", `{"override_config": {}}`); task.State != "finished" {
		t.Fatalf("re-sync %+v", task)
	}
	if got := fd.total.Load() - before; got != 1 {
		t.Fatalf("the re-sync made %d requests, want 1 (the manifest)", got)
	}

	// Region b syncs from region a's publication, with a's credentials.
	pulpOK(t, b, "POST", "/repositories/", `{"id": "mirror", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+a.url()+`/pulp/isos/isos/",
	  "basic_auth_username": "admin", "basic_auth_password": "`+mgmtToken+`"}}`, 201, nil)
	if task := pulpSync(t, b, "mirror", ""); task.State != "finished" {
		t.Fatalf("sync from a publication %+v", task)
	}
	for name, content := range files {
		if got := getFile(t, b, "pulp", "mirror", "/"+name); string(got) != string(content) {
			t.Fatalf("mirror %s: %d bytes, want %d", name, len(got), len(content))
		}
	}

	// A bad checksum fails that file, stores nothing at its path, and the
	// task ends in error; the others arrive.
	bad := newPulpFeed(t, map[string][]byte{"good.iso": []byte("good"), "bad.iso": []byte("bad")})
	bad.manifest = fmt.Sprintf("good.iso,%s,4\nbad.iso,%s,3\n", sha([]byte("good")), sha([]byte("not bad")))
	pulpOK(t, a, "POST", "/repositories/", `{"id": "checked", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+bad.url()+`"}}`, 201, nil)
	task = pulpSync(t, a, "checked", "")
	if task.State != "error" || task.Error == nil || task.Error.Description == "" || task.Progress.ISO.State != "isos_failed" {
		t.Fatalf("sync of a bad file %+v", task)
	}
	if r := call(t, "GET", a.url()+"/generic/pulp/checked/bad.iso", mgmtToken, nil); r.status != http.StatusNotFound {
		t.Fatalf("the bad file is stored: %d", r.status)
	}
	if got := getFile(t, a, "pulp", "checked", "/good.iso"); string(got) != "good" {
		t.Fatalf("good.iso %q", got)
	}

	// A feed that is not there fails the sync at the manifest.
	pulpOK(t, a, "PUT", "/repositories/checked/importers/iso_importer/", `{"importer_config": {"feed": "`+bad.srv.URL+`/nothing/"}}`, 202, nil)
	if task := pulpSync(t, a, "checked", ""); task.State != "error" || task.Progress.ISO.State != "manifest_failed" {
		t.Fatalf("sync of a missing feed %+v", task)
	}
	// Without a feed: the sync is taken, and its task ends in error.
	pulpOK(t, a, "POST", "/repositories/", `{"id": "nofeed"}`, 201, nil)
	if task := pulpSync(t, a, "nofeed", ""); task.State != "error" || task.Error == nil || !strings.Contains(task.Error.Description, "without feed") {
		t.Fatalf("sync without a feed %+v", task)
	}
	pulpFails(t, a, "POST", "/repositories/nope/actions/sync/", mgmtToken, "", 404, "PLP0009")

	// Two syncs of one repository run one after the other.
	var first, second []struct {
		TaskID string `json:"task_id"`
	}
	pulpOK(t, a, "POST", "/repositories/isos/actions/sync/", "", 202, &first)
	pulpOK(t, a, "POST", "/repositories/isos/actions/sync/", "", 202, &second)
	t1, t2 := pulpWait(t, a, first[0].TaskID), pulpWait(t, a, second[0].TaskID)
	if t1.State != "finished" || t2.State != "finished" || *t2.StartTime < *t1.FinishTime {
		t.Fatalf("overlapping syncs: %+v then %+v", t1, t2)
	}
	var tasks []pulpTask
	pulpOK(t, a, "GET", "/tasks/?tag=pulp:repository:isos&tag=pulp:action:sync", "", 200, &tasks)
	if len(tasks) != 4 {
		t.Fatalf("sync tasks of isos: %d", len(tasks))
	}
}

func getFile(t testing.TB, n *node, project, repo, path string) []byte {
	t.Helper()
	r := do(t, "GET", n.url()+"/generic/"+project+"/"+repo+path, nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s/%s%s on %s: %d %s", project, repo, path, n.id(), r.status, r.body)
	}
	return r.body
}

// With --pulp-sync-reports-24 a sync answers as Pulp 2.4+ does, for
// pulp-admin 2.4+ and pulp-smash.
func TestPulpSyncReports24(t *testing.T) {
	nodes := startGroup(t, regions[:1], withBootstrapExpect(1), configure(func(c *config.Config) { c.PulpSyncReports24 = true }))
	n := nodes[0]
	sameLeader(t, 30*time.Second, n)
	pulpOK(t, n, "POST", "/repositories/", `{"id": "r"}`, 201, nil)
	var report struct {
		Result  any `json:"result"`
		Error   any `json:"error"`
		Spawned []struct {
			Href   string `json:"_href"`
			TaskID string `json:"task_id"`
		} `json:"spawned_tasks"`
	}
	pulpOK(t, n, "POST", "/repositories/r/actions/sync/", "", 202, &report)
	if report.Result != nil || report.Error != nil || len(report.Spawned) != 1 || report.Spawned[0].Href != "/pulp/api/v2/tasks/"+report.Spawned[0].TaskID+"/" {
		t.Fatalf("2.4+ report %+v", report)
	}
	if task := pulpWait(t, n, report.Spawned[0].TaskID); task.State != "error" {
		t.Fatalf("sync without a feed %+v", task)
	}
}
