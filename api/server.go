package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/sdksign"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server routes Ferry's HTTP API to the services of its Config.
type Server struct {
	auth   Auth
	status Status
	tokens Tokens
	// accessKeys manages the keys; verifier checks the requests signed
	// with them.
	accessKeys AccessKeys
	verifier   sdksign.Verifier
	forwarder  Forwarder
	runs       Runs
	tasks      Tasks
	artifacts  store.Store
	log        *slog.Logger
	metrics    *httpMetrics
	router     *httprouter.Router
	unmatched  []Unmatched
	subtrees   []Subtree
	gatherer   prometheus.Gatherer
	transport  http.RoundTripper
	// bulkTransport carries proxied artifact calls: no response-header
	// timeout, since a large upload is answered only after its fsync.
	bulkTransport http.RoundTripper
	scheme        string // of other agents' APIs
	agentCert     bool   // routes for agents only want an agent certificate

	readiness Readiness
	leaver    Leaver
	auditLog  *slog.Logger
	// bodyReadTimeout and authFailures are the limits of api/bodyread.go
	// and api/authlimit.go.
	bodyReadTimeout time.Duration
	authFailures    *authLimiter
	routeList       []Route // api/routes.go
}

// Config is what a Server serves and how.
type Config struct {
	Auth   Auth
	Status Status
	Tokens Tokens
	// AccessKeys serves /v1/acl/access-keys. Signed requests are checked
	// with Auth, when it is an AccessKeyAuth.
	AccessKeys AccessKeys
	Forwarder  Forwarder
	Runs       Runs
	Tasks      Tasks
	// Now is the clock signed requests' dates are checked against;
	// time.Now when nil.
	Now func() time.Time
	// Artifacts is this agent's store: the artifact API is region-local and
	// calls it directly.
	Artifacts store.Store

	Logger *slog.Logger
	// Registerer receives the HTTP metrics; Gatherer is what /metrics serves.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Transport carries requests proxied to the leader; BulkTransport
	// artifact calls proxied to another cluster's agent.
	Transport     http.RoundTripper
	BulkTransport http.RoundTripper
	// TLS: other agents' APIs are https, and the routes for agents only
	// (/v1/internal/*, mounted /v1/replica/*) take only a caller with a
	// verified agent certificate (api/agentcert.go).
	TLS bool

	// Readiness, when set, refuses the calls that need state while the
	// agent is not ready; Leaver serves PUT /v1/agent/leave.
	Readiness Readiness
	Leaver    Leaver

	// Audit receives the audit trail (api/audit.go); nil: none.
	Audit *slog.Logger
	// BodyReadTimeout cuts a request body that sends nothing for so long
	// with 408 (0: never). AuthFailures bounds the failed authentications
	// from one address (api/authlimit.go; the zero value is its default).
	BodyReadTimeout time.Duration
	AuthFailures    AuthFailureLimit
}

// New builds the router with every route and its middleware.
func New(c Config) *Server {
	s := &Server{
		auth: c.Auth, status: c.Status, tokens: c.Tokens, forwarder: c.Forwarder, runs: redactedRuns{c.Runs}, tasks: c.Tasks, artifacts: c.Artifacts,
		accessKeys: c.AccessKeys,
		log:        c.Logger, metrics: newHTTPMetrics(c.Registerer),
		router: httprouter.New(), gatherer: c.Gatherer, transport: c.Transport, bulkTransport: c.BulkTransport,
		scheme: "http", agentCert: c.TLS,
		bodyReadTimeout: c.BodyReadTimeout, authFailures: newAuthLimiter(c.AuthFailures, c.Registerer),
	}
	if c.TLS {
		s.scheme = "https"
	}
	s.readiness, s.leaver = c.Readiness, c.Leaver
	s.auditLog = c.Audit
	s.router.NotFound = s.observe("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := s.unmatchedFor(r.URL.Path); ok {
			u.NotFound.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	}))
	s.router.MethodNotAllowed = s.observe("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := s.unmatchedFor(r.URL.Path); ok {
			u.MethodNotAllowed.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path)
	}))
	s.router.HandleMethodNotAllowed = true
	// Every answer goes through observe (trace id, metrics): no automatic
	// redirects or OPTIONS replies behind its back.
	s.router.RedirectTrailingSlash = false
	s.router.RedirectFixedPath = false
	s.router.HandleOPTIONS = false
	s.verifier = sdksign.Verifier{Secret: s.accessKeySecret, Now: c.Now}
	s.routes()
	return s
}

// ServeHTTP routes a request: to the subtree it falls in, else through the
// router.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, t := range s.subtrees {
		if t.holds(r.URL.Path) {
			s.observe(t.Label(r), s.authorizeWith(t.Need(r), t.Fail, t.Handler)).ServeHTTP(w, r)
			return
		}
	}
	s.router.ServeHTTP(w, r)
}

