package agent

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/config"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
)

// The agent is every service the API calls.
var (
	_ api.Auth          = (*Agent)(nil)
	_ api.Status        = (*Agent)(nil)
	_ api.Tokens        = (*Agent)(nil)
	_ api.AccessKeys    = (*Agent)(nil)
	_ api.AccessKeyAuth = (*Agent)(nil)
	_ api.Forwarder     = (*Agent)(nil)
	_ api.Runs          = (*Agent)(nil)
	_ api.Tasks         = (*Agent)(nil)
)

// Authenticate implements api.Auth. The management token from the
// configuration is admin on this agent; every agent of a group is expected to
// share it, as Consul's servers share their initial management token.
func (a *Agent) Authenticate(secret string) (api.Caller, bool) {
	sum := sha256.Sum256([]byte(secret))
	if a.cfg.Token != "" && subtle.ConstantTimeCompare(sum[:], a.mgmtHash[:]) == 1 {
		return api.Caller{Name: "management", Policy: fsm.PolicyAdmin, Agent: true}, true
	}
	t, ok := a.fsm.TokenBySecret(secret)
	if !ok || t.Expired(time.Now()) {
		return api.Caller{}, false
	}
	return api.Caller{Name: "token:" + t.AccessorID, Policy: t.Policy, Projects: t.Projects}, true
}

// AuthenticateAccessKey implements api.AccessKeyAuth.
func (a *Agent) AuthenticateAccessKey(ak string) (api.Caller, string, bool) {
	k, ok := a.fsm.AccessKey(ak)
	if !ok || k.Expired(time.Now()) {
		return api.Caller{}, "", false
	}
	return api.Caller{Name: "ak:" + k.AccessKey, Policy: k.Policy, Projects: k.Projects}, k.Secret, true
}

// ClusterID implements api.Status.
func (a *Agent) ClusterID() string { return a.cfg.ClusterID }

// probeTimeout bounds ProbeCluster: a probe answers a person waiting.
const probeTimeout = 5 * time.Second

// ProbeCluster implements api.Status.
func (a *Agent) ProbeCluster(ctx context.Context, id string) error {
	addr, ok := a.ClusterAPIAddr(id)
	if !ok {
		return fmt.Errorf("cluster %q has no known API address", id)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return a.peers.Do(ctx, peer.Request{Method: http.MethodGet, Addr: addr, Cluster: id, Path: "/v1/health", TraceID: api.TraceID(ctx)}, nil)
}

// ClusterAPIAddr implements api.Status: from gossip, else the registry.
func (a *Agent) ClusterAPIAddr(id string) (string, bool) {
	if m, ok := a.node.Member(id); ok && m.APIAddr != "" {
		return m.APIAddr, true
	}
	rec, ok := a.fsm.Cluster(id)
	return rec.APIAddr, ok && rec.APIAddr != ""
}

// AuthDisabled implements api.Auth.
func (a *Agent) AuthDisabled() bool { return a.cfg.NoAuth }

// Leader implements api.Status.
func (a *Agent) Leader() (cluster.Leader, bool) {
	l, ok := a.node.Leader()
	if ok && l.APIAddr == "" {
		// Gossip may not know the leader yet (just restarted); the registry does.
		if rec, found := a.fsm.Cluster(l.ID); found {
			l.Name, l.APIAddr = rec.Name, rec.APIAddr
		}
	}
	return l, ok
}

// IsLeader implements api.Status.
func (a *Agent) IsLeader() bool { return a.node.IsLeader() }

// ReadyForConsistentReads implements api.Status. A new leader may not have
// applied everything its predecessor committed until its barrier returns, so
// it serves consistent reads only after that, and only while a quorum still
// confirms its leadership.
func (a *Agent) ReadyForConsistentReads() error {
	if !a.consistentReady.Load() {
		return &statusError{http.StatusServiceUnavailable, "this leader has not caught up with its predecessor yet; retry"}
	}
	if err := a.node.VerifyLeader(); err != nil {
		return &statusError{http.StatusServiceUnavailable, "leadership could not be confirmed: " + err.Error()}
	}
	return nil
}

// Peers implements api.Status.
func (a *Agent) Peers() ([]cluster.Peer, error) { return a.node.Peers() }

// Members implements api.Status.
func (a *Agent) Members() []cluster.MemberView { return a.node.Members() }

// Clusters implements api.Status.
func (a *Agent) Clusters() []fsm.ClusterRecord { return a.fsm.Clusters() }

// SelfInfo is GET /v1/agent/self.
type SelfInfo struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Version    string            `json:"version"`
	APIAddr    string            `json:"apiAddr"`
	RaftAddr   string            `json:"raftAddr"`
	GossipAddr string            `json:"gossipAddr"`
	Leader     bool              `json:"leader"`
	StartedAt  time.Time         `json:"startedAt"`
	Config     config.Config     `json:"config"`
	Raft       map[string]string `json:"raft"`
}

