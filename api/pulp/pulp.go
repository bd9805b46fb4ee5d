package pulp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// Prefix is where Pulp's API answers: its documents' paths are relative to
// /pulp/api.
const Prefix = "/pulp/api/v2"

// APIVersion is the Pulp release whose API the dialect speaks; clients read
// it from /v2/status/ to know which calls the server has.
const APIVersion = "2.21.5"

// TimeLayout is Pulp's DT_EXT_COMPLETE: no fraction, UTC as Z.
const TimeLayout = "2006-01-02T15:04:05Z07:00"

// FormatTime shows t as Pulp does; the zero time is null.
func FormatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Truncate(time.Second).Format(TimeLayout)
	return &s
}

// Services are what the dialect calls.
type Services struct {
	Status    api.Status
	Repos     Repos
	Tasks     Tasks
	Content   Content
	Syncs     Syncs
	Schedules Schedules
	Consumers Consumers
	Publishes Publishes
	Runs      api.Runs
	// CallReports2_4 answers a sync with Pulp 2.4+'s {"result", "error",
	// "spawned_tasks"} instead of the seed's array of call reports.
	CallReports2_4 bool
}

type dialect struct {
	srv           *api.Server
	status        api.Status
	repos         Repos
	tasks         Tasks
	content       Content
	syncs         Syncs
	schedules     Schedules
	consumers     Consumers
	publishes     Publishes
	runs          api.Runs
	callReports24 bool
}

// Register mounts the dialect on srv.
func Register(srv *api.Server, svc Services) {
	d := &dialect{srv: srv, status: svc.Status, repos: svc.Repos, tasks: svc.Tasks, content: svc.Content, syncs: svc.Syncs, schedules: svc.Schedules, consumers: svc.Consumers, publishes: svc.Publishes, runs: svc.Runs,
		callReports24: svc.CallReports2_4}
	d.handle(http.MethodGet, "/status/", "", d.serverStatus)
	d.registerRepositories()
	d.registerTasks()
	d.registerPublications()
	d.registerSync()
	d.registerSchedules()
	d.registerConsumers()
	d.registerContentSchedules()
	d.registerDistributors()
	srv.HandleUnmatched(api.Unmatched{Prefix: "/pulp/", NotFound: http.HandlerFunc(unknownURL), MethodNotAllowed: http.HandlerFunc(wrongMethod)})
}

// handler answers with a status and a body (written as JSON), or fails.
type handler func(r *http.Request, ps httprouter.Params) (int, any, error)

// plainText is a body a handler answers as text, not JSON: the few answers
// Pulp's views write themselves (Django's HttpResponseBadRequest).
type plainText string

// errBadRequest is Django's HttpResponseBadRequest, which Pulp's views
// answer themselves (a content action word that is none): 400, plain text.
var errBadRequest = errors.New("bad request")

// errWrongMethod answers as a method the path does not take (405, empty),
// for a path a wildcard route shares with another view (/tasks/search/).
var errWrongMethod = errors.New("method not allowed")

// handle mounts h at path, a path of Pulp's documents (ending in /), and at
// the same path without its slash: Django would redirect that GET and break
// that POST; Ferry takes both.
func (d *dialect) handle(method, path string, need fsm.Policy, h handler) {
	serve := func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		// Every Pulp repository is in one project of the store: a
		// credential limited to others reaches none of Pulp.
		if need != "" && api.CheckScope(r.Context(), fsm.PulpProject) != nil {
			writeError(w, r, permissionDenied(basicUser(r), r.Method+" "+r.URL.Path))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), headersKey{}, w.Header()))
		status, body, err := h(r, ps)
		if errors.Is(err, errBadRequest) {
			status, body, err = http.StatusBadRequest, plainText("bad request"), nil
		}
		if errors.Is(err, errWrongMethod) {
			wrongMethod(w, r)
			return
		}
		if err != nil {
			writeError(w, r, asError(err))
			return
		}
		d.srv.ReadHeaders(w)
		switch text, isText := body.(plainText); {
		case status == http.StatusNoContent:
			w.WriteHeader(status)
		case isText:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, string(text))
		default:
			writeJSON(w, status, body)
		}
	}
	d.srv.Handle(method, Prefix+path, need, authFailure, serve)
	if trimmed := strings.TrimSuffix(path, "/"); trimmed != path && trimmed != "" {
		d.srv.Handle(method, Prefix+trimmed, need, authFailure, serve)
	}
}

