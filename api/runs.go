package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// Runs API (docs/replication.md): any agent takes them; object detail is
// served by the run's executor, through this agent when it is another.

func (s *Server) runRoutes() {
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	s.Handle(http.MethodPost, "/v1/runs", w, nil, s.startRun)
	s.Handle(http.MethodGet, "/v1/runs", r, nil, s.read(s.listRuns))
	s.Handle(http.MethodGet, "/v1/runs/:id", r, nil, s.read(s.getRun))
	s.Handle(http.MethodGet, "/v1/runs/:id/objects", r, nil, s.runObjects)
	s.Handle(http.MethodPost, "/v1/runs/:id/cancel", w, nil, s.cancelRun)
	s.Handle(http.MethodGet, "/v1/runs/:id/events", r, nil, s.runEvents)
}

// redactedRuns is the Runs every handler of the generic API calls: the runs
// it answers are those a client is shown (fsm.Run.Redacted), so that no
// read token, run list, run view or event stream carries a Pulp feed's
// password. The state and the executor keep the real one.
type redactedRuns struct{ inner Runs }

func (r redactedRuns) StartRun(ctx context.Context, spec fsm.ReplicaSpec) (fsm.Run, error) {
	run, err := r.inner.StartRun(ctx, spec)
	return run.Redacted(), err
}

func (r redactedRuns) CancelRun(ctx context.Context, id string) (fsm.Run, error) {
	run, err := r.inner.CancelRun(ctx, id)
	return run.Redacted(), err
}

func (r redactedRuns) Runs(filter fsm.RunFilter) []fsm.Run {
	runs := r.inner.Runs(filter)
	for i := range runs {
		runs[i] = runs[i].Redacted()
	}
	return runs
}

func (r redactedRuns) StateChanged() <-chan struct{} { return r.inner.StateChanged() }

func (r redactedRuns) RunObjects(ctx context.Context, id string, f fsm.ObjectFilter, page store.PageRequest) (store.Page[fsm.ObjectRecord], error) {
	return r.inner.RunObjects(ctx, id, f, page)
}

func (r redactedRuns) Run(id string) (fsm.Run, bool) {
	run, ok := r.inner.Run(id)
	return run.Redacted(), ok
}

// NewRunSpec is a spec with the document's defaults, for a request to fill in.
func NewRunSpec() fsm.ReplicaSpec {
	return fsm.ReplicaSpec{ReplicaObjectType: fsm.ObjectRepository, Setting: fsm.ReplicaSetting{
		IncludeMetadata: true, ConflictStrategy: fsm.ConflictSkip, ErrorStrategy: fsm.ErrorContinue,
	}}
}

func (s *Server) startRun(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	spec := NewRunSpec()
	if !decodeBody(w, r, &spec) {
		return
	}
	run, err := s.runs.StartRun(r.Context(), spec)
	if err != nil {
		writeServiceError(w, err)
		return
	}
	s.ReadHeaders(w)
	writeJSON(w, http.StatusAccepted, run)
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	q := r.URL.Query()
	page, ok := pageOf(w, q.Get("pageNumber"), q.Get("pageSize"))
	if !ok {
		return
	}
	filter := fsm.RunFilter{State: fsm.RunState(q.Get("state")), TaskKey: q.Get("taskKey"), Projects: ScopeOf(r.Context())}
	switch filter.State {
	case "", fsm.RunWaiting, fsm.RunRunning, fsm.RunSuccess, fsm.RunFailed, fsm.RunCanceled, fsm.RunSkipped:
	default:
		writeError(w, http.StatusBadRequest, "state=%q is not one of WAITING, RUNNING, SUCCESS, FAILED, CANCELED, SKIPPED", filter.State)
		return
	}
	writeJSON(w, http.StatusOK, store.Paginate(s.runs.Runs(filter), page))
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	run, ok := s.runFor(w, r, ps.ByName("id"))
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// runFor is the run the request names, or false once it answered 404 (no
// such run) or 403 (the caller's credential does not reach its projects).
func (s *Server) runFor(w http.ResponseWriter, r *http.Request, id string) (fsm.Run, bool) {
	run, ok := s.runs.Run(id)
	if !ok {
		writeError(w, http.StatusNotFound, "run %s not found", id)
		return fsm.Run{}, false
	}
	if err := CheckScope(r.Context(), run.Spec.LocalProjectID); err != nil {
		writeServiceError(w, err)
		return fsm.Run{}, false
	}
	return run, true
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	run, err := s.runs.CancelRun(r.Context(), ps.ByName("id"))
	if err != nil {
		writeServiceError(w, err)
		return
	}
	s.ReadHeaders(w)
	writeJSON(w, http.StatusAccepted, run)
}

// runObjects is served by the agent that executed the run: the detail is in
// its local store.
func (s *Server) runObjects(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	run, ok := s.runFor(w, r, ps.ByName("id"))
	if !ok {
		return
	}
	if run.Executor != s.status.ClusterID() {
		addr, ok := s.status.ClusterAPIAddr(run.Executor)
		if !ok {
			writeError(w, http.StatusServiceUnavailable, "the executor of run %s, cluster %q, has no known address", run.ID, run.Executor)
			return
		}
		s.proxyTo(w, r, run.Executor, addr, s.transport)
		return
	}
	q := r.URL.Query()
	page, ok := pageOf(w, q.Get("pageNumber"), q.Get("pageSize"))
	if !ok {
		return
	}
	out, err := s.runs.RunObjects(r.Context(), run.ID, ParseObjectFilter(q), page)
	respond(w, out, err)
}

// Query parameters of GET /v1/runs/:id/objects, besides the page's: status,
// target, repo and version select exactly, path and package by prefix;
// order=newest lists the latest first.
const orderNewest = "newest"

// ParseObjectFilter reads the filter of a run's objects from a query.
func ParseObjectFilter(q url.Values) fsm.ObjectFilter {
	return fsm.ObjectFilter{
		Status: q.Get("status"), Target: q.Get("target"), Repo: q.Get("repo"), Version: q.Get("version"),
		PathPrefix: q.Get("path"), PackagePrefix: q.Get("package"), NewestFirst: q.Get("order") == orderNewest,
	}
}

// ObjectFilterQuery is the query ParseObjectFilter reads f from.
func ObjectFilterQuery(f fsm.ObjectFilter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "target": f.Target, "repo": f.Repo, "version": f.Version, "path": f.PathPrefix, "package": f.PackagePrefix} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.NewestFirst {
		q.Set("order", orderNewest)
	}
	return q
}

// ssePing keeps idle event streams (and the proxies on their way) open.
const ssePing = 15 * time.Second

// runEvents streams a run's changes as Server-Sent Events until it ends.
func (s *Server) runEvents(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	id := ps.ByName("id")
	run, ok := s.runFor(w, r, id)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v fsm.Run) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("run", run) {
		return
	}
	ping := time.NewTicker(ssePing)
	defer ping.Stop()
	for !run.State.Terminal() {
		changed := s.runs.StateChanged()
		now, ok := s.runs.Run(id)
		if !ok { // pruned: the last state seen is all there is
			break
		}
		if now.Index != run.Index {
			run = now
			if !run.State.Terminal() && !send("run", run) {
				return
			}
			continue
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
	send("end", run)
}
