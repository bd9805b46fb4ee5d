package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

func (c *Client) do(ctx context.Context, method, path string, in, out any) (ReadMeta, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return ReadMeta{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return ReadMeta{}, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return ReadMeta{}, err
	}
	defer resp.Body.Close()
	meta := ReadMeta{TraceID: resp.Header.Get("X-Trace-Id")}
	meta.Index, _ = strconv.ParseUint(resp.Header.Get("X-Ferry-Index"), 10, 64)
	meta.KnownLeader, _ = strconv.ParseBool(resp.Header.Get("X-Ferry-Known-Leader"))
	if ms, err := strconv.ParseInt(resp.Header.Get("X-Ferry-Last-Contact"), 10, 64); err == nil {
		meta.LastContact = time.Duration(ms) * time.Millisecond
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return meta, err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return meta, &Error{Status: resp.StatusCode, Message: msg, TraceID: meta.TraceID}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return meta, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return meta, nil
}

// Member is one entry of GET /v1/members.
type Member struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	APIAddr     string            `json:"apiAddr"`
	RaftAddr    string            `json:"raftAddr"`
	GossipAddr  string            `json:"gossipAddr"`
	Version     string            `json:"version"`
	Labels      map[string]string `json:"labels"`
	Status      string            `json:"status"`
	StatusSince time.Time         `json:"statusSince"`
	Role        string            `json:"role"`
	Leader      bool              `json:"leader"`
}

// Leader is GET /v1/status/leader.
type Leader struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	APIAddr string `json:"apiAddr"`
}

// Peer is one entry of GET /v1/status/peers.
type Peer struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"`
}

// Self is the part of GET /v1/agent/self the CLI shows.
type Self struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Version    string    `json:"version"`
	APIAddr    string    `json:"apiAddr"`
	RaftAddr   string    `json:"raftAddr"`
	GossipAddr string    `json:"gossipAddr"`
	Leader     bool      `json:"leader"`
	StartedAt  time.Time `json:"startedAt"`
}

// Token is an API token; Secret is only set when it was just created.
type Token struct {
	AccessorID  string    `json:"accessorId"`
	Secret      string    `json:"secret,omitempty"`
	Description string    `json:"description"`
	Policy      string    `json:"policy"`
	CreateTime  time.Time `json:"createTime"`
}

// Members lists the members the agent's gossip knows.
func (c *Client) Members(ctx context.Context) ([]Member, ReadMeta, error) {
	var out []Member
	meta, err := c.do(ctx, http.MethodGet, "/v1/members", nil, &out)
	return out, meta, err
}

// Leader returns the leader the agent knows.
func (c *Client) Leader(ctx context.Context) (Leader, ReadMeta, error) {
	var out Leader
	meta, err := c.do(ctx, http.MethodGet, "/v1/status/leader", nil, &out)
	return out, meta, err
}

// Peers returns the Raft configuration.
func (c *Client) Peers(ctx context.Context) ([]Peer, ReadMeta, error) {
	var out []Peer
	meta, err := c.do(ctx, http.MethodGet, "/v1/status/peers", nil, &out)
	return out, meta, err
}

// Self describes the agent answering.
func (c *Client) Self(ctx context.Context) (Self, error) {
	var out Self
	_, err := c.do(ctx, http.MethodGet, "/v1/agent/self", nil, &out)
	return out, err
}

// CreateToken creates a token; the answer holds its secret, shown only once.
func (c *Client) CreateToken(ctx context.Context, description, policy string) (Token, error) {
	var out Token
	_, err := c.do(ctx, http.MethodPost, "/v1/acl/tokens", map[string]string{"description": description, "policy": policy}, &out)
	return out, err
}

// Tokens lists tokens (without secrets).
func (c *Client) Tokens(ctx context.Context) ([]Token, error) {
	var out []Token
	_, err := c.do(ctx, http.MethodGet, "/v1/acl/tokens", nil, &out)
	return out, err
}

// DeleteToken deletes a token by accessor id.
func (c *Client) DeleteToken(ctx context.Context, accessorID string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/acl/tokens/"+accessorID, nil, nil)
	return err
}

// WaitForLeader polls GET /v1/health?leader until a leader is known or ctx ends.
func (c *Client) WaitForLeader(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := c.do(ctx, http.MethodGet, "/v1/health?leader", nil, nil)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no leader at %s: %w (last: %v)", c.base, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
