package replicator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// firstSelection is what the spec's first object selects (no targets: no
// quick check).
func firstSelection(ctx context.Context, st store.Store, spec fsm.ReplicaSpec) (selection, error) {
	sels, err := selectAll(ctx, st, spec, nil, defaultListPart)
	if err != nil {
		return selection{}, err
	}
	return sels[0], nil
}

// passTo is a pass of the source repository repo to the target's proj/r.
func passTo(tg *targetExec, repo store.Repository) *pass {
	return tg.newPass(selection{spec: fsm.ReplicaObject{LocalRepoName: "r", RemoteProjectID: "proj", RemoteRepoName: "r"}, repo: repo})
}

// beijingOf is the run r1 of spec towards beijing, served by srv.
func beijingOf(t *testing.T, src *store.Local, srv *httptest.Server, spec fsm.ReplicaSpec) *targetExec {
	e := targetOnlyExecutor(t, src, srv, 1<<20, nil)
	x := &runExec{e: e, log: e.log, fail: func(error) {}, run: fsm.Run{ID: "r1", Spec: spec}}
	return newTargetExec(x, "beijing")
}

// orderCheck sits in front of a target: when the versions call comes, no
// file transfer may still be going and every file of every version must
// already be committed on the target.
type orderCheck struct {
	dst      *store.Local
	next     http.Handler
	mu       sync.Mutex
	inFlight int
	calls    []string
	problems []string
}

func (c *orderCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.calls = append(c.calls, r.Method+" "+r.URL.Path)
	if r.URL.Path == "/v1/replica/versions" {
		c.checkVersions(r)
		c.mu.Unlock()
		c.next.ServeHTTP(w, r)
		return
	}
	c.inFlight++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	c.next.ServeHTTP(w, r)
}

// checkVersions reads the request's versions (and puts the body back).
func (c *orderCheck) checkVersions(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(b)))
	var req VersionsRequest
	_ = json.Unmarshal(b, &req)
	if c.inFlight > 0 {
		c.problems = append(c.problems, fmt.Sprintf("versions sent with %d file requests in flight", c.inFlight))
	}
	repo, _ := c.dst.Repository(r.Context(), req.Project, req.Repo)
	for _, v := range req.Versions {
		for _, p := range v.Paths {
			if _, err := repo.Stat(r.Context(), p); err != nil {
				c.problems = append(c.problems, fmt.Sprintf("version %s committed before its file %s: %v", v.Version, p, err))
			}
		}
	}
}

// A package version is committed on the target only after every one of its
// files is, whether the files go in a batch or as an upload.
func TestAVersionIsCommittedOnlyAfterAllItsFiles(t *testing.T) {
	ctx := context.Background()
	src, dst := openStore(t), openStore(t)
	for _, s := range []*store.Local{src, dst} {
		s.CreateProject(ctx, store.Project{Name: "proj"})
		s.CreateRepo(ctx, store.Repo{Project: "proj", Name: "r", Type: store.TypeMaven})
	}
	srepo, _ := src.Repository(ctx, "proj", "r")
	dir := "/com/example/lib/1.0/"
	big := strings.Repeat("jar", 1<<20) // > batchFileMax: an upload
	if _, err := srepo.Write(ctx, dir+"lib-1.0.jar", strings.NewReader(big), store.WriteOptions{Size: int64(len(big))}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"lib-1.0.pom", "lib-1.0-sources.jar"} { // small: a batch
		if _, err := srepo.Write(ctx, dir+f, strings.NewReader(f), store.WriteOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	check := &orderCheck{dst: dst}
	srv := replicaServer(t, dst, func(h http.Handler) http.Handler { check.next = h; return check })
	spec := repositorySpec(fsm.ConflictSkip)
	tg := beijingOf(t, src, srv, spec)
	sel, err := firstSelection(ctx, src, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.versions) != 1 || len(sel.objects) != 3 {
		t.Fatalf("selection: %d objects, %d versions; want 3 and 1", len(sel.objects), len(sel.versions))
	}
	tg.total([]selection{sel})
	tg.execute(ctx, []selection{sel})
	t.Logf("calls: %v", check.calls)
	for _, p := range check.problems {
		t.Error(p)
	}
	if !strings.Contains(strings.Join(check.calls, ","), "versions") {
		t.Fatal("the version was never committed")
	}
	drepo, _ := dst.Repository(ctx, "proj", "r")
	if _, err := drepo.Version(ctx, "gav://com.example:lib", "1.0"); err != nil {
		t.Fatalf("the version is not on the target: %v (%+v)", err, tg.snapshot(true))
	}
}
