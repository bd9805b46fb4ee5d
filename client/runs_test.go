package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestPathConstraintAcceptsString(t *testing.T) {
	var o ReplicaObject
	if err := json.Unmarshal([]byte(`{"localRepoName": "r", "pathConstraints": ["/a/b", {"path": "/c"}]}`), &o); err != nil {
		t.Fatal(err)
	}
	if want := []PathConstraint{{"/a/b"}, {"/c"}}; !reflect.DeepEqual(o.PathConstraints, want) {
		t.Fatalf("got %+v, want %+v", o.PathConstraints, want)
	}
	if err := json.Unmarshal([]byte(`[1]`), &o.PathConstraints); err == nil {
		t.Fatal("a number decoded as a path constraint")
	}
}

func TestRunRequests(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/runs":
			var spec RunSpec
			if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusAccepted)
			json.NewEncoder(w).Encode(Run{ID: "r1", State: RunWaiting, Spec: spec})
		case r.URL.Path == "/v1/runs":
			json.NewEncoder(w).Encode(RunPage{PageNumber: 2, TotalRecords: 1, Records: []Run{{ID: "r1"}}})
		case r.URL.Path == "/v1/runs/r%201/objects" || r.URL.Path == "/v1/runs/r 1/objects":
			json.NewEncoder(w).Encode(ObjectPage{Records: []RunObject{{Target: "beijing", Path: "/a"}}})
		case r.URL.Path == "/v1/runs/r1/cancel":
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"error": "run r1 already ended"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error": "no such run"}`)
		}
	}))
	defer ts.Close()
	c := New(ts.URL, "")
	ctx := context.Background()

	no := false
	spec := RunSpec{LocalProjectID: "p", ReplicaObjectType: ReplicaPath,
		ReplicaTaskObjects: []ReplicaObject{{LocalRepoName: "r", PathConstraints: []PathConstraint{{"/a"}}}},
		RemoteClusterIDs:   []string{"beijing"}, Setting: RunSetting{RateLimit: 1 << 20, IncludeMetadata: &no}}
	run, err := c.StartRun(ctx, spec)
	if err != nil || run.ID != "r1" || !reflect.DeepEqual(run.Spec, spec) {
		t.Fatalf("StartRun = %+v, %v", run, err)
	}
	if page, err := c.Runs(ctx, RunQuery{State: RunRunning, TaskKey: "k", PageNumber: 2, PageSize: 5}); err != nil || len(page.Records) != 1 {
		t.Fatalf("Runs = %+v, %v", page, err)
	}
	if _, err := c.Runs(ctx, RunQuery{}); err != nil {
		t.Fatal(err)
	}
	if page, err := c.RunObjects(ctx, "r 1", ObjectQuery{Status: "FAILED", Target: "beijing"}); err != nil || len(page.Records) != 1 {
		t.Fatalf("RunObjects = %+v, %v", page, err)
	}
	var e *Error
	if _, err := c.Run(ctx, "nope"); !errors.As(err, &e) || e.Status != 404 || e.Message != "no such run" {
		t.Fatalf("Run(nope) = %v, want 404 no such run", err)
	}
	if _, err := c.CancelRun(ctx, "r1"); !errors.As(err, &e) || e.Status != 409 {
		t.Fatalf("CancelRun = %v, want 409", err)
	}
	for _, id := range []string{"", ".", "..", "a/b"} {
		if _, err := c.Run(ctx, id); err == nil || !strings.Contains(err.Error(), "invalid run id") {
			t.Errorf("Run(%q) = %v, want invalid run id", id, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"POST /v1/runs",
		"GET /v1/runs?pageNumber=2&pageSize=5&state=RUNNING&taskKey=k",
		"GET /v1/runs",
		"GET /v1/runs/r%201/objects?status=FAILED&target=beijing",
		"GET /v1/runs/nope",
		"POST /v1/runs/r1/cancel",
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("requests\n%q\nwant\n%q", seen, want)
	}
}
