package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
)

type fakeReadiness struct{ reason string }

func (f fakeReadiness) NotReady() (string, time.Duration) { return f.reason, 2 * time.Second }

// A not-ready agent refuses what needs its state with 503 and Retry-After
// before any token check (a valid token it has not caught up on is never a
// 401), and still serves health, metrics, its own routes and the agents'.
func TestNotReadyRefusesStatefulRoutesOnly(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := New(Config{Auth: fakeAuth{}, Status: fakeStatus{}, Readiness: fakeReadiness{"agent not ready (catching_up): behind"},
		Logger: slog.New(slog.DiscardHandler), Registerer: reg, Gatherer: reg})
	ok := func(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) { w.WriteHeader(http.StatusOK) }
	srv.Handle(http.MethodGet, "/v1/things", fsm.PolicyRead, nil, ok)
	srv.Handle(http.MethodGet, "/v1/internal/thing", fsm.PolicyRead, nil, ok)
	srv.Mount(http.MethodPost, "/v1/replica/plan", fsm.PolicyAdmin, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/v1/things", "read", http.StatusServiceUnavailable},
		{"GET", "/v1/things", "unknown-to-a-behind-agent", http.StatusServiceUnavailable},
		{"GET", "/v1/things", "", http.StatusServiceUnavailable},
		{"GET", "/v1/health", "", http.StatusServiceUnavailable},
		{"GET", "/metrics", "", http.StatusOK},
		{"GET", "/v1/internal/thing", "read", http.StatusOK},
		{"GET", "/v1/internal/thing", "nope", http.StatusUnauthorized},
		{"POST", "/v1/replica/plan", "admin", http.StatusOK},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(c.method, c.path, nil)
		if c.token != "" {
			r.Header.Set(HeaderAuthToken, c.token)
		}
		srv.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s %s (%q): %d %s, want %d", c.method, c.path, c.token, w.Code, w.Body, c.want)
			continue
		}
		if w.Code == http.StatusServiceUnavailable && (w.Header().Get("Retry-After") != "2" || !strings.Contains(w.Body.String(), "catching_up")) {
			t.Errorf("%s %s: refusal without Retry-After 2 or reason: %v %s", c.method, c.path, w.Header(), w.Body)
		}
	}
}
