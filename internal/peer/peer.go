package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/ferrysync/ferry/internal/tlsutil"
)

// HeaderAuthToken carries the caller's token; HeaderTraceID the request's
// trace id, so that one write is traceable across the agents it crosses.
const (
	HeaderAuthToken = "X-Auth-Token"
	HeaderTraceID   = "X-Trace-Id"
)

// MaxJSONBody bounds a JSON answer (and the error text kept from one).
const MaxJSONBody = 32 << 20

// ErrorBody is every agent's error answer.
type ErrorBody struct {
	Error string `json:"error"`
}

// StatusError is an answer outside 2xx: the status and the agent's message.
// Body is the raw answer (bounded), for calls whose refusals carry data.
type StatusError struct {
	Code    int
	Message string
	Body    []byte
}

// Error reads as the replication protocol has always worded a refusal in
// run and object errors: "404: repository demo/files: not found".
func (e *StatusError) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// StatusCode is the status the peer answered with.
func (e *StatusError) StatusCode() int { return e.Code }

// Temporary reports whether the same call may succeed later: a server-side
// failure or throttling, not a refusal of the request. 507 is not: a full
// disk stays full for a retry (a 200 MiB set sent 388 MB before failing).
func (e *StatusError) Temporary() bool {
	return (e.Code >= 500 && e.Code != http.StatusInsufficientStorage) || e.Code == http.StatusTooManyRequests
}

// ErrorMessage is the message of an error answer: its "error" field, or the
// body's text when it is not Ferry's shape.
func ErrorMessage(body []byte) string {
	var e ErrorBody
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return string(bytes.TrimSpace(body))
}

// Client calls other agents' APIs.
type Client struct {
	HTTP  *http.Client
	Token string // sent when a Request names none
	// Scheme is "https" when the agents run with TLS; "http" when empty.
	Scheme string
}

// Request is one call to an agent.
type Request struct {
	Method string
	Addr   string // host:port of the agent's API
	// Cluster is whose agent Addr is, when the caller knows: with TLS the
	// answer must come from that agent's certificate.
	Cluster string
	Path    string
	Query   url.Values
	Body    io.Reader
	// ContentType of Body; application/json when empty and Body is set.
	ContentType string
	// Token overrides the client's (a forwarded write carries its caller's).
	Token   string
	TraceID string
	// Sign, when set, authenticates the request last, once every header
	// is set (a forwarded write of a caller that signed its own).
	Sign func(*http.Request) error
}

// Do sends req. A 2xx answer is decoded into out when out is not nil; any
// other answer is a *StatusError. Transport failures are returned as they are.
func (c *Client) Do(ctx context.Context, req Request, out any) error {
	resp, err := c.Send(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxJSONBody))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Code: resp.StatusCode, Message: ErrorMessage(body), Body: body}
	}
	if out == nil || len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: unreadable answer: %w", req.Method, req.Path, err)
	}
	return nil
}

// Send sends req and returns the response unread, for callers that stream
// it; the caller closes its body.
func (c *Client) Send(ctx context.Context, req Request) (*http.Response, error) {
	scheme := c.Scheme
	if scheme == "" {
		scheme = "http"
	}
	u := scheme + "://" + req.Addr + req.Path
	if len(req.Query) > 0 {
		u += "?" + req.Query.Encode()
	}
	if req.Cluster != "" {
		ctx = tlsutil.ExpectAgent(ctx, req.Cluster)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u, req.Body)
	if err != nil {
		return nil, err
	}
	if req.Body != nil {
		ct := req.ContentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if tok := req.Token; tok != "" {
		hr.Header.Set(HeaderAuthToken, tok)
	} else if c.Token != "" {
		hr.Header.Set(HeaderAuthToken, c.Token)
	}
	if req.TraceID != "" {
		hr.Header.Set(HeaderTraceID, req.TraceID)
	}
	if req.Sign != nil {
		if err := req.Sign(hr); err != nil {
			return nil, err
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hr)
	if err == nil && req.Cluster != "" && resp.TLS != nil && !tlsutil.PeerIs(resp.TLS, req.Cluster) {
		// A pooled connection verified for the agent that opened it: the
		// address now belongs to another.
		resp.Body.Close()
		return nil, fmt.Errorf("%s answered with a certificate that is not %s's agent", req.Addr, req.Cluster)
	}
	return resp, err
}

// JSON is v encoded as a request body.
func JSON(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}
