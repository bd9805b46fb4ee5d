package replicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ferrysync/ferry/internal/peer"
)

// remote is the sending side's view of one target agent.
type remote struct {
	cluster string
	source  string                // this agent's cluster, named to the target (?source=)
	addr    func() (string, bool) // the target's API address, looked up per call
	token   string
	scheme  string // of the target's API; "http" when empty
	http    *http.Client
	retry   retryPolicy
}

// retryPolicy is capped exponential backoff for one protocol call.
type retryPolicy struct {
	attempts int
	first    time.Duration
	max      time.Duration
}

var defaultRetry = retryPolicy{attempts: 6, first: 200 * time.Millisecond, max: 5 * time.Second}

// unreachableError marks a target that did not answer after every retry.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return "target unreachable: " + e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// call sends one request, retrying transport failures and 5xx/429 answers
// with backoff (any other answer is the target's refusal and final). body
// builds a fresh body per attempt (nil for none).
func (r *remote) call(ctx context.Context, req peer.Request, body func() (io.Reader, error), out any) error {
	backoff := r.retry.first
	var last error
	for attempt := 1; ; attempt++ {
		err := r.once(ctx, req, body, out)
		if err == nil {
			return nil
		}
		var se *peer.StatusError
		if errors.As(err, &se) && !se.Temporary() {
			return err
		}
		last = err
		if attempt >= r.retry.attempts || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, r.retry.max)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &unreachableError{last}
}

// once sends req to the target's current address. An upload's 409 carries
// where the upload stands: it is decoded into out as well as returned.
func (r *remote) once(ctx context.Context, req peer.Request, body func() (io.Reader, error), out any) error {
	addr, ok := r.addr()
	if !ok {
		return fmt.Errorf("no API address is known for cluster %q", r.cluster)
	}
	req.Addr, req.Cluster = addr, r.cluster
	if r.source != "" {
		req.Query = maps.Clone(req.Query)
		if req.Query == nil {
			req.Query = url.Values{}
		}
		req.Query.Set("source", r.source)
	}
	if body != nil {
		var err error
		if req.Body, err = body(); err != nil {
			return err
		}
	}
	c := peer.Client{HTTP: r.http, Token: r.token, Scheme: r.scheme}
	err := c.Do(ctx, req, out)
	if err != nil && out != nil {
		if se := (*peer.StatusError)(nil); errors.As(err, &se) && se.Code == http.StatusConflict {
			_ = json.Unmarshal(se.Body, out)
		}
	}
	return err
}

// storageFull is whether the target answered 507: its disk is full, so
// neither a retry nor the next object fares better; the target's run fails
// at once with that reason.
func storageFull(err error) bool {
	var se *peer.StatusError
	return errors.As(err, &se) && se.Code == http.StatusInsufficientStorage
}

func jsonBody(v any) func() (io.Reader, error) {
	return func() (io.Reader, error) { return peer.JSON(v) }
}

// octetStream is the content type of a batch's frames and an upload's bytes.
const octetStream = "application/octet-stream"

// jsonCallTimeout bounds a protocol call without a content body, so that a
// stalled target fails (and is retried) rather than holding the run.
const jsonCallTimeout = 2 * time.Minute

func (r *remote) plan(ctx context.Context, req PlanRequest) (PlanResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, jsonCallTimeout)
	defer cancel()
	var out PlanResponse
	err := r.call(ctx, peer.Request{Method: http.MethodPost, Path: "/v1/replica/plan"}, jsonBody(req), &out)
	if err == nil && len(out.Results) != len(req.Objects) {
		err = fmt.Errorf("plan: %d answers for %d objects", len(out.Results), len(req.Objects))
	}
	return out, err
}

func (r *remote) items(ctx context.Context, path string, req any, n int) (ItemsResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, jsonCallTimeout)
	defer cancel()
	var out ItemsResponse
	err := r.call(ctx, peer.Request{Method: http.MethodPost, Path: path}, jsonBody(req), &out)
	if err == nil && len(out.Results) != n {
		err = fmt.Errorf("%s: %d answers for %d items", path, len(out.Results), n)
	}
	return out, err
}

func (r *remote) batch(ctx context.Context, project, repo, by string, n int, body func() (io.Reader, error)) (ItemsResponse, error) {
	var out ItemsResponse
	q := url.Values{"project": {project}, "repo": {repo}, "by": {by}}
	err := r.call(ctx, peer.Request{Method: http.MethodPost, Path: "/v1/replica/batch", Query: q, ContentType: octetStream}, body, &out)
	if err == nil && len(out.Results) != n {
		err = fmt.Errorf("batch: %d answers for %d files", len(out.Results), n)
	}
	return out, err
}

func (r *remote) uploadStatus(ctx context.Context, sum string, size int64) (UploadStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, jsonCallTimeout)
	defer cancel()
	var out UploadStatus
	q := url.Values{"size": {strconv.FormatInt(size, 10)}}
	err := r.call(ctx, peer.Request{Method: http.MethodGet, Path: "/v1/replica/uploads/" + sum, Query: q}, nil, &out)
	return out, err
}

// appendOnce sends bytes from offset in one request, without retries: the
// caller asks for the status and resumes from the offset the target has.
func (r *remote) appendOnce(ctx context.Context, sum, md5 string, size, offset int64, body io.Reader) (UploadStatus, error) {
	var out UploadStatus
	q := url.Values{"size": {strconv.FormatInt(size, 10)}, "offset": {strconv.FormatInt(offset, 10)}}
	if md5 != "" {
		q.Set("md5", md5)
	}
	err := r.once(ctx, peer.Request{Method: http.MethodPatch, Path: "/v1/replica/uploads/" + sum, Query: q, Body: body, ContentType: octetStream}, nil, &out)
	return out, err
}

// head asks where a target repository's change log stands, once: it only
// decides whether a run may skip planning, and planning has its own retries.
func (r *remote) head(ctx context.Context, project, repo string, since uint64, by string) (RepoHead, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out RepoHead
	q := url.Values{"project": {project}, "repo": {repo}}
	if by != "" {
		q.Set("since", strconv.FormatUint(since, 10))
		q.Set("by", by)
	}
	err := r.once(ctx, peer.Request{Method: http.MethodGet, Path: "/v1/replica/head", Query: q}, nil, &out)
	return out, err
}
