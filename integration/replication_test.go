package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
)

// Replication runs on three real agents: shanghai holds the data and pushes
// it to beijing and guangzhou.

type runTarget struct {
	ClusterID      string `json:"clusterId"`
	State          string `json:"state"`
	ObjectsTotal   int64  `json:"objectsTotal"`
	ObjectsDone    int64  `json:"objectsDone"`
	ObjectsSkipped int64  `json:"objectsSkipped"`
	ObjectsFailed  int64  `json:"objectsFailed"`
	Conflicts      int64  `json:"conflicts"`
	BytesTotal     int64  `json:"bytesTotal"`
	BytesDone      int64  `json:"bytesDone"`
	BytesSkipped   int64  `json:"bytesSkipped"`
	BytesFailed    int64  `json:"bytesFailed"`
	BytesSent      int64  `json:"bytesSent"`
	BytesPerSecond int64  `json:"bytesPerSecond"`
	Error          string `json:"error"`
}

type run struct {
	ID              string      `json:"id"`
	State           string      `json:"state"`
	Executor        string      `json:"executorClusterId"`
	Error           string      `json:"error"`
	CancelRequested bool        `json:"cancelRequested"`
	StartedAt       time.Time   `json:"startedAt"`
	FinishedAt      time.Time   `json:"finishedAt"`
	Targets         []runTarget `json:"targets"`
}

func (r run) target(t testing.TB, id string) runTarget {
	t.Helper()
	for _, tg := range r.Targets {
		if tg.ClusterID == id {
			return tg
		}
	}
	t.Fatalf("run %s has no target %s: %+v", r.ID, id, r.Targets)
	return runTarget{}
}

func terminal(state string) bool {
	return state == "SUCCESS" || state == "FAILED" || state == "CANCELED"
}

// replicationGroup starts shanghai, beijing and guangzhou and waits until
// every agent's registry names all three (runs are validated against it).
func replicationGroup(t testing.TB, opts ...nodeOption) []*node {
	t.Helper()
	nodes := startGroup(t, regions, opts...)
	sameLeader(t, 30*time.Second, nodes...)
	for _, n := range nodes {
		eventually(t, 30*time.Second, n.id()+" registry has 3 clusters", func() error {
			var cs []struct {
				ID string `json:"id"`
			}
			getOK(t, n, "/v1/clusters", &cs)
			if len(cs) != 3 {
				return fmt.Errorf("%d clusters", len(cs))
			}
			return nil
		})
	}
	return nodes
}

// byRegion finds the agents of nodes by cluster id.
func byRegion(nodes []*node) map[string]*node {
	out := map[string]*node{}
	for _, n := range nodes {
		out[n.id()] = n
	}
	return out
}

// follower is an agent of nodes that is not the leader.
func follower(t testing.TB, nodes []*node) *node {
	t.Helper()
	l := sameLeader(t, 10*time.Second, nodes...)
	for _, n := range nodes {
		if n.id() != l.ID {
			return n
		}
	}
	t.Fatal("no follower")
	return nil
}

func putFile(t testing.TB, n *node, project, repo, path string, content []byte, meta map[string]string) {
	t.Helper()
	h := map[string]string{}
	for k, v := range meta {
		h["X-Ferry-Meta-"+k] = v
	}
	h["X-Ferry-Overwrite"] = "true"
	if r := do(t, "PUT", n.url()+"/generic/"+project+"/"+repo+path, bytes.NewReader(content), h); r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("put %s: %d %s", path, r.status, r.body)
	}
}

func startRun(t testing.TB, n *node, spec map[string]any) run {
	t.Helper()
	r := call(t, "POST", n.url()+"/v1/runs", mgmtToken, spec)
	mustStatus(t, r, http.StatusAccepted, "start run")
	var out run
	r.decode(t, &out)
	return out
}

func getRun(t testing.TB, n *node, id string) run {
	t.Helper()
	var out run
	getOK(t, n, "/v1/runs/"+id, &out)
	return out
}

func waitRun(t testing.TB, n *node, id string, within time.Duration) run {
	t.Helper()
	var out run
	eventually(t, within, "run "+id+" ends", func() error {
		out = getRun(t, n, id)
		if !terminal(out.State) {
			return fmt.Errorf("state %s: %+v", out.State, out.Targets)
		}
		return nil
	})
	return out
}

