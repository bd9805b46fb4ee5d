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
	"testing/iotest"
	"time"
)

// parseSSE is every event readSSE finds in s.
func parseSSE(t testing.TB, s string, oneByte bool) []sseEvent {
	t.Helper()
	var r = strings.NewReader(s)
	var got []sseEvent
	read := func(ev sseEvent) error { got = append(got, ev); return nil }
	var err error
	if oneByte {
		err = readSSE(iotest.OneByteReader(r), maxSSELine, read)
	} else {
		err = readSSE(r, maxSSELine, read)
	}
	if err != nil {
		t.Fatalf("readSSE(%q): %v", s, err)
	}
	return got
}

func TestReadSSE(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []sseEvent
	}{
		{"empty", "", nil},
		{"one", "event: run\ndata: {}\n\n", []sseEvent{{Type: "run", Data: "{}"}}},
		{"default type", "data: x\n\n", []sseEvent{{Type: "message", Data: "x"}}},
		{"no space after colon", "event:end\ndata:{\"a\":1}\n\n", []sseEvent{{Type: "end", Data: `{"a":1}`}}},
		{"only one space removed", "data:  x\n\n", []sseEvent{{Type: "message", Data: " x"}}},
		{"split data", "event: run\ndata: {\"id\":\ndata: \"r1\"}\n\n", []sseEvent{{Type: "run", Data: "{\"id\":\n\"r1\"}"}}},
		{"comments ignored", ": ping\n\n: hello\nevent: run\n: between\ndata: 1\n\n", []sseEvent{{Type: "run", Data: "1"}}},
		{"CRLF", "event: run\r\ndata: 1\r\n\r\n", []sseEvent{{Type: "run", Data: "1"}}},
		{"CR", "event: run\rdata: 1\r\r", []sseEvent{{Type: "run", Data: "1"}}},
		{"mixed ends", "event: a\r\ndata: 1\n\revent: b\rdata: 2\r\n\n", []sseEvent{{Type: "a", Data: "1"}, {Type: "b", Data: "2"}}},
		{"no data, no event", "event: run\n\ndata: x\n\n", []sseEvent{{Type: "message", Data: "x"}}},
		{"empty data line", "data\n\n", []sseEvent{{Type: "message", Data: ""}}},
		{"empty data lines", "data:\ndata:\n\n", []sseEvent{{Type: "message", Data: "\n"}}},
		{"unterminated event dropped", "event: run\ndata: 1\n\nevent: end\ndata: 2\n", []sseEvent{{Type: "run", Data: "1"}}},
		{"unterminated line dropped", "data: 1\n\ndata: 2", []sseEvent{{Type: "message", Data: "1"}}},
		{"unknown fields and retry", "retry: 10\nfoo: bar\ndata: 1\n\n", []sseEvent{{Type: "message", Data: "1"}}},
		{"id kept", "id: 7\ndata: 1\n\ndata: 2\n\nid\ndata: 3\n\n", []sseEvent{{Type: "message", Data: "1", ID: "7"}, {Type: "message", Data: "2", ID: "7"}, {Type: "message", Data: "3"}}},
		{"id with NUL ignored", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", []sseEvent{{Type: "message", Data: "a", ID: "1"}, {Type: "message", Data: "b", ID: "1"}}},
		{"BOM", "\uFEFFdata: 1\n\n", []sseEvent{{Type: "message", Data: "1"}}},
		{"colon in value", "data: a: b\n\n", []sseEvent{{Type: "message", Data: "a: b"}}},
		{"type reset after dispatch", "event: run\ndata: 1\n\ndata: 2\n\n", []sseEvent{{Type: "run", Data: "1"}, {Type: "message", Data: "2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, oneByte := range []bool{false, true} {
				if got := parseSSE(t, tc.in, oneByte); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("oneByte=%v: got %q, want %q", oneByte, got, tc.want)
				}
			}
		})
	}
}

func TestReadSSELimitsLines(t *testing.T) {
	in := "data: " + strings.Repeat("x", 100) + "\n\n"
	err := readSSE(strings.NewReader(in), 64, func(sseEvent) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("readSSE with a 106-byte line and a 64-byte limit = %v, want too long", err)
	}
}

func TestReadSSEStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := readSSE(strings.NewReader("data: 1\n\ndata: 2\n\n"), maxSSELine, func(sseEvent) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("readSSE = %v after %d events, want stop after 1", err, n)
	}
}

