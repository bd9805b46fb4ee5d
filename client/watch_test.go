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
	"time"
)

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