// repoSpec replicates a whole repository from shanghai to targets.
func repoSpec(project, repo, repoType string, targets ...string) map[string]any {
	return map[string]any{
		"sourceClusterId": "shanghai", "localProjectId": project, "replicaObjectType": "REPOSITORY",
		"replicaTaskObjects": []map[string]any{{"localRepoName": repo, "remoteProjectId": project, "remoteRepoName": repo, "repoType": repoType}},
		"remoteClusterIds":   targets,
		"setting":            map[string]any{"rateLimit": 0, "includeMetadata": true, "conflictStrategy": "SKIP", "errorStrategy": "CONTINUE"},
	}
}

type fileInfo struct {
	SHA256   string
	Size     int64
	Metadata map[string]string
}

// tree lists every file of a repository on one agent.
func tree(t testing.TB, n *node, project, repo string) map[string]fileInfo {
	t.Helper()
	out := map[string]fileInfo{}
	for page := 1; ; page++ {
		var p struct {
			TotalPages int64 `json:"totalPages"`
			Records    []struct {
				Path     string            `json:"fullPath"`
				SHA256   string            `json:"sha256"`
				Size     int64             `json:"size"`
				Metadata map[string]string `json:"metadata"`
			} `json:"records"`
		}
		r := call(t, "GET", fmt.Sprintf("%s/v1/projects/%s/repos/%s/nodes?recursive=true&pageSize=1000&pageNumber=%d", n.url(), project, repo, page), mgmtToken, nil)
		if r.status == http.StatusNotFound {
			return out
		}
		mustStatus(t, r, http.StatusOK, "list "+repo)
		r.decode(t, &p)
		for _, f := range p.Records {
			out[f.Path] = fileInfo{f.SHA256, f.Size, f.Metadata}
		}
		if int64(page) >= p.TotalPages {
			return out
		}
	}
}

func sameTree(want, got map[string]fileInfo) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d files, want %d", len(got), len(want))
	}
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			return fmt.Errorf("%s is missing", p)
		}
		if g.SHA256 != w.SHA256 || g.Size != w.Size || fmt.Sprint(g.Metadata) != fmt.Sprint(w.Metadata) {
			return fmt.Errorf("%s: got %+v, want %+v", p, g, w)
		}
	}
	return nil
}

func readAllPatterned(seed uint64, n int64) []byte {
	b, _ := io.ReadAll(patterned(seed, n))
	return b
}

