package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The states of a run. A run's targets are WAITING, RUNNING, SUCCESS or
// FAILED, never CANCELED.
const (
	RunWaiting  = "WAITING"
	RunRunning  = "RUNNING"
	RunSuccess  = "SUCCESS"
	RunFailed   = "FAILED"
	RunCanceled = "CANCELED"
)

// The values of RunSpec.ReplicaObjectType.
const (
	ReplicaRepository = "REPOSITORY" // everything in each repository
	ReplicaPackage    = "PACKAGE"    // the versions named in PackageConstraints
	ReplicaPath       = "PATH"       // the files under each of PathConstraints
)

// The values of RunSetting.ConflictStrategy and RunSetting.ErrorStrategy.
const (
	ConflictSkip      = "SKIP"
	ConflictOverwrite = "OVERWRITE"
	ConflictFastFail  = "FAST_FAIL"
	ErrorContinue     = "CONTINUE"
	ErrorFastFail     = "FAST_FAIL"
)

// RunSpec is what POST /v1/runs replicates: the bkrepo task document.
type RunSpec struct {
	// SourceClusterID defaults to the cluster of the agent taking the request.
	SourceClusterID    string          `json:"sourceClusterId,omitempty"`
	LocalProjectID     string          `json:"localProjectId"`
	ReplicaObjectType  string          `json:"replicaObjectType"`
	ReplicaTaskObjects []ReplicaObject `json:"replicaTaskObjects"`
	RemoteClusterIDs   []string        `json:"remoteClusterIds"`
	Setting            RunSetting      `json:"setting"`
}

// ReplicaObject is one repository of a run. RemoteProjectID and
// RemoteRepoName default to the local names; the target project and
// repository are created when missing.
type ReplicaObject struct {
	LocalRepoName      string              `json:"localRepoName"`
	RemoteProjectID    string              `json:"remoteProjectId,omitempty"`
	RemoteRepoName     string              `json:"remoteRepoName,omitempty"`
	RepoType           string              `json:"repoType,omitempty"`
	PackageConstraints []PackageConstraint `json:"packageConstraints,omitempty"`
	PathConstraints    []PathConstraint    `json:"pathConstraints,omitempty"`
}

// PackageConstraint names a package of a PACKAGE run; no Versions means
// every version.
type PackageConstraint struct {
	PackageKey string   `json:"packageKey"`
	Versions   []string `json:"versions,omitempty"`
}

// PathConstraint names a folder or file of a PATH run.
type PathConstraint struct {
	Path string `json:"path"`
}

// UnmarshalJSON accepts a plain string "/a/b" for {"path": "/a/b"}, as the
// agent does.
func (p *PathConstraint) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		p.Path = s
		return nil
	}
	type plain PathConstraint
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = PathConstraint(v)
	return nil
}

// RunSetting tunes a run. Empty strategies and a nil IncludeMetadata leave
// the agent's defaults (SKIP, CONTINUE, true).
type RunSetting struct {
	RateLimit        int64  `json:"rateLimit"` // bytes per second per target; 0 = unlimited
	IncludeMetadata  *bool  `json:"includeMetadata,omitempty"`
	ConflictStrategy string `json:"conflictStrategy,omitempty"`
	ErrorStrategy    string `json:"errorStrategy,omitempty"`
}

// Metadata reports whether the run copies metadata (the default).
func (s RunSetting) Metadata() bool { return s.IncludeMetadata == nil || *s.IncludeMetadata }

// Run is a replication run as the agent reports it. StartedAt and
// FinishedAt are zero until the run starts or ends.
type Run struct {
	ID                string      `json:"id"`
	TaskKey           string      `json:"taskKey"`
	Trigger           string      `json:"trigger"`
	Spec              RunSpec     `json:"spec"`
	State             string      `json:"state"`
	ExecutorClusterID string      `json:"executorClusterId"`
	CreatedBy         string      `json:"createdBy"`
	CreatedAt         time.Time   `json:"createdAt,omitzero"`
	StartedAt         time.Time   `json:"startedAt,omitzero"`
	FinishedAt        time.Time   `json:"finishedAt,omitzero"`
	CancelRequested   bool        `json:"cancelRequested"`
	Error             string      `json:"error"`
	Targets           []RunTarget `json:"targets"`
}

// Finished reports whether the run reached SUCCESS, FAILED or CANCELED.
func (r Run) Finished() bool {
	switch r.State {
	case RunSuccess, RunFailed, RunCanceled:
		return true
	}
	return false
}