// unknownURL is Pulp's page_not_found: 404 with the body null.
func unknownURL(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusNotFound, nil) }

// wrongMethod is Django's answer to a method a path does not take: 405,
// empty.
func wrongMethod(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusMethodNotAllowed) }

// authFailure answers a refused token as Pulp answers a refused login.
func authFailure(w http.ResponseWriter, r *http.Request, status int, message string) {
	user := basicUser(r)
	switch {
	case status == http.StatusForbidden:
		writeError(w, r, permissionDenied(user, r.Method+" "+r.URL.Path))
	case strings.HasPrefix(message, "missing"):
		writeError(w, r, authenticationFailed())
	case status == http.StatusTooManyRequests: // too many failed authentications (api/authlimit.go)
		e := invalidCredentials(user)
		e.Status = status
		writeError(w, r, e)
	default:
		writeError(w, r, invalidCredentials(user))
	}
}

// basicUser is the user name of a Basic Authorization header ("" without).
func basicUser(r *http.Request) string {
	scheme, rest, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "basic") {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return ""
	}
	user, _, _ := strings.Cut(string(b), ":")
	return user
}

func writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	writeJSON(w, e.Status, e.body(r))
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// asError turns what a handler returned into Pulp's terms: a service error
// by its status (a 4xx is an invalid request, a 404 a missing resource,
// anything else Pulp's 500 with the exception's words).
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	status := api.StatusOf(err)
	switch {
	case status == http.StatusNotFound:
		return missingResource("resource_id", err.Error())
	case status == http.StatusConflict:
		return &Error{Status: status, Code: "PLP0010", Message: "Conflicting operation reasons: " + err.Error(), Top: map[string]any{"reasons": []any{}}}
	case status >= 400 && status < 500:
		return &Error{Status: http.StatusBadRequest, Code: "PLP0015", Message: err.Error(), Data: map[string]any{}, Top: map[string]any{}}
	}
	if status < 500 {
		status = http.StatusInternalServerError
	}
	return &Error{Status: status, Code: "PLP0000", Message: err.Error()}
}

// maxBody bounds a request body, as the native API does.
const maxBody = 1 << 20

// readObject reads a JSON object body (parse_json_body): not JSON is
// PLP1009, JSON that is not an object PLP1015. An empty body is an empty
// object where Pulp allows one (allowEmpty).
func readObject(r *http.Request, allowEmpty bool) (map[string]json.RawMessage, *Error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, notJSON()
	}
	if len(b) > maxBody {
		e := notJSON()
		e.Status, e.Message = http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes", maxBody)
		return nil, e
	}
	if len(bytes.TrimSpace(b)) == 0 && allowEmpty {
		return map[string]json.RawMessage{}, nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, notJSON()
	}
	var obj map[string]json.RawMessage
	if _, ok := v.(map[string]any); !ok || json.Unmarshal(b, &obj) != nil {
		return nil, notObject()
	}
	return obj, nil
}

// serverStatus is GET /v2/status/ (no authentication, as Pulp's): the API
// version and, as Pulp's workers, the agents gossip knows alive.
func (d *dialect) serverStatus(*http.Request, httprouter.Params) (int, any, error) {
	workers := []map[string]any{}
	now := FormatTime(time.Now())
	for _, m := range d.status.Members() {
		if m.Status == cluster.StatusAlive {
			workers = append(workers, map[string]any{"_ns": "workers", "name": "reserved_resource_worker-0@" + m.ID, "last_heartbeat": now})
		}
	}
	return http.StatusOK, map[string]any{
		"api_version": "2", "versions": map[string]any{"platform_version": APIVersion},
		"database": map[string]any{"connected": true}, "messaging_connection": map[string]any{"connected": true},
		"known_workers": workers,
	}, nil
}