func TestRepositoryRunArrivesIdenticalAndRerunSendsNothing(t *testing.T) {
	nodes := replicationGroup(t)
	sh := nodes[0]
	makeRepo(t, sh.url(), "", "bkrepo", "maven-local", "MAVEN")
	files := map[string][]byte{
		"/com/x/a/1.0/a-1.0.jar":   readAllPatterned(1, 200<<10),
		"/com/x/a/1.0/a-1.0.pom":   []byte("<project/>"),
		"/com/x/a/2.0/a-2.0.jar":   readAllPatterned(2, 3<<20+17),
		"/com/x/a/2.0/a-2.0.pom":   []byte("<project>2</project>"),
		"/docs/readme.txt":         []byte("hello"),
		"/docs/copy-of-a-1.0.jar":  readAllPatterned(1, 200<<10), // same content, another path
		"/empty/file":              {},
		"/deep/a/b/c/d/e/f/g.bin":  readAllPatterned(3, 70<<10),
		"/com/y/b/0.1/b-0.1.jar":   readAllPatterned(4, 5000),
		"/com/y/b/0.1/b-0.1.jar.1": readAllPatterned(5, 1<<20+1),
	}
	for p, c := range files {
		putFile(t, sh, "bkrepo", "maven-local", p, c, map[string]string{"origin": "shanghai", "path": strings.ReplaceAll(p, "/", "_")})
	}
	mustStatus(t, call(t, "POST", sh.url()+"/v1/projects/bkrepo/repos/maven-local/packages", mgmtToken, map[string]any{
		"packageKey": "gav://com.x:a", "version": "1.0", "paths": []string{"/com/x/a/1.0/a-1.0.jar", "/com/x/a/1.0/a-1.0.pom"},
		"metadata": map[string]string{"released": "yes"},
	}), http.StatusOK, "version metadata")
	want := tree(t, sh, "bkrepo", "maven-local")

	f := follower(t, nodes)
	first := startRun(t, f, repoSpec("bkrepo", "maven-local", "MAVEN", "beijing", "guangzhou"))
	if first.State != "WAITING" && first.State != "RUNNING" {
		t.Fatalf("new run is %s", first.State)
	}
	done := waitRun(t, f, first.ID, 60*time.Second)
	if done.State != "SUCCESS" {
		t.Fatalf("run ended %s: %s %+v", done.State, done.Error, done.Targets)
	}
	for _, n := range nodes[1:] {
		if err := sameTree(want, tree(t, n, "bkrepo", "maven-local")); err != nil {
			t.Fatalf("%s: %v", n.id(), err)
		}
		tg := done.target(t, n.id())
		if tg.ObjectsTotal != int64(len(files)) || tg.ObjectsDone != tg.ObjectsTotal || tg.ObjectsFailed != 0 || tg.State != "SUCCESS" {
			t.Fatalf("%s counters: %+v", n.id(), tg)
		}
		// The copy of a-1.0.jar is linked on the target, not sent twice.
		if tg.BytesSent >= tg.BytesTotal {
			t.Fatalf("%s: sent %d of %d bytes; duplicate content should be linked", n.id(), tg.BytesSent, tg.BytesTotal)
		}
		// Versions arrive with their metadata.
		var v struct {
			Paths    []string          `json:"paths"`
			Metadata map[string]string `json:"metadata"`
		}
		getOK(t, n, "/v1/projects/bkrepo/repos/maven-local/packages/version?packageKey=gav://com.x:a&version=1.0", &v)
		if v.Metadata["released"] != "yes" || len(v.Paths) != 2 {
			t.Fatalf("%s: version 1.0 is %+v", n.id(), v)
		}
	}

	again := waitRun(t, sh, startRun(t, sh, repoSpec("bkrepo", "maven-local", "MAVEN", "beijing", "guangzhou")).ID, 60*time.Second)
	if again.State != "SUCCESS" {
		t.Fatalf("re-run ended %s: %s", again.State, again.Error)
	}
	for _, tg := range again.Targets {
		if tg.BytesSent != 0 || tg.ObjectsSkipped != int64(len(files)) {
			t.Fatalf("re-run of an unchanged repository: %+v", tg)
		}
	}

	// Object detail, served by the executor, read through another agent.
	var objs struct {
		TotalRecords int64 `json:"totalRecords"`
		Records      []struct {
			Target string `json:"target"`
			Path   string `json:"path"`
			Status string `json:"status"`
			Action string `json:"action"`
			SHA256 string `json:"sha256"`
		} `json:"records"`
	}
	getOK(t, nodes[2], "/v1/runs/"+first.ID+"/objects?target=beijing&pageSize=100", &objs)
	if objs.TotalRecords != int64(len(files)) {
		t.Fatalf("object detail: %d records, want %d: %+v", objs.TotalRecords, len(files), objs.Records)
	}
	actions := map[string]int{}
	for _, o := range objs.Records {
		actions[o.Action]++
		if o.Status != "SUCCESS" || o.SHA256 == "" {
			t.Fatalf("object %+v", o)
		}
	}
	if actions["linked"] != 1 {
		t.Fatalf("actions %v: want exactly one linked (the duplicate jar)", actions)
	}
	// The re-run found both sides where the first run left them (quick
	// check): nothing listed nor planned, so no per-object detail.
	getOK(t, nodes[1], "/v1/runs/"+again.ID+"/objects?pageSize=1", &objs)
	if objs.TotalRecords != 0 {
		t.Fatalf("the quick re-run recorded %d objects", objs.TotalRecords)
	}

	// The event stream of an ended run gives the run, then ends.
	events := sseEvents(t, nodes[2], again.ID)
	if len(events) < 1 || events[len(events)-1] != "end" {
		t.Fatalf("events %v", events)
	}

	m := call(t, "GET", sh.url()+"/metrics", "", nil)
	for _, series := range []string{
		`ferry_replication_bytes_total{source="shanghai",target="beijing"}`,
		`ferry_replication_objects_total{result="linked",target="guangzhou"} 1`,
		`ferry_replication_objects_total{result="identical",target="beijing"} 10`, // counted by the quick check
		`ferry_replication_runs_total{state="SUCCESS"} 2`,
		`ferry_replication_run_duration_seconds_count 2`,
		`ferry_replication_inflight_bytes 0`,
		`ferry_replication_last_success_timestamp_seconds{target="beijing"}`,
	} {
		if !bytes.Contains(m.body, []byte(series)) {
			t.Errorf("metrics lack %s", series)
		}
	}
}

