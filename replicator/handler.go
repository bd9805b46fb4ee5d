package replicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/internal/tlsutil"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// The target side of the protocol over HTTP (wire.go lists the routes).
// The agent mounts it under its API's authentication: only the agents of the
// group call it, with their shared management token.

// Routes mounts every route of the protocol through mount, with
// httprouter-style paths; a handler reads its path parameters with
// httprouter.ParamsFromContext, so mount must put them in the request's
// context (httprouter.Router.Handler does). mount is also where the caller's
// name is put in the context with WithCaller.
func (rc *Receiver) Routes(mount func(method, path string, h http.Handler)) {
	mount(http.MethodPost, "/v1/replica/plan", decoded(rc.Plan))
	mount(http.MethodPost, "/v1/replica/batch", inRepo(rc.serveBatch))
	mount(http.MethodGet, "/v1/replica/uploads/:sha256", http.HandlerFunc(rc.serveUploadStatus))
	mount(http.MethodPatch, "/v1/replica/uploads/:sha256", http.HandlerFunc(rc.serveAppend))
	mount(http.MethodPost, "/v1/replica/commit", decoded(rc.Commit))
	mount(http.MethodPost, "/v1/replica/versions", decoded(rc.Versions))
	mount(http.MethodPost, "/v1/replica/delete", decoded(rc.Delete))
	mount(http.MethodGet, "/v1/replica/head", inRepo(rc.serveHead))
}

type callerKey struct{}

// WithCaller names the authenticated caller of a protocol request: a batch
// that does not say who writes is recorded in the change log under this name.
func WithCaller(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, callerKey{}, name)
}

func callerOf(ctx context.Context) string {
	name, _ := ctx.Value(callerKey{}).(string)
	return name
}

type sourceKey struct{}

// withSource names the cluster a protocol request comes from, for the
// received-bytes counter: its agent certificate's with TLS, else the
// ?source= the sender sets, else "unknown".
func withSource(r *http.Request) *http.Request {
	id, ok := tlsutil.AgentID(r.TLS)
	if !ok {
		id = r.URL.Query().Get("source")
	}
	if id == "" {
		id = "unknown"
	}
	return r.WithContext(context.WithValue(r.Context(), sourceKey{}, id))
}

func sourceOf(ctx context.Context) string {
	if id, ok := ctx.Value(sourceKey{}).(string); ok {
		return id
	}
	return "unknown"
}

// decoded serves a call whose request is one JSON body of at most
// maxJSONBody bytes (a plan of maxPlanObjects objects with metadata is well
// under it).
func decoded[Req, Resp any](call func(context.Context, Req) (Resp, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody)).Decode(&req); err != nil {
			writeError(w, bodyStatus(err), "invalid JSON body: %v", err)
			return
		}
		out, err := call(r.Context(), req)
		reply(w, out, err)
	})
}

// inRepo serves a call on the repository the required ?project=&repo= name.
func inRepo(serve func(w http.ResponseWriter, r *http.Request, q url.Values, project, repo string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for _, name := range [...]string{"project", "repo"} {
			if q.Get(name) == "" {
				writeError(w, http.StatusBadRequest, "query parameter %s is required", name)
				return
			}
		}
		serve(w, r, q, q.Get("project"), q.Get("repo"))
	})
}

func (rc *Receiver) serveBatch(w http.ResponseWriter, r *http.Request, q url.Values, project, repo string) {
	// by names the writer in the change log (the sending run); the caller
	// when it does not say.
	by := q.Get("by")
	if by == "" {
		by = callerOf(r.Context())
	}
	out, err := rc.Batch(withSource(r).Context(), project, repo, by, r.Body)
	reply(w, out, err)
}

func (rc *Receiver) serveUploadStatus(w http.ResponseWriter, r *http.Request) {
	size, _, ok := uploadQuery(w, r.URL.Query(), false)
	if !ok {
		return
	}
	out, err := rc.UploadStatus(httprouter.ParamsFromContext(r.Context()).ByName("sha256"), size)
	reply(w, out, err)
}

// serveAppend answers 409 with the current offset (reply) when the sender is
// not where the target is, so that it resumes from there.
func (rc *Receiver) serveAppend(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, offset, ok := uploadQuery(w, q, true)
	if !ok {
		return
	}
	sum := httprouter.ParamsFromContext(r.Context()).ByName("sha256")
	out, err := rc.Append(withSource(r).Context(), sum, q.Get("md5"), size, offset, r.Body)
	reply(w, out, err)
}

func (rc *Receiver) serveHead(w http.ResponseWriter, r *http.Request, q url.Values, project, repo string) {
	var since uint64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since=%q is not a change-log sequence", v)
			return
		}
		since = n
	}
	out, err := rc.Head(r.Context(), project, repo, since, q.Get("by"))
	reply(w, out, err)
}

// uploadQuery reads ?size= (and ?offset= when wanted).
func uploadQuery(w http.ResponseWriter, q url.Values, withOffset bool) (size, offset int64, ok bool) {
	size, err := strconv.ParseInt(q.Get("size"), 10, 64)
	if err != nil || size < 0 {
		writeError(w, http.StatusBadRequest, "size=%q is not a byte count", q.Get("size"))
		return 0, 0, false
	}
	if withOffset {
		if offset, err = strconv.ParseInt(q.Get("offset"), 10, 64); err != nil || offset < 0 {
			writeError(w, http.StatusBadRequest, "offset=%q is not a byte offset", q.Get("offset"))
			return 0, 0, false
		}
	}
	return size, offset, true
}

// reply answers a call: v, or the error with its status. An append at the
// wrong offset is answered 409 with where the upload stands, for the sender
// to resume from there.
func reply(w http.ResponseWriter, v any, err error) {
	if err == nil {
		writeJSON(w, http.StatusOK, v)
		return
	}
	var oe *store.OffsetError
	if errors.As(err, &oe) {
		writeJSON(w, http.StatusConflict, UploadStatus{Offset: oe.Offset, Error: err.Error()})
		return
	}
	writeJSON(w, statusOf(err), peer.ErrorBody{Error: err.Error()})
}

// statusOf is the status of an error the Receiver returns: the store's
// sentinels as the rest of the API answers them.
func statusOf(err error) int {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrNotEmpty):
		return http.StatusConflict
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrChecksum):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrInsufficientSpace):
		return http.StatusInsufficientStorage
	case errors.Is(err, context.Canceled):
		return 499 // the sender went away
	}
	return http.StatusInternalServerError
}

// bodyStatus is the status of a JSON body that could not be read: 413
// when it passed its bound.
func bodyStatus(err error) int {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, peer.ErrorBody{Error: fmt.Sprintf(format, args...)})
}

var newline = []byte{'\n'}

// writeJSON answers as every native API route does: indented JSON and a
// newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error": "unencodable answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write(newline)
}
