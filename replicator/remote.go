package replicator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// remote is the sending side's view of one target agent.
type remote struct {
	cluster string
	addr    func() (string, bool) // the target's API address, looked up per call
	token   string
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

// statusErr is an answer the target gave, not worth retrying.
type statusErr struct {
	code int
	msg  string
}

func (e *statusErr) Error() string { return fmt.Sprintf("%d: %s", e.code, e.msg) }

// call sends one request, retrying transport failures and 5xx/429 with
// backoff. body builds a fresh body per attempt (nil for none).
func (r *remote) call(ctx context.Context, method, path string, query url.Values, body func() (io.Reader, error), out any) error {
	backoff := r.retry.first
	var last error
	for attempt := 1; ; attempt++ {
		err := r.once(ctx, method, path, query, body, out)
		if err == nil {
			return nil
		}
		var se *statusErr
		if errors.As(err, &se) && se.code < 500 && se.code != http.StatusTooManyRequests {
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

func (r *remote) once(ctx context.Context, method, path string, query url.Values, body func() (io.Reader, error), out any) error {
	addr, ok := r.addr()
	if !ok {
		return fmt.Errorf("no API address is known for cluster %q", r.cluster)
	}
	var rd io.Reader
	if body != nil {
		var err error
		if rd, err = body(); err != nil {
			return err
		}
	}
	u := "http://" + addr + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if r.token != "" {
		req.Header.Set("X-Auth-Token", r.token)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = string(bytes.TrimSpace(b))
		}
		if resp.StatusCode == http.StatusConflict && out != nil {
			_ = json.Unmarshal(b, out) // an upload's 409 carries the current offset
		}
		return &statusErr{resp.StatusCode, e.Error}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func jsonBody(v any) func() (io.Reader, error) {
	return func() (io.Reader, error) {
		b, err := json.Marshal(v)
		return bytes.NewReader(b), err
	}
}

// jsonCallTimeout bounds a protocol call without a content body, so that a
// stalled target fails (and is retried) rather than holding the run.
const jsonCallTimeout = 2 * time.Minute

func (r *remote) plan(ctx context.Context, req PlanRequest) (PlanResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, jsonCallTimeout)
	defer cancel()
	var out PlanResponse
	err := r.call(ctx, http.MethodPost, "/v1/replica/plan", nil, jsonBody(req), &out)
	if err == nil && len(out.Results) != len(req.Objects) {
		err = fmt.Errorf("plan: %d answers for %d objects", len(out.Results), len(req.Objects))
	}
	return out, err
}

func (r *remote) items(ctx context.Context, path string, req any, n int) (ItemsResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, jsonCallTimeout)
	defer cancel()
	var out ItemsResponse
	err := r.call(ctx, http.MethodPost, path, nil, jsonBody(req), &out)
	if err == nil && len(out.Results) != n {
		err = fmt.Errorf("%s: %d answers for %d items", path, len(out.Results), n)
	}
	return out, err
}

func (r *remote) batch(ctx context.Context, project, repo, by string, n int, body func() (io.Reader, error)) (ItemsResponse, error) {
	var out ItemsResponse
	q := url.Values{"project": {project}, "repo": {repo}, "by": {by}}
	err := r.call(ctx, http.MethodPost, "/v1/replica/batch", q, body, &out)
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
	err := r.call(ctx, http.MethodGet, "/v1/replica/uploads/"+sum, q, nil, &out)
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
	err := r.once(ctx, http.MethodPatch, "/v1/replica/uploads/"+sum, q, func() (io.Reader, error) { return body, nil }, &out)
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
	err := r.once(ctx, http.MethodGet, "/v1/replica/head", q, nil, &out)
	return out, err
}