// sseEvents reads a run's event stream to its end and returns the event names.
func sseEvents(t testing.TB, n *node, id string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", n.url()+"/v1/runs/"+id+"/events", nil)
	req.Header.Set("X-Auth-Token", mgmtToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, ct)
	}
	var names []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			names = append(names, name)
		}
	}
	return names
}

func TestPackageAndPathConstraintsCopyOnlyWhatTheyName(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	makeRepo(t, sh.url(), "", "proj", "npm-local", "NPM")
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		putFile(t, sh, "proj", "npm-local", "/helloworld/-/helloworld-"+v+".tgz", []byte("tgz "+v), nil)
	}
	putFile(t, sh, "proj", "npm-local", "/other/-/other-1.0.0.tgz", []byte("other"), nil)

	spec := repoSpec("proj", "npm-local", "NPM", "beijing")
	spec["replicaObjectType"] = "PACKAGE"
	spec["replicaTaskObjects"].([]map[string]any)[0]["packageConstraints"] = []map[string]any{{"packageKey": "npm://helloworld", "versions": []string{"1.0.0", "2.0.0"}}}
	if r := waitRun(t, sh, startRun(t, sh, spec).ID, 60*time.Second); r.State != "SUCCESS" || r.target(t, "beijing").ObjectsDone != 2 {
		t.Fatalf("package run: %s %s %+v", r.State, r.Error, r.Targets)
	}
	got := tree(t, bj, "proj", "npm-local")
	if len(got) != 2 || got["/helloworld/-/helloworld-1.0.0.tgz"].SHA256 != sha([]byte("tgz 1.0.0")) || got["/helloworld/-/helloworld-2.0.0.tgz"].Size == 0 {
		t.Fatalf("beijing after the package run: %v", got)
	}

	makeRepo(t, sh.url(), "", "proj", "generic-local", "GENERIC")
	for _, p := range []string{"/keep/a.txt", "/keep/sub/b.txt", "/single.txt", "/skip/c.txt", "/keeping.txt"} {
		putFile(t, sh, "proj", "generic-local", p, []byte(p), nil)
	}
	spec = repoSpec("proj", "generic-local", "GENERIC", "beijing")
	spec["replicaObjectType"] = "PATH"
	spec["replicaTaskObjects"].([]map[string]any)[0]["pathConstraints"] = []any{map[string]string{"path": "/keep"}, "/single.txt"}
	if r := waitRun(t, sh, startRun(t, sh, spec).ID, 60*time.Second); r.State != "SUCCESS" {
		t.Fatalf("path run: %s %s", r.State, r.Error)
	}
	got = tree(t, bj, "proj", "generic-local")
	if len(got) != 3 || got["/keep/a.txt"].Size == 0 || got["/keep/sub/b.txt"].Size == 0 || got["/single.txt"].Size == 0 {
		t.Fatalf("beijing after the path run: %v", got)
	}
}

