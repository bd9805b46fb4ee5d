package replicator

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ferrysync/ferry/internal/peer"
	"github.com/julienschmidt/httprouter"
)

// testToken is the management token the test executors send and
// replicaServer requires, as the agents of a group share one.
const testToken = "test-management-token"

// replicaServer serves dst's side of the protocol with the real handler, on
// an httprouter behind a token check as the API mounts it. wrap, when not
// nil, sits in front of it to count calls or inject faults.
func replicaServer(t *testing.T, dst TargetStore, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	var h http.Handler = replicaRouter(&Receiver{Store: dst}, requireToken)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// replicaRouter mounts rc's routes on an httprouter, each through mw.
func replicaRouter(rc *Receiver, mw func(http.Handler) http.Handler) *httprouter.Router {
	router := httprouter.New()
	rc.Routes(func(method, path string, h http.Handler) { router.Handler(method, path, mw(h)) })
	return router
}

// requireToken refuses a request without testToken and names its caller.
func requireToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(peer.HeaderAuthToken) != testToken {
			writeError(w, http.StatusUnauthorized, "a valid token is required")
			return
		}
		h.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), "test-agent")))
	})
}

// countHeads calls onHead with the number of each head call before the
// target answers it.
func countHeads(onHead func(n int)) func(http.Handler) http.Handler {
	var n atomic.Int64
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if onHead != nil && r.Method == http.MethodGet && r.URL.Path == "/v1/replica/head" {
				onHead(int(n.Add(1)))
			}
			next.ServeHTTP(w, r)
		})
	}
}
