package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// bulkTransport moves artifacts with 1 MiB socket buffers: net/http's 4 KiB
// default made the client the bottleneck of large downloads (~450 vs ~770
// MiB/s on loopback in BenchmarkHTTPLargeObject).
var bulkTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ReadBufferSize, t.WriteBufferSize = 1<<20, 1<<20
	return t
}()

// Client talks to one agent.
type Client struct {
	base  string
	token string
	http  *http.Client
	// err fails every call: a client that could not be set up as asked
	// (an unreadable CA) must not fall back to plain HTTP with the token.
	err error
}

// New returns a client for the agent at addr ("host:port" or a URL).
func New(addr, token string) *Client {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return &Client{base: strings.TrimRight(addr, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second, Transport: bulkTransport}}
}

// Error is a non-2xx answer.
type Error struct {
	Status  int
	Message string
	TraceID string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// ReadMeta is how fresh a read was, from the X-Ferry-* headers.
type ReadMeta struct {
	Index       uint64
	KnownLeader bool
	LastContact time.Duration
	TraceID     string
}

// maxErrorBody bounds how much of an error answer is read to build an *Error.
const maxErrorBody = 64 << 10

// do sends in (when not nil) as JSON and decodes a 2xx answer into out
// (when not nil); any other answer is an *Error.
func (c *Client) do(ctx context.Context, method, path string, in, out any) (ReadMeta, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return ReadMeta{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := c.newRequest(ctx, method, c.base+path, body)
	if err != nil {
		return ReadMeta{}, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return ReadMeta{}, err
	}
	defer resp.Body.Close()
	meta := readMeta(resp.Header)
	if err := checkStatus(resp); err != nil {
		return meta, err
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return meta, err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return meta, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return meta, nil
}

// readMeta reads the X-Ferry-* headers of an answer.
func readMeta(h http.Header) ReadMeta {
	meta := ReadMeta{TraceID: h.Get("X-Trace-Id")}
	meta.Index, _ = strconv.ParseUint(h.Get("X-Ferry-Index"), 10, 64)
	meta.KnownLeader, _ = strconv.ParseBool(h.Get("X-Ferry-Known-Leader"))
	if ms, err := strconv.ParseInt(h.Get("X-Ferry-Last-Contact"), 10, 64); err == nil {
		meta.LastContact = time.Duration(ms) * time.Millisecond
	}
	return meta
}

// checkStatus is nil for a 2xx answer. Otherwise it closes the answer's body
// and returns an *Error with the message of its {"error": ...} body, its
// text when it is not that JSON, or the status text when it is empty; at
// most maxErrorBody bytes of it are read.
func checkStatus(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := strings.TrimSpace(string(raw))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if msg == "" {
		msg = strings.ToLower(http.StatusText(resp.StatusCode))
	}
	return &Error{Status: resp.StatusCode, Message: msg, TraceID: resp.Header.Get("X-Trace-Id")}
}

func (c *Client) newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	if c.err != nil {
		return nil, c.err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	return req, nil
}

// streamHTTP is the http.Client for content transfers and event streams: the
// same Transport as c.http but no overall Timeout, which would cut off any
// transfer that takes longer than it. Transfers end with their context
// instead.
func (c *Client) streamHTTP() *http.Client {
	hc := *c.http
	hc.Timeout = 0
	return &hc
}

// escapeSegment URL-escapes a name that is one path segment: a project, a
// repository, a run id, a task key. "", "." and ".." and names holding "/"
// are refused, since servers and proxies would resolve them to another path.
func escapeSegment(what, name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return "", fmt.Errorf("invalid %s %q", what, name)
	}
	return url.PathEscape(name), nil
}

// query is the query string of the pairs key, value whose value is not "",
// with pageNumber and pageSize when they are set.
func query(number, size int, kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if number > 0 {
		q.Set("pageNumber", strconv.Itoa(number))
	}
	if size > 0 {
		q.Set("pageSize", strconv.Itoa(size))
	}
	return q
}

// route is a request path, or why it could not be built.
type route struct {
	path string
	err  error
}

// at is the route of a path builder's answer.
func at(path string, err error) route { return route{path, err} }

// sub is the route to suffix below r.
func (r route) sub(suffix string) route {
	r.path += suffix
	return r
}

// with is r with "?" and q when q holds anything.
func (r route) with(q url.Values) route {
	if len(q) > 0 {
		r.path += "?" + q.Encode()
	}
	return r
}

// call sends in (when not nil) as JSON to r and decodes the answer into a T.
func call[T any](ctx context.Context, c *Client, method string, r route, in any) (T, error) {
	var out T
	if r.err != nil {
		return out, r.err
	}
	_, err := c.do(ctx, method, r.path, in, &out)
	return out, err
}