func TestConflictStrategies(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	makeRepo(t, bj.url(), "", "proj", "r", "GENERIC")
	putFile(t, sh, "proj", "r", "/same.txt", []byte("same"), nil)
	putFile(t, bj, "proj", "r", "/same.txt", []byte("same"), nil)
	putFile(t, sh, "proj", "r", "/new.txt", []byte("new"), nil)
	putFile(t, sh, "proj", "r", "/clash.txt", []byte("shanghai's"), nil)
	putFile(t, bj, "proj", "r", "/clash.txt", []byte("beijing's"), nil)

	runWith := func(conflict string) runTarget {
		spec := repoSpec("proj", "r", "GENERIC", "beijing")
		spec["setting"].(map[string]any)["conflictStrategy"] = conflict
		r := waitRun(t, sh, startRun(t, sh, spec).ID, 60*time.Second)
		tg := r.target(t, "beijing")
		if want := map[string]string{"SKIP": "SUCCESS", "OVERWRITE": "SUCCESS", "FAST_FAIL": "FAILED"}[conflict]; r.State != want {
			t.Fatalf("%s: run ended %s (%s), want %s", conflict, r.State, r.Error, want)
		}
		if conflict == "FAST_FAIL" && !strings.Contains(r.Error, "/clash.txt") {
			t.Fatalf("FAST_FAIL error %q does not name the conflicting path", r.Error)
		}
		return tg
	}
	// FAST_FAIL first: it must change nothing at the conflicting path.
	if tg := runWith("FAST_FAIL"); tg.Conflicts != 1 || tg.ObjectsFailed < 1 {
		t.Fatalf("FAST_FAIL counters %+v", tg)
	}
	if got := tree(t, bj, "proj", "r")["/clash.txt"].SHA256; got != sha([]byte("beijing's")) {
		t.Fatal("FAST_FAIL changed the conflicting file")
	}
	if tg := runWith("SKIP"); tg.Conflicts != 1 || tg.ObjectsSkipped != 2 || tg.ObjectsFailed != 0 || tg.ObjectsTotal != 3 {
		t.Fatalf("SKIP counters %+v", tg)
	}
	if got := tree(t, bj, "proj", "r"); got["/clash.txt"].SHA256 != sha([]byte("beijing's")) || got["/new.txt"].SHA256 != sha([]byte("new")) {
		t.Fatalf("after SKIP: %v", got)
	}
	if tg := runWith("OVERWRITE"); tg.Conflicts != 1 || tg.ObjectsDone != 1 || tg.ObjectsSkipped != 2 {
		t.Fatalf("OVERWRITE counters %+v", tg)
	}
	if got := tree(t, bj, "proj", "r")["/clash.txt"].SHA256; got != sha([]byte("shanghai's")) {
		t.Fatal("OVERWRITE kept beijing's content")
	}
}

func TestErrorStrategies(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	makeRepo(t, bj.url(), "", "proj", "r", "GENERIC")
	// beijing has a file where shanghai has a folder: /blocked/x cannot be
	// created there, whatever the conflict strategy.
	putFile(t, bj, "proj", "r", "/blocked", []byte("a file"), nil)
	putFile(t, sh, "proj", "r", "/blocked/x", []byte("x"), nil)
	for i := range 20 {
		putFile(t, sh, "proj", "r", fmt.Sprintf("/ok/%02d", i), []byte(fmt.Sprint(i)), nil)
	}

	spec := repoSpec("proj", "r", "GENERIC", "beijing", "guangzhou")
	r := waitRun(t, sh, startRun(t, sh, spec).ID, 60*time.Second)
	bjt, gzt := r.target(t, "beijing"), r.target(t, "guangzhou")
	if r.State != "FAILED" || bjt.ObjectsFailed != 1 || bjt.ObjectsDone != 20 || bjt.State != "FAILED" || gzt.State != "SUCCESS" || gzt.ObjectsDone != 21 {
		t.Fatalf("CONTINUE: %s %q beijing %+v guangzhou %+v", r.State, r.Error, bjt, gzt)
	}
	var failed struct {
		Records []struct {
			Path  string `json:"path"`
			Error string `json:"error"`
		} `json:"records"`
	}
	getOK(t, nodes[2], "/v1/runs/"+r.ID+"/objects?status=FAILED", &failed)
	if len(failed.Records) != 1 || failed.Records[0].Path != "/blocked/x" || failed.Records[0].Error == "" {
		t.Fatalf("failed objects: %+v", failed.Records)
	}

	spec = repoSpec("proj", "r", "GENERIC", "beijing")
	spec["setting"].(map[string]any)["errorStrategy"] = "FAST_FAIL"
	r = waitRun(t, sh, startRun(t, sh, spec).ID, 60*time.Second)
	if r.State != "FAILED" || !strings.Contains(r.Error, "FAST_FAIL") || !strings.Contains(r.Error, "/blocked/x") {
		t.Fatalf("FAST_FAIL: %s %q", r.State, r.Error)
	}
}

