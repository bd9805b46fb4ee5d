package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
)

func limitedServer(limit AuthFailureLimit) *Server {
	srv := New(Config{Auth: fakeAuth{}, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(), AuthFailures: limit})
	srv.Handle(http.MethodPost, "/t", fsm.PolicyRead, nil, func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {})
	return srv
}

func send(srv http.Handler, remote, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/t", nil)
	r.RemoteAddr = remote
	if token != "" {
		r.Header.Set(HeaderAuthToken, token)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	return w
}

// After Failures wrong tokens from one address within the window the next
// is 429 with Retry-After; another address and a good token are not.
func TestRepeatedBadTokensAre429WithRetryAfter(t *testing.T) {
	srv := limitedServer(AuthFailureLimit{Failures: 3, Window: time.Minute})
	for i := range 3 {
		if w := send(srv, "10.0.0.1:1000", "nope"); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, w.Code)
		}
	}
	w := send(srv, "10.0.0.1:1001", "nope")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("4th failure: %d, want 429", w.Code)
	}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q, want 1..60 seconds", w.Header().Get("Retry-After"))
	}
	if w := send(srv, "10.0.0.2:1000", "nope"); w.Code != http.StatusUnauthorized {
		t.Fatalf("another address: %d, want 401", w.Code)
	}
	if w := send(srv, "10.0.0.1:1002", "read"); w.Code != http.StatusOK {
		t.Fatalf("a valid token from the limited address: %d, want 200", w.Code)
	}
	if w := send(srv, "10.0.0.1:1003", ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("no token from the limited address: %d, want 401 (nothing was guessed)", w.Code)
	}
}

// The window refills, and the map of addresses stays within its bound.
func TestTheAuthLimiterForgetsAndStaysBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newAuthLimiter(AuthFailureLimit{Failures: 2, Window: time.Minute, Addresses: 4}, nil)
	l.now = func() time.Time { return now }
	l.failed("a")
	l.failed("a")
	if _, over := l.failed("a"); !over {
		t.Fatal("3rd failure of 2 allowed is not over")
	}
	now = now.Add(time.Minute)
	if _, over := l.failed("a"); over {
		t.Fatal("still over a window later")
	}
	for i := range 100 {
		l.failed(strconv.Itoa(i))
	}
	if n := len(l.byIP); n > 4 {
		t.Fatalf("%d addresses remembered, bound 4", n)
	}
}

// A refusal of a request with a body closes the connection: the body is
// never read, and net/http must not wait to drain it.
func TestARefusalWithABodyClosesTheConnection(t *testing.T) {
	srv := limitedServer(AuthFailureLimit{})
	r := httptest.NewRequest(http.MethodPost, "/t", nil)
	r.ContentLength = 100
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || w.Header().Get("Connection") != "close" {
		t.Fatalf("%d Connection %q, want 401 and close", w.Code, w.Header().Get("Connection"))
	}
}