// encodeSSE writes ev as a stream would.
func encodeSSE(ev sseEvent) string {
	var b strings.Builder
	if ev.ID != "" {
		b.WriteString("id: " + ev.ID + "\n")
	}
	b.WriteString("event: " + ev.Type + "\n")
	for _, l := range strings.Split(ev.Data, "\n") {
		b.WriteString("data: " + l + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// FuzzParseSSE checks that no input panics readSSE, that events hold no
// line ends but between data lines, and that what it parses encodes and
// parses back to the same event, read whole or a byte at a time.
func FuzzParseSSE(f *testing.F) {
	for _, s := range []string{
		"event: run\ndata: {}\n\n",
		"event: run\r\ndata: a\r\ndata: b\r\n\r\n",
		": ping\n\nevent: end\rdata: x\r\r",
		"\uFEFFid: 1\ndata\n\n",
		"data:  \x00\n\nevent\n\n",
		"retry: 5\nid: a\x00b\ndata: 1\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		whole := parseSSE(t, s, false)
		if bytewise := parseSSE(t, s, true); !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("read whole %q, a byte at a time %q", whole, bytewise)
		}
		for _, ev := range whole {
			if ev.Type == "" || strings.ContainsAny(ev.Type, "\r\n") || strings.ContainsAny(ev.ID, "\r\n\x00") || strings.Contains(ev.Data, "\r") {
				t.Fatalf("bad event %q from %q", ev, s)
			}
			again := parseSSE(t, encodeSSE(ev), false)
			if len(again) != 1 || again[0] != ev {
				t.Fatalf("event %q encodes as %q, which parses as %q", ev, encodeSSE(ev), again)
			}
		}
	})
}

// sseServer answers GET /v1/runs/r1/events by calling the next of its
// handlers, one per connection; once they run out it answers 503.
type sseServer struct {
	mu       sync.Mutex
	handlers []func(w http.ResponseWriter, send func(event string, r Run))
	conns    int
	headers  []http.Header
}

func (s *sseServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/runs/r1/events" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	i := s.conns
	s.conns++
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	if i >= len(s.handlers) {
		http.Error(w, `{"error": "no more"}`, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	s.handlers[i](w, func(event string, run Run) {
		b, _ := json.Marshal(run)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		w.(http.Flusher).Flush()
	})
}

func TestWatchRunReconnects(t *testing.T) {
	running := Run{ID: "r1", State: RunRunning, Targets: []RunTarget{{ClusterID: "beijing", State: RunRunning, BytesTotal: 100, BytesDone: 10}}}
	later := running
	later.Targets = []RunTarget{{ClusterID: "beijing", State: RunRunning, BytesTotal: 100, BytesDone: 60}}
	final := Run{ID: "r1", State: RunSuccess, Targets: []RunTarget{{ClusterID: "beijing", State: RunSuccess, BytesTotal: 100, BytesDone: 100}}}
	srv := &sseServer{handlers: []func(http.ResponseWriter, func(string, Run)){
		// A ping, the run split over data lines, an event for someone
		// else, then a break in the middle of an event.
		func(w http.ResponseWriter, send func(string, Run)) {
			b, _ := json.MarshalIndent(running, "", " ")
			fmt.Fprint(w, ": ping\r\n\r\nid: e1\r\nevent: run\r\n")
			for _, l := range strings.Split(string(b), "\n") {
				fmt.Fprintf(w, "data: %s\r\n", l)
			}
			fmt.Fprint(w, "\r\nevent: other\ndata: x\n\nevent: run\ndata: {\"id\":")
		},
		func(w http.ResponseWriter, send func(string, Run)) {
			send("run", later)
		},
		func(w http.ResponseWriter, send func(string, Run)) {
			send("run", later)
			send("end", final)
			fmt.Fprint(w, "event: run\ndata: not json, never read\n\n")
		},
	}}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	var got []Run
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := New(ts.URL, "secret")
	if c.http.Timeout == 0 {
		t.Fatal("the test needs a client with a timeout")
	}
	run, err := c.WatchRun(ctx, "r1", func(r Run) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatalf("WatchRun: %v", err)
	}
	if !reflect.DeepEqual(run, final) {
		t.Errorf("WatchRun = %+v, want %+v", run, final)
	}
	if want := []Run{running, later, later, final}; !reflect.DeepEqual(got, want) {
		t.Errorf("callbacks got %+v,\nwant %+v", got, want)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.conns != 3 {
		t.Errorf("%d connections, want 3", srv.conns)
	}
	for i, h := range srv.headers {
		if h.Get("X-Auth-Token") != "secret" || h.Get("Accept") != "text/event-stream" {
			t.Errorf("connection %d: headers %v", i, h)
		}
	}
	if id := srv.headers[1].Get("Last-Event-ID"); id != "e1" {
		t.Errorf("reconnection sent Last-Event-ID %q, want e1", id)
	}
}

func TestWatchRunErrors(t *testing.T) {
	running := Run{ID: "r1", State: RunRunning}
	t.Run("callback error", func(t *testing.T) {
		srv := &sseServer{handlers: []func(http.ResponseWriter, func(string, Run)){
			func(w http.ResponseWriter, send func(string, Run)) { send("run", running); send("run", running) },
		}}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		stop := errors.New("stop")
		n := 0
		run, err := New(ts.URL, "").WatchRun(context.Background(), "r1", func(Run) error { n++; return stop })
		if err != stop || n != 1 || run.ID != "r1" {
			t.Fatalf("WatchRun = %+v, %v after %d calls; want r1, stop after 1", run, err, n)
		}
	})
	t.Run("forbidden is not retried", func(t *testing.T) {
		var conns int
		var mu sync.Mutex
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			conns++
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error": "permission denied"}`)
		}))
		defer ts.Close()
		_, err := New(ts.URL, "").WatchRun(context.Background(), "r1", func(Run) error { return nil })
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusForbidden || e.Message != "permission denied" {
			t.Fatalf("WatchRun = %v, want a 403 *Error", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if conns != 1 {
			t.Errorf("%d connections, want 1", conns)
		}
	})
	t.Run("not an event stream", func(t *testing.T) {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>")
		}))
		defer ts.Close()
		_, err := New(ts.URL, "").WatchRun(context.Background(), "r1", func(Run) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "text/event-stream") {
			t.Fatalf("WatchRun = %v, want a Content-Type error", err)
		}
	})
	t.Run("context ends the retries", func(t *testing.T) {
		srv := &sseServer{handlers: []func(http.ResponseWriter, func(string, Run)){
			func(w http.ResponseWriter, send func(string, Run)) { send("run", running) },
		}} // then 503s
		ts := httptest.NewServer(srv)
		defer ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
		defer cancel()
		start := time.Now()
		run, err := New(ts.URL, "").WatchRun(ctx, "r1", func(Run) error { return nil })
		if !errors.Is(err, context.DeadlineExceeded) || run.ID != "r1" {
			t.Fatalf("WatchRun = %+v, %v; want the last run and DeadlineExceeded", run, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("WatchRun returned %s after its context ended", d-600*time.Millisecond)
		}
		srv.mu.Lock()
		defer srv.mu.Unlock()
		// 0, 250 ms, then 500 ms later (past the deadline): 2 or 3 connections.
		if srv.conns < 2 || srv.conns > 3 {
			t.Errorf("%d connections in 600 ms, want 2 or 3 (backoff 250 ms doubling)", srv.conns)
		}
	})
	t.Run("finished run without end", func(t *testing.T) {
		srv := &sseServer{handlers: []func(http.ResponseWriter, func(string, Run)){
			func(w http.ResponseWriter, send func(string, Run)) {
				send("run", Run{ID: "r1", State: RunFailed, Error: "boom"})
			},
		}}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		run, err := New(ts.URL, "").WatchRun(context.Background(), "r1", func(Run) error { return nil })
		if err != nil || run.State != RunFailed {
			t.Fatalf("WatchRun = %+v, %v; want the FAILED run", run, err)
		}
	})
	t.Run("no client timeout on the stream", func(t *testing.T) {
		srv := &sseServer{handlers: []func(http.ResponseWriter, func(string, Run)){
			func(w http.ResponseWriter, send func(string, Run)) {
				send("run", running)
				time.Sleep(300 * time.Millisecond)
				send("end", Run{ID: "r1", State: RunSuccess})
			},
		}}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		c := New(ts.URL, "")
		c.http.Timeout = 100 * time.Millisecond
		run, err := c.WatchRun(context.Background(), "r1", func(Run) error { return nil })
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if err != nil || run.State != RunSuccess || srv.conns != 1 {
			t.Fatalf("WatchRun = %+v, %v over %d connections; want SUCCESS over 1", run, err, srv.conns)
		}
	})
	t.Run("invalid id", func(t *testing.T) {
		if _, err := New("127.0.0.1:1", "").WatchRun(context.Background(), "a/b", nil); err == nil {
			t.Fatal("WatchRun(a/b) succeeded")
		}
	})
}

func TestRetryStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		seen   bool
		since  time.Duration
		want   bool
	}{
		{500, true, time.Hour, true},
		{503, false, 0, true},
		{429, true, 0, true},
		{408, true, 0, true},
		{404, false, time.Second, true},
		{404, false, time.Minute, false},
		{404, true, time.Second, false},
		{401, false, 0, false},
		{403, false, 0, false},
		{400, false, 0, false},
	} {
		if got := retryStatus(tc.status, tc.seen, tc.since); got != tc.want {
			t.Errorf("retryStatus(%d, %v, %s) = %v, want %v", tc.status, tc.seen, tc.since, got, tc.want)
		}
	}
}

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