func TestRateLimitHoldsTheRate(t *testing.T) {
	nodes := replicationGroup(t)
	sh := nodes[0]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	const limit = 2 << 20
	putFile(t, sh, "proj", "r", "/big.bin", readAllPatterned(9, 5<<20), nil)
	putFile(t, sh, "proj", "r", "/small.bin", readAllPatterned(10, 512<<10), nil)
	spec := repoSpec("proj", "r", "GENERIC", "beijing")
	spec["setting"].(map[string]any)["rateLimit"] = limit
	r := waitRun(t, sh, startRun(t, sh, spec).ID, 60*time.Second)
	tg := r.target(t, "beijing")
	if r.State != "SUCCESS" || tg.BytesSent != tg.BytesTotal {
		t.Fatalf("run %s %q %+v", r.State, r.Error, tg)
	}
	took := r.FinishedAt.Sub(r.StartedAt).Seconds()
	rate := float64(tg.BytesSent) / took
	// The bucket starts full (a tenth of a second of burst) and the run has
	// planning and commits around the transfer; the precise figure is in bench/.
	if rate > 1.10*limit || rate < 0.70*limit {
		t.Fatalf("moved %d bytes in %.2fs: %.0f B/s, limit %d B/s", tg.BytesSent, took, rate, limit)
	}
	t.Logf("rate %.3f of the limit (%d bytes in %.2fs)", rate/limit, tg.BytesSent, took)
}

// noPartialFiles checks that every file a target has is complete: the same
// content as the source's file at that path.
func noPartialFiles(t testing.TB, source, target map[string]fileInfo) {
	t.Helper()
	for p, g := range target {
		if w, ok := source[p]; !ok || w.SHA256 != g.SHA256 || w.Size != g.Size {
			t.Fatalf("target holds %s as %+v; source has %+v", p, g, source[p])
		}
	}
}

// waitSending waits until a run has sent at least n bytes to target.
func waitSending(t testing.TB, n *node, id, target string, atLeast int64) {
	t.Helper()
	eventually(t, 30*time.Second, "run sending", func() error {
		r := getRun(t, n, id)
		if terminal(r.State) {
			t.Fatalf("run ended before the test could interrupt it: %s %q", r.State, r.Error)
		}
		if sent := r.target(t, target).BytesSent; sent < atLeast {
			return fmt.Errorf("sent %d bytes", sent)
		}
		return nil
	})
}

// slowRepo fills proj/r on n with a large file and small ones.
func slowRepo(t testing.TB, n *node) map[string]fileInfo {
	makeRepo(t, n.url(), "", "proj", "r", "GENERIC")
	putFile(t, n, "proj", "r", "/big.bin", readAllPatterned(21, 8<<20), nil)
	for i := range 30 {
		putFile(t, n, "proj", "r", fmt.Sprintf("/small/%02d", i), readAllPatterned(uint64(100+i), 3000), nil)
	}
	return tree(t, n, "proj", "r")
}

func TestTargetKilledMidRunKeepsNothingPartialAndTheNextRunResumes(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	want := slowRepo(t, sh)
	spec := repoSpec("proj", "r", "GENERIC", "beijing")
	spec["setting"].(map[string]any)["rateLimit"] = 2 << 20
	first := startRun(t, sh, spec)
	waitSending(t, sh, first.ID, "beijing", 3<<20)
	bj.stop()
	r := waitRun(t, sh, first.ID, 60*time.Second)
	if r.State != "FAILED" || !strings.Contains(r.target(t, "beijing").Error, "unreachable") {
		t.Fatalf("run with its target gone: %s %q %+v", r.State, r.Error, r.Targets)
	}
	bj.restart()
	sameLeader(t, 30*time.Second, nodes...) // and bj ready: caught up with the leader
	noPartialFiles(t, want, tree(t, bj, "proj", "r"))

	delete(spec["setting"].(map[string]any), "rateLimit")
	second := waitRun(t, sh, startRun(t, sh, spec).ID, 60*time.Second)
	if second.State != "SUCCESS" {
		t.Fatalf("second run: %s %q", second.State, second.Error)
	}
	if err := sameTree(want, tree(t, bj, "proj", "r")); err != nil {
		t.Fatal(err)
	}
	// The big file was cut mid-upload: the second run sends the rest of it,
	// not all of it again.
	if sent := second.target(t, "beijing").BytesSent; sent > 7<<20 {
		t.Fatalf("second run sent %d bytes: the interrupted upload restarted instead of resuming", sent)
	}
}

