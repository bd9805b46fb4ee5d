package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

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

// Leave makes the agent leave the group gracefully and stop
// (PUT /v1/agent/leave); it returns once the agent is out of the Raft
// configuration.
func (c *Client) Leave(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodPut, "/v1/agent/leave", nil, nil)
	return err
}