// Self implements api.Status.
func (a *Agent) Self() any {
	return SelfInfo{
		ID: a.cfg.ClusterID, Name: a.cfg.Name, Version: Version,
		APIAddr: a.httpAddr, RaftAddr: a.node.RaftAddr(), GossipAddr: a.node.GossipAddr(),
		Leader: a.node.IsLeader(), StartedAt: a.startedAt, Config: a.cfg.Redacted(), Raft: a.node.Stats(),
	}
}

// ReadState implements api.Status.
func (a *Agent) ReadState() api.ReadState {
	_, known := a.node.Leader()
	contact := a.node.LastContact()
	if contact.IsZero() {
		contact = a.startedAt
	}
	return api.ReadState{Index: a.fsm.AppliedIndex(), KnownLeader: known, LastContact: time.Since(contact), ServedBy: a.cfg.ClusterID}
}

// CreateToken implements api.Tokens. The secret is made here, on the agent
// that took the request, so a retried proposal carries the same secret hash.
func (a *Agent) CreateToken(ctx context.Context, req api.CreateTokenRequest) (fsm.Token, string, error) {
	secret := fsm.RandomHex(32)
	accessor := fsm.NewID()
	limits, err := credentialLimits(req.CredentialLimits)
	if err != nil {
		return fsm.Token{}, "", err
	}
	tok := fsm.Token{AccessorID: accessor, SecretHash: fsm.HashSecret(secret), Description: req.Description, Policy: req.Policy, Limits: limits}
	// Checked here too, so that a bad request costs no Raft entry.
	if err := fsm.ValidateToken(tok); err != nil {
		return fsm.Token{}, "", err
	}
	cmd, err := fsm.NewCommand(fsm.CmdCreateToken, tok)
	if err != nil {
		return fsm.Token{}, "", err
	}
	if err := a.propose(ctx, api.CallerOf(ctx).Secret, cmd); err != nil {
		return fsm.Token{}, "", err
	}
	tok, ok := a.fsm.Token(accessor)
	if !ok {
		return fsm.Token{}, "", fmt.Errorf("token %s was created but is already gone", accessor)
	}
	return tok, secret, nil
}

// ListTokens implements api.Tokens.
func (a *Agent) ListTokens() []fsm.Token { return a.fsm.Tokens() }

// DeleteToken implements api.Tokens.
// The leader decides whether the token exists: this agent's state may lag.
func (a *Agent) DeleteToken(ctx context.Context, accessorID string) error {
	cmd, err := fsm.NewCommand(fsm.CmdDeleteToken, fsm.DeleteToken{AccessorID: accessorID})
	if err != nil {
		return err
	}
	return a.propose(ctx, api.CallerOf(ctx).Secret, cmd)
}

// CreateAccessKey implements api.AccessKeys. The pair is made here, on the
// agent that took the request, so a retried proposal carries the same one.
func (a *Agent) CreateAccessKey(ctx context.Context, req api.CreateAccessKeyRequest) (fsm.AccessKey, error) {
	limits, err := credentialLimits(req.CredentialLimits)
	if err != nil {
		return fsm.AccessKey{}, err
	}
	k := fsm.AccessKey{AccessKey: fsm.NewAccessKeyID(), Secret: fsm.NewAccessKeySecret(), Description: req.Description, Policy: req.Policy, Limits: limits}
	// Checked here too, so that a bad request costs no Raft entry.
	if err := fsm.ValidateAccessKey(k); err != nil {
		return fsm.AccessKey{}, err
	}
	cmd, err := fsm.NewCommand(fsm.CmdCreateAccessKey, k)
	if err != nil {
		return fsm.AccessKey{}, err
	}
	if err := a.propose(ctx, api.CallerOf(ctx).Secret, cmd); err != nil {
		return fsm.AccessKey{}, err
	}
	got, ok := a.fsm.AccessKey(k.AccessKey)
	if !ok {
		return fsm.AccessKey{}, fmt.Errorf("access key %s was created but is already gone", k.AccessKey)
	}
	return got, nil
}

// ListAccessKeys implements api.AccessKeys.
func (a *Agent) ListAccessKeys() []fsm.AccessKey { return a.fsm.AccessKeys() }

// DeleteAccessKey implements api.AccessKeys.
// The leader decides whether the key exists: this agent's state may lag.
func (a *Agent) DeleteAccessKey(ctx context.Context, ak string) error {
	cmd, err := fsm.NewCommand(fsm.CmdDeleteAccessKey, fsm.DeleteAccessKey{AccessKey: ak})
	if err != nil {
		return err
	}
	return a.propose(ctx, api.CallerOf(ctx).Secret, cmd)
}