func TestExecutorKilledMidRunEndsFailed(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	want := slowRepo(t, sh)
	spec := repoSpec("proj", "r", "GENERIC", "beijing")
	spec["setting"].(map[string]any)["rateLimit"] = 1 << 20
	r := startRun(t, bj, spec)
	waitSending(t, bj, r.ID, "beijing", 1<<20)
	sh.stop()
	var ended run
	eventually(t, 60*time.Second, "the run of a dead executor ends", func() error {
		ended = getRun(t, bj, r.ID)
		if !terminal(ended.State) {
			return fmt.Errorf("still %s", ended.State)
		}
		return nil
	})
	if ended.State != "FAILED" || !strings.Contains(ended.Error, "shanghai") {
		t.Fatalf("run of a dead executor: %s %q", ended.State, ended.Error)
	}
	noPartialFiles(t, want, tree(t, bj, "proj", "r"))
	// Back again, the agent does not resume a run the group has ended.
	sh.restart()
	sameLeader(t, 30*time.Second, nodes...)
	if again := getRun(t, sh, r.ID); again.State != "FAILED" {
		t.Fatalf("after the executor came back the run is %s", again.State)
	}
}

func TestCancelStopsTheRunAndLeavesNothingPartial(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	want := slowRepo(t, sh)
	spec := repoSpec("proj", "r", "GENERIC", "beijing")
	spec["setting"].(map[string]any)["rateLimit"] = 1 << 20
	r := startRun(t, sh, spec)
	waitSending(t, sh, r.ID, "beijing", 1<<20)
	f := follower(t, nodes)
	c := call(t, "POST", f.url()+"/v1/runs/"+r.ID+"/cancel", mgmtToken, nil)
	mustStatus(t, c, http.StatusAccepted, "cancel")
	ended := waitRun(t, f, r.ID, 30*time.Second)
	if ended.State != "CANCELED" {
		t.Fatalf("canceled run ended %s %q", ended.State, ended.Error)
	}
	if tg := ended.target(t, "beijing"); tg.BytesSent >= tg.BytesTotal {
		t.Fatalf("the cancel came too late to stop anything: %+v", tg)
	}
	noPartialFiles(t, want, tree(t, bj, "proj", "r"))
	if big, ok := tree(t, bj, "proj", "r")["/big.bin"]; ok {
		t.Fatalf("the big file arrived although the run was canceled mid-upload: %+v", big)
	}
	mustStatus(t, call(t, "POST", f.url()+"/v1/runs/"+r.ID+"/cancel", mgmtToken, nil), http.StatusConflict, "cancel an ended run")
}

func TestBadRunRequestsChangeNothing(t *testing.T) {
	nodes := replicationGroup(t)
	f := follower(t, nodes)
	good := func() map[string]any { return repoSpec("proj", "r", "GENERIC", "beijing") }
	for name, c := range map[string]struct {
		body any
		want string
	}{
		"unknown field":   {map[string]any{"localProjectId": "proj", "bogus": 1}, "unknown field"},
		"not json":        {"[", "invalid JSON"},
		"unknown target":  {func() any { s := good(); s["remoteClusterIds"] = []string{"mars"}; return s }(), `"mars" is not a registered cluster`},
		"self target":     {func() any { s := good(); s["remoteClusterIds"] = []string{"shanghai"}; return s }(), "source cluster itself"},
		"bad strategy":    {func() any { s := good(); s["setting"].(map[string]any)["conflictStrategy"] = "MERGE"; return s }(), "conflictStrategy"},
		"package w/o pkg": {func() any { s := good(); s["replicaObjectType"] = "PACKAGE"; return s }(), "packageConstraints is required"},
	} {
		r := call(t, "POST", f.url()+"/v1/runs", mgmtToken, c.body)
		if r.status != http.StatusBadRequest || !strings.Contains(r.errorMessage(), c.want) {
			t.Errorf("%s: %d %s, want 400 %q", name, r.status, r.body, c.want)
		}
	}
	var page struct {
		TotalRecords int `json:"totalRecords"`
	}
	getOK(t, nodes[0], "/v1/runs?consistent", &page)
	if page.TotalRecords != 0 {
		t.Fatalf("bad requests created %d runs", page.TotalRecords)
	}
	mustStatus(t, call(t, "GET", f.url()+"/v1/runs?state=DONE", mgmtToken, nil), http.StatusBadRequest, "bad state filter")
	mustStatus(t, call(t, "GET", f.url()+"/v1/runs/nope", mgmtToken, nil), http.StatusNotFound, "unknown run")
	mustStatus(t, call(t, "POST", f.url()+"/v1/runs/nope/cancel", mgmtToken, nil), http.StatusNotFound, "cancel unknown run")
	read := createToken(t, f, mgmtToken, "read")
	mustStatus(t, call(t, "POST", f.url()+"/v1/runs", read.Secret, good()), http.StatusForbidden, "start with a read token")
	mustStatus(t, call(t, "POST", f.url()+"/v1/replica/plan", read.Secret, map[string]any{}), http.StatusForbidden, "protocol with a read token")
}

