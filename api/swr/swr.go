package swr

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/registry"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// Prefix is where SWR's shared-edition management API answers; the OCI
// registry leaves it to the router (api/oci's except list).
const Prefix = "/v2/manage"

// Projects are the store's projects, SWR's organizations: this agent's
// store (*store.Local) as it is.
type Projects interface {
	Projects(ctx context.Context) ([]store.Project, error)
	Project(ctx context.Context, name string) (store.Project, error)
	CreateProject(ctx context.Context, p store.Project) (store.Project, error)
	DeleteProject(ctx context.Context, name string) error
	Repos(ctx context.Context, project string) ([]store.Repo, error)
	DeleteRepo(ctx context.Context, project, name string) error
}

// Images are the registry's listings (*registry.Registry).
type Images interface {
	Images(ctx context.Context, project string) ([]registry.ImageSummary, error)
	TagDetails(ctx context.Context, name string) ([]registry.TagDetail, error)
	// Head is a DOCKER repository's change-log position: a rule replicates
	// what is pushed after it.
	Head(ctx context.Context, project, repo string) (uint64, error)
}

// Clusters is the group's cluster registry (api.Status has it): SWR's
// regions.
type Clusters interface {
	Clusters() []fsm.ClusterRecord
}

// Services are what the dialect reads and writes through.
type Services struct {
	Projects Projects
	Images   Images
	Clusters Clusters
	// Tasks hold the automatic sync rules, Runs run the syncs.
	Tasks   api.Tasks
	Runs    api.Runs
	Regions Regions
	// SyncWait bounds sync_images' wait for its run (0: DefaultSyncWait).
	SyncWait time.Duration
}

type dialect struct {
	srv      *api.Server
	projects Projects
	images   Images
	clusters Clusters
	tasks    api.Tasks
	runs     api.Runs
	peers    Regions
	syncWait time.Duration
}

// Register mounts the dialect on srv. Routes take the agent's tokens (and
// whatever else api's authentication accepts): reads need read, writes
// write.
func Register(srv *api.Server, svc Services) {
	d := &dialect{srv: srv, projects: svc.Projects, images: svc.Images, clusters: svc.Clusters,
		tasks: svc.Tasks, runs: svc.Runs, peers: svc.Regions, syncWait: cmp.Or(svc.SyncWait, DefaultSyncWait)}
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	d.handle(http.MethodGet, "/namespaces", r, d.listNamespaces)
	d.handle(http.MethodPost, "/namespaces", w, d.createNamespace)
	d.handle(http.MethodGet, "/namespaces/:namespace", r, d.showNamespace)
	d.handle(http.MethodDelete, "/namespaces/:namespace", w, d.deleteNamespace)
	// A repository name holds slashes when the client did not send '$':
	// one catch-all per method, read from the right (parseRepoPath).
	d.handle(http.MethodGet, "/namespaces/:namespace/repos/*rest", r, d.repoGet)
	d.handle(http.MethodPost, "/namespaces/:namespace/repos/*rest", w, d.repoPost)
	d.handle(http.MethodDelete, "/namespaces/:namespace/repos/*rest", w, d.repoDelete)
	d.handle(http.MethodGet, "/repos", r, d.listRepos)
	d.handle(http.MethodGet, "/regions", r, d.regions)
	d.handle(http.MethodGet, "/agency", r, d.checkAgency)
	d.handle(http.MethodPost, "/agency", w, d.createAgency)
	srv.HandleUnmatched(api.Unmatched{Prefix: Prefix + "/", NotFound: http.HandlerFunc(unknownURL), MethodNotAllowed: http.HandlerFunc(unknownURL)})
}

// reply is what a handler answers: a status, a body (nil: none) and, for a
// paged listing, its Content-Range.
type reply struct {
	status       int
	body         any
	contentRange string
}

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

type handler func(r *http.Request, ps httprouter.Params) (reply, error)

// handle mounts h: the one place that writes answers and errors.
func (d *dialect) handle(method, path string, need fsm.Policy, h handler) {
	d.srv.Handle(method, Prefix+path, need, authFailure, func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		rep, err := h(r, ps)
		if err != nil {
			writeError(w, asError(err))
			return
		}
		d.srv.ReadHeaders(w)
		if rep.contentRange != "" {
			w.Header().Set("Content-Range", rep.contentRange)
		}
		if rep.body == nil {
			w.WriteHeader(rep.status)
			return
		}
		writeJSON(w, rep.status, rep.body)
	})
}

func writeError(w http.ResponseWriter, e *Error) { writeJSON(w, e.Status, e.body()) }

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// query parses the raw query: a malformed one is refused rather than
// silently losing a pair, as URL.Query would.
func query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalidParameter("query: %v", err)
	}
	return q, nil
}

// readBody decodes a JSON object body.
func readBody(r *http.Request, v any) error {
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(v); err != nil {
		return bodyError(err)
	}
	return nil
}

// bodyError refuses a body SWR could not read: 413 when over the bound.
func bodyError(err error) *Error {
	if api.TooLarge(err) {
		return refuse(http.StatusRequestEntityTooLarge, CodeInvalidParameter, "Invalid parameter", "body: %v", err)
	}
	return invalidParameter("body: %v", err)
}

// window is a listing's paging: offset and limit (-1: none given).
type window struct {
	offset, limit int
	// ranged is set when both were given: only then SWR answers
	// Content-Range.
	ranged bool
}

// pageOf cuts items to w and words Content-Range: "offset-count/total"
// (count = records on this page, as SWR documents; not RFC 7233). Past the
// end is an empty page, never an error: Terraform pages until it gets [].
func pageOf[T any](items []T, w window) ([]T, string) {
	total := len(items)
	start := min(w.offset, total)
	end := total
	if w.limit >= 0 {
		end = min(start+w.limit, total)
	}
	out := append([]T{}, items[start:end]...)
	if !w.ranged {
		return out, ""
	}
	return out, fmt.Sprintf("%d-%d/%d", w.offset, len(out), total)
}

// windowOf reads limit and offset: a limit outside 1..max is SWR's invalid
// page size, a negative or non-numeric offset an invalid parameter. def is
// the limit when none is given (-1: everything).
func windowOf(p params, def, max int) (window, error) {
	w := window{limit: def}
	l, hasLimit := p["limit"]
	o, hasOffset := p["offset"]
	if hasLimit {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > max {
			return w, refuse(http.StatusBadRequest, CodeInvalidPageSize, "Invalid page size", "limit %q: 1 to %d", l, max)
		}
		w.limit = n
	}
	if hasOffset {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 {
			return w, invalidParameter("offset %q: a number from 0", o)
		}
		w.offset = n
	}
	w.ranged = hasLimit && hasOffset
	return w, nil
}