// RunTarget is a run's progress towards one remote cluster.
//
// ObjectsDone/BytesDone count what arrived (sent, or linked from content the
// target already held); ObjectsSkipped/BytesSkipped what was already
// identical there or a conflict skipped by SKIP. BytesSent is what went over
// the wire; Conflicts the paths that held different content. BytesPerSecond
// is the current sending rate.
type RunTarget struct {
	ClusterID      string `json:"clusterId"`
	State          string `json:"state"`
	ObjectsTotal   int64  `json:"objectsTotal"`
	ObjectsDone    int64  `json:"objectsDone"`
	ObjectsSkipped int64  `json:"objectsSkipped"`
	ObjectsFailed  int64  `json:"objectsFailed"`
	Conflicts      int64  `json:"conflicts"`
	BytesTotal     int64  `json:"bytesTotal"`
	BytesDone      int64  `json:"bytesDone"`
	BytesSkipped   int64  `json:"bytesSkipped"`
	BytesFailed    int64  `json:"bytesFailed"`
	BytesSent      int64  `json:"bytesSent"`
	BytesPerSecond int64  `json:"bytesPerSecond"`
	Error          string `json:"error"`
}

// RunObject is what happened to one object of a run at one target. Status
// is SUCCESS, SKIPPED or FAILED; Action sent, linked, identical, metadata,
// conflict or error.
type RunObject struct {
	Target     string    `json:"target"`
	Path       string    `json:"path"`
	PackageKey string    `json:"packageKey"`
	Version    string    `json:"version"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Status     string    `json:"status"`
	Action     string    `json:"action"`
	Error      string    `json:"error"`
	Time       time.Time `json:"time,omitzero"`
}

// RunPage is one page of runs, newest first. Page numbers start at 1.
type RunPage struct {
	PageNumber   int   `json:"pageNumber"`
	PageSize     int   `json:"pageSize"`
	TotalRecords int64 `json:"totalRecords"`
	TotalPages   int64 `json:"totalPages"`
	Records      []Run `json:"records"`
}

// ObjectPage is one page of a run's objects.
type ObjectPage struct {
	PageNumber   int         `json:"pageNumber"`
	PageSize     int         `json:"pageSize"`
	TotalRecords int64       `json:"totalRecords"`
	TotalPages   int64       `json:"totalPages"`
	Records      []RunObject `json:"records"`
}

// RunQuery filters Runs. Zero fields are left to the agent.
type RunQuery struct {
	State      string
	TaskKey    string
	PageNumber int
	PageSize   int
}

// ObjectQuery filters RunObjects. Zero fields are left to the agent.
type ObjectQuery struct {
	Status     string
	Target     string
	PageNumber int
	PageSize   int
}

// runPath is /v1/runs/{id}.
func runPath(id string) (string, error) {
	if id == "" || id == "." || id == ".." || strings.Contains(id, "/") {
		return "", fmt.Errorf("invalid run id %q", id)
	}
	return "/v1/runs/" + url.PathEscape(id), nil
}

// setPage adds pageNumber and pageSize to q when they are set.
func setPage(q url.Values, number, size int) {
	if number > 0 {
		q.Set("pageNumber", strconv.Itoa(number))
	}
	if size > 0 {
		q.Set("pageSize", strconv.Itoa(size))
	}
}

// withQuery is path, with "?" and q when q holds anything.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// StartRun starts a run through POST /v1/runs and returns it as accepted.
func (c *Client) StartRun(ctx context.Context, spec RunSpec) (Run, error) {
	var out Run
	_, err := c.do(ctx, http.MethodPost, "/v1/runs", spec, &out)
	return out, err
}

// Runs returns one page of runs, newest first, through GET /v1/runs.
func (c *Client) Runs(ctx context.Context, q RunQuery) (RunPage, error) {
	v := url.Values{}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.TaskKey != "" {
		v.Set("taskKey", q.TaskKey)
	}
	setPage(v, q.PageNumber, q.PageSize)
	var out RunPage
	_, err := c.do(ctx, http.MethodGet, withQuery("/v1/runs", v), nil, &out)
	return out, err
}

// Run returns a run through GET /v1/runs/{id}.
func (c *Client) Run(ctx context.Context, id string) (Run, error) {
	p, err := runPath(id)
	if err != nil {
		return Run{}, err
	}
	var out Run
	_, err = c.do(ctx, http.MethodGet, p, nil, &out)
	return out, err
}

// RunObjects returns one page of a run's objects through
// GET /v1/runs/{id}/objects; the executor serves it through any agent.
func (c *Client) RunObjects(ctx context.Context, id string, q ObjectQuery) (ObjectPage, error) {
	p, err := runPath(id)
	if err != nil {
		return ObjectPage{}, err
	}
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Target != "" {
		v.Set("target", q.Target)
	}
	setPage(v, q.PageNumber, q.PageSize)
	var out ObjectPage
	_, err = c.do(ctx, http.MethodGet, withQuery(p+"/objects", v), nil, &out)
	return out, err
}

// CancelRun asks for a run to stop through POST /v1/runs/{id}/cancel and
// returns the run. A run that already ended answers an *Error with Status 409.
func (c *Client) CancelRun(ctx context.Context, id string) (Run, error) {
	p, err := runPath(id)
	if err != nil {
		return Run{}, err
	}
	var out Run
	_, err = c.do(ctx, http.MethodPost, p+"/cancel", nil, &out)
	return out, err
}

const (
	// watchBackoffMin and watchBackoffMax bound the pause before WatchRun
	// reconnects; it doubles from the first to the second while connections
	// deliver nothing.
	watchBackoffMin = 250 * time.Millisecond
	watchBackoffMax = 5 * time.Second
	// maxSSELine bounds one line of an event stream (a run as JSON).
	maxSSELine = 16 << 20
)

var (
	// watchIdleTimeout drops a connection that delivered nothing, not even
	// the agent's 15 s ping, for this long: it is dead without being closed.
	watchIdleTimeout = 45 * time.Second
	// watchNotFoundGrace is how long a 404 is retried before any event came:
	// the agent answering may not have applied a run that was just started.
	watchNotFoundGrace = 5 * time.Second
)

// WatchRun follows a run through the Server-Sent Events of
// GET /v1/runs/{id}/events, calling fn with the run each time it changes
// (the first time at once), until the agent sends the final run: WatchRun
// then returns it after calling fn with it too.
//
// The stream uses no overall timeout; it ends with ctx. When it breaks
// before the end, WatchRun reconnects, pausing 250 ms doubling to 5 s while
// connections deliver nothing, until ctx ends. Answers other than 5xx, 408,
// 429 and (briefly, before any event) 404 end it with an *Error. An error
// from fn ends it at once and is returned as is. With any error the run
// returned is the last one seen, if any.
func (c *Client) WatchRun(ctx context.Context, id string, fn func(Run) error) (Run, error) {
	p, err := runPath(id)
	if err != nil {
		return Run{}, err
	}
	w := &runWatch{c: c, path: p + "/events", fn: fn}
	start := time.Now()
	backoff := watchBackoffMin
	for {
		ended, events, err := w.stream(ctx)
		if ended {
			return w.last, nil
		}
		var stop *stopError
		if errors.As(err, &stop) {
			return w.last, stop.err
		}
		if ctx.Err() != nil {
			return w.last, fmt.Errorf("watch run %s: %w", id, ctx.Err())
		}
		if w.seen && w.last.Finished() {
			// The end event was lost with the connection; the run is over.
			return w.last, nil
		}
		var e *Error
		if errors.As(err, &e) && !retryStatus(e.Status, w.seen, time.Since(start)) {
			return w.last, err
		}
		if events > 0 {
			backoff = watchBackoffMin
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return w.last, fmt.Errorf("watch run %s: %w (last error: %v)", id, ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(backoff*2, watchBackoffMax)
	}
}

// retryStatus reports whether WatchRun retries an answer with this status.
func retryStatus(status int, seen bool, since time.Duration) bool {
	switch {
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusNotFound:
		return !seen && since < watchNotFoundGrace
	}
	return false
}

// stopError ends WatchRun with err, without retrying.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// errEndEvent stops reading a stream at its end event.
var errEndEvent = errors.New("end event")

// runWatch is the state of one WatchRun across its connections.
type runWatch struct {
	c           *Client
	path        string
	fn          func(Run) error
	last        Run
	seen        bool   // a run arrived on some connection
	lastEventID string // sent back as Last-Event-ID on reconnection
}

// stream reads one connection to the event stream. It reports whether the
// end event arrived, how many runs arrived, and what ended the connection
// otherwise (a *stopError when WatchRun must not retry).
func (w *runWatch) stream(ctx context.Context) (ended bool, events int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var idled atomic.Bool
	idle := time.AfterFunc(watchIdleTimeout, func() { idled.Store(true); cancel() })
	defer idle.Stop()

	req, err := w.c.newRequest(ctx, http.MethodGet, w.c.base+w.path, nil)
	if err != nil {
		return false, 0, &stopError{err}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Accept-Encoding", "identity") // gzip would hold events back
	if w.lastEventID != "" {
		req.Header.Set("Last-Event-ID", w.lastEventID)
	}
	resp, err := w.c.streamHTTP().Do(req)
	if err != nil {
		if idled.Load() {
			return false, 0, fmt.Errorf("GET %s: no answer in %s", w.path, watchIdleTimeout)
		}
		return false, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return false, 0, responseError(resp)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, 0, &stopError{fmt.Errorf("GET %s: Content-Type %q, want text/event-stream", w.path, resp.Header.Get("Content-Type"))}
	}
	body := &idleReader{r: resp.Body, t: idle, d: watchIdleTimeout}
	err = readSSE(body, maxSSELine, func(ev sseEvent) error {
		w.lastEventID = ev.ID
		if ev.Type != "run" && ev.Type != "end" {
			return nil
		}
		var r Run
		if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
			return &stopError{fmt.Errorf("GET %s: decode %s event: %w", w.path, ev.Type, err)}
		}
		events++
		w.last, w.seen = r, true
		if err := w.fn(r); err != nil {
			return &stopError{err}
		}
		if ev.Type == "end" {
			return errEndEvent
		}
		return nil
	})
	switch {
	case errors.Is(err, errEndEvent):
		return true, events, nil
	case errors.Is(err, bufio.ErrTooLong):
		return false, events, &stopError{fmt.Errorf("GET %s: a line longer than %d bytes", w.path, maxSSELine)}
	case err == nil:
		return false, events, fmt.Errorf("GET %s: stream closed before the run ended", w.path)
	case idled.Load():
		return false, events, fmt.Errorf("GET %s: nothing received for %s", w.path, watchIdleTimeout)
	}
	return false, events, err
}

// idleReader pushes a timer back by d each time it reads something.
type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.t.Reset(r.d)
	}
	return n, err
}

// sseEvent is one event of a text/event-stream.
type sseEvent struct {
	Type string // "message" when the stream named none
	Data string // the event's data lines, joined by "\n"
	ID   string // the last event ID the stream set, this event's or earlier
}

// sseParser turns the lines of a text/event-stream into events, following
// the "event stream interpretation" of the HTML standard. The zero value is
// ready to use.
type sseParser struct {
	typ  string
	data []byte
	id   string
}

// line interprets one line, without its end of line. A blank line dispatches
// the event the lines before it built, if they held any data.
func (p *sseParser) line(l string) (sseEvent, bool) {
	if l == "" {
		if len(p.data) == 0 {
			p.typ = ""
			return sseEvent{}, false
		}
		ev := sseEvent{Type: p.typ, Data: string(p.data[:len(p.data)-1]), ID: p.id}
		if ev.Type == "" {
			ev.Type = "message"
		}
		p.typ, p.data = "", p.data[:0]
		return ev, true
	}
	if l[0] == ':' {
		return sseEvent{}, false // a comment, such as ": ping"
	}
	field, value, found := strings.Cut(l, ":")
	if found {
		value = strings.TrimPrefix(value, " ")
	}
	switch field {
	case "event":
		p.typ = value
	case "data":
		p.data = append(append(p.data, value...), '\n')
	case "id":
		if !strings.Contains(value, "\x00") {
			p.id = value
		}
	}
	// "retry" and unknown fields are ignored: WatchRun has its own backoff.
	return sseEvent{}, false
}

// scanSSELines is a bufio.SplitFunc for the lines of an event stream, which
// end with "\r\n", "\n" or "\r". An unterminated last line is dropped: the
// stream broke in the middle of it.
func scanSSELines(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data, "\r\n")
	if i < 0 {
		return 0, nil, nil
	}
	if data[i] == '\r' {
		if i+1 == len(data) && !atEOF {
			return 0, nil, nil // "\r\n" may be split between two reads
		}
		if i+1 < len(data) && data[i+1] == '\n' {
			return i + 2, data[:i], nil
		}
	}
	return i + 1, data[:i], nil
}

// readSSE reads an event stream from r, calling fn with each event, until r
// ends (nil), fails, or fn returns an error (which readSSE returns). A line
// longer than maxLine bytes fails with bufio.ErrTooLong. An event the stream
// did not finish with a blank line is not dispatched.
func readSSE(r io.Reader, maxLine int, fn func(sseEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine)), maxLine)
	sc.Split(scanSSELines)
	var p sseParser
	first := true
	for sc.Scan() {
		l := sc.Text()
		if first {
			l = strings.TrimPrefix(l, "\uFEFF")
			first = false
		}
		if ev, ok := p.line(l); ok {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}