func TestUnchangedRerunIsQuickButAnyChangeIsPlanned(t *testing.T) {
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	for i := range 20 {
		putFile(t, sh, "proj", "r", fmt.Sprintf("/f/%02d", i), []byte(fmt.Sprint("content ", i)), nil)
	}
	spec := repoSpec("proj", "r", "GENERIC", "beijing")
	spec["setting"].(map[string]any)["conflictStrategy"] = "OVERWRITE"
	runOnce := func() runTarget {
		t.Helper()
		r := waitRun(t, sh, startRun(t, sh, spec).ID, 60*time.Second)
		if r.State != "SUCCESS" {
			t.Fatalf("run %s %q", r.State, r.Error)
		}
		return r.target(t, "beijing")
	}
	runOnce()
	if tg := runOnce(); tg.ObjectsSkipped != 20 || tg.BytesSent != 0 {
		t.Fatalf("unchanged re-run: %+v", tg)
	}
	// Someone changes a file on the target: the next run sees it.
	putFile(t, bj, "proj", "r", "/f/03", []byte("changed on beijing"), nil)
	if tg := runOnce(); tg.ObjectsDone != 1 || tg.Conflicts != 1 {
		t.Fatalf("after a change on the target: %+v", tg)
	}
	if got := tree(t, bj, "proj", "r")["/f/03"].SHA256; got != sha([]byte("content 3")) {
		t.Fatal("the target's change was not overwritten")
	}
	// A change on the source: sent.
	putFile(t, sh, "proj", "r", "/f/07", []byte("new on shanghai"), nil)
	if tg := runOnce(); tg.ObjectsDone != 1 || tg.BytesSent != int64(len("new on shanghai")) {
		t.Fatalf("after a change on the source: %+v", tg)
	}
	if tg := runOnce(); tg.ObjectsSkipped != 20 || tg.BytesSent != 0 {
		t.Fatalf("unchanged again: %+v", tg)
	}
}

func TestRunWithoutMetadataAndTheAgentsLinkRateLimit(t *testing.T) {
	const linkLimit = 2 << 20
	nodes := replicationGroup(t, configure(func(c *config.Config) {
		if c.ClusterID == "shanghai" {
			c.LinkRateLimit = linkLimit
		}
	}))
	sh, bj := nodes[0], nodes[1]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	putFile(t, sh, "proj", "r", "/big.bin", readAllPatterned(31, 5<<20), map[string]string{"k": "v"})
	spec := repoSpec("proj", "r", "GENERIC", "beijing")
	spec["setting"].(map[string]any)["includeMetadata"] = false
	r := waitRun(t, sh, startRun(t, sh, spec).ID, 60*time.Second)
	tg := r.target(t, "beijing")
	if r.State != "SUCCESS" || tg.BytesSent != 5<<20 {
		t.Fatalf("run %s %q %+v", r.State, r.Error, tg)
	}
	if got := tree(t, bj, "proj", "r")["/big.bin"]; len(got.Metadata) != 0 {
		t.Fatalf("metadata arrived although includeMetadata is false: %v", got.Metadata)
	}
	rate := float64(tg.BytesSent) / r.FinishedAt.Sub(r.StartedAt).Seconds()
	if rate > 1.10*linkLimit {
		t.Fatalf("the agent's link limit of %d B/s did not hold: %.0f B/s", linkLimit, rate)
	}
	t.Logf("link-limited rate %.3f of the limit", rate/linkLimit)
}
