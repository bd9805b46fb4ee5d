package api

import (
	"log/slog"
	"net/http"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server routes Ferry's HTTP API to a Service.
type Server struct {
	svc       Service
	log       *slog.Logger
	metrics   *httpMetrics
	router    *httprouter.Router
	gatherer  prometheus.Gatherer
	transport http.RoundTripper
	// bulkTransport carries proxied artifact calls: no response-header
	// timeout, since a large upload is answered only after its fsync.
	bulkTransport http.RoundTripper
}

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// Registerer receives the HTTP metrics; Gatherer is what /metrics serves.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Transport carries requests proxied to the leader; BulkTransport
	// artifact calls proxied to another cluster's agent.
	Transport     http.RoundTripper
	BulkTransport http.RoundTripper
}

// New builds the router with every route and its middleware.
func New(svc Service, o Options) *Server {
	s := &Server{
		svc: svc, log: o.Logger, metrics: newHTTPMetrics(o.Registerer),
		router: httprouter.New(), gatherer: o.Gatherer, transport: o.Transport, bulkTransport: o.BulkTransport,
	}
	s.router.NotFound = s.observe("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	}))
	s.router.MethodNotAllowed = s.observe("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path)
	}))
	s.router.HandleMethodNotAllowed = true
	// Every answer goes through observe (trace id, metrics): no automatic
	// redirects or OPTIONS replies behind its back.
	s.router.RedirectTrailingSlash = false
	s.router.RedirectFixedPath = false
	s.router.HandleOPTIONS = false
	s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// handle registers a route with its required policy ("" = open).
func (s *Server) handle(method, path string, need fsm.Policy, h httprouter.Handle) {
	s.Handle(method, path, need, nil, h)
}

// Handle registers a dialect's route (api/bkrepo, ...) with the middleware of
// every native route: trace id, access log and metrics labelled by path, and
// the token check against need ("" = open). fail, when not nil, writes the
// 401/403 refusals in the dialect's shape; nil answers them natively.
func (s *Server) Handle(method, path string, need fsm.Policy, fail AuthFailure, h httprouter.Handle) {
	if fail == nil {
		fail = nativeAuthFailure
	}
	s.router.Handle(method, path, func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, ps) })
		s.observe(path, s.authorizeWith(need, fail, inner)).ServeHTTP(w, r)
	})
}

func (s *Server) routes() {
	s.handle(http.MethodGet, "/v1/health", "", s.health)
	metrics := promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})
	s.handle(http.MethodGet, "/metrics", "", func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
		metrics.ServeHTTP(w, r)
	})

	s.handle(http.MethodGet, "/v1/status/leader", fsm.PolicyRead, s.read(s.statusLeader))
	s.handle(http.MethodGet, "/v1/status/peers", fsm.PolicyRead, s.read(s.statusPeers))
	s.handle(http.MethodGet, "/v1/members", fsm.PolicyRead, s.read(s.members))
	s.handle(http.MethodGet, "/v1/clusters", fsm.PolicyRead, s.read(s.clusters))
	s.handle(http.MethodGet, "/v1/agent/self", fsm.PolicyRead, s.read(s.agentSelf))

	s.handle(http.MethodPost, "/v1/acl/tokens", fsm.PolicyAdmin, s.createToken)
	s.handle(http.MethodGet, "/v1/acl/tokens", fsm.PolicyAdmin, s.read(s.listTokens))
	s.handle(http.MethodDelete, "/v1/acl/tokens/:accessor", fsm.PolicyAdmin, s.deleteToken)

	// A follower forwards writes here on its caller's behalf; the command's
	// own required policy is checked against the caller's token.
	s.handle(http.MethodPost, "/v1/internal/apply", fsm.PolicyRead, s.internalApply)

	s.artifactRoutes()
	s.runRoutes()
	s.taskRoutes()
	s.replicaRoutes()
}