// Subtree is a dialect that routes every path under Prefix (and Prefix
// without its slash) itself: the OCI registry's /v2/, whose names hold
// slashes and whose routes are read from the right, which a router cannot
// match. Paths under Except stay the router's (SWR's /v2/manage/).
type Subtree struct {
	Prefix string
	Except []string
	// Label names the request's operation in metrics and logs (not its
	// path: names are unbounded); Need is the policy it needs.
	Label   func(r *http.Request) string
	Need    func(r *http.Request) fsm.Policy
	Fail    AuthFailure
	Handler http.Handler
}

func (t Subtree) holds(path string) bool {
	if path != strings.TrimSuffix(t.Prefix, "/") && !strings.HasPrefix(path, t.Prefix) {
		return false
	}
	for _, e := range t.Except {
		if strings.HasPrefix(path, e) {
			return false
		}
	}
	return true
}

// HandleSubtree makes t serve its paths, behind the middleware of every
// route. Register before serving.
func (s *Server) HandleSubtree(t Subtree) {
	if t.Fail == nil {
		t.Fail = nativeAuthFailure
	}
	s.subtrees = append(s.subtrees, t)
}

// Handle registers a route, native or a dialect's (api/bkrepo, ...), with
// the middleware of every route: trace id, access log and metrics labelled by path, and
// the token check against need ("" = open). fail, when not nil, writes the
// 401/403 refusals in the dialect's shape; nil answers them natively.
func (s *Server) Handle(method, path string, need fsm.Policy, fail AuthFailure, h httprouter.Handle) {
	if fail == nil {
		fail = nativeAuthFailure
	}
	s.routeList = append(s.routeList, Route{Method: method, Path: path})
	s.router.Handle(method, path, func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, ps) })
		s.observe(path, s.authorizeWith(need, fail, inner)).ServeHTTP(w, r)
	})
}

func (s *Server) routes() {
	s.Handle(http.MethodGet, "/v1/health", "", nil, s.health)
	metrics := promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})
	s.Handle(http.MethodGet, "/metrics", "", nil, func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
		metrics.ServeHTTP(w, r)
	})

	s.Handle(http.MethodGet, "/v1/status/leader", fsm.PolicyRead, nil, s.read(s.statusLeader))
	s.Handle(http.MethodGet, "/v1/status/peers", fsm.PolicyRead, nil, s.read(s.statusPeers))
	s.Handle(http.MethodGet, "/v1/members", fsm.PolicyRead, nil, s.read(s.members))
	s.Handle(http.MethodGet, "/v1/clusters", fsm.PolicyRead, nil, s.read(s.clusters))
	s.Handle(http.MethodGet, "/v1/agent/self", fsm.PolicyRead, nil, s.read(s.agentSelf))
	s.Handle(http.MethodPut, "/v1/agent/leave", fsm.PolicyAdmin, nil, s.agentLeave)

	s.Handle(http.MethodPost, "/v1/acl/tokens", fsm.PolicyAdmin, nil, s.createToken)
	s.Handle(http.MethodGet, "/v1/acl/tokens", fsm.PolicyAdmin, nil, s.read(s.listTokens))
	s.Handle(http.MethodDelete, "/v1/acl/tokens/:accessor", fsm.PolicyAdmin, nil, s.deleteToken)
	s.Handle(http.MethodPost, "/v1/acl/access-keys", fsm.PolicyAdmin, nil, s.createAccessKey)
	s.Handle(http.MethodGet, "/v1/acl/access-keys", fsm.PolicyAdmin, nil, s.read(s.listAccessKeys))
	s.Handle(http.MethodDelete, "/v1/acl/access-keys/:accessKey", fsm.PolicyAdmin, nil, s.deleteAccessKey)

	// A follower forwards writes here on its caller's behalf; the command's
	// own required policy is checked against the caller's token.
	s.Handle(http.MethodPost, "/v1/internal/apply", fsm.PolicyRead, nil, s.agentsOnly(s.internalApply))

	s.artifactRoutes()
	s.runRoutes()
	s.taskRoutes()
}

// Unmatched answers the requests under Prefix that match no route (NotFound)
// or none for their method (MethodNotAllowed), in a dialect's shape.
type Unmatched struct {
	Prefix           string
	NotFound         http.Handler
	MethodNotAllowed http.Handler
}

// HandleUnmatched makes u answer the unmatched requests under u.Prefix; the
// longest prefix wins. Register before serving.
func (s *Server) HandleUnmatched(u Unmatched) { s.unmatched = append(s.unmatched, u) }

func (s *Server) unmatchedFor(path string) (Unmatched, bool) {
	var best Unmatched
	for _, u := range s.unmatched {
		if strings.HasPrefix(path, u.Prefix) && len(u.Prefix) > len(best.Prefix) {
			best = u
		}
	}
	return best, best.Prefix != ""
}

// Mount registers h, a route another package serves (the replicator's half
// of the transfer protocol), behind the middleware of every route with the
// native token check against policy. h finds the path parameters with
// httprouter.ParamsFromContext and the caller with CallerOf.
func (s *Server) Mount(method, path string, policy fsm.Policy, h http.Handler) {
	s.Handle(method, path, policy, nil, mounted(h))
}

// mounted hands a mounted handler its path parameters in the context.
func mounted(h http.Handler) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), httprouter.ParamsKey, ps)))
	}
}
