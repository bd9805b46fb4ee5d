package api

import (
	"context"
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// What the HTTP layer needs from the agent, one small interface per route
// group (as rqlite's http/service.go has them). Config names which value
// serves each; the agent serves all of them.

// Auth checks the tokens requests carry.
type Auth interface {
	// Authenticate returns who holds the token whose secret is given; the
	// Caller it returns has no Secret, the middleware adds it.
	Authenticate(secret string) (Caller, bool)
	// AuthDisabled is true when the agent runs with --no-auth.
	AuthDisabled() bool
}

// AccessKeyAuth is the part of Auth that knows access keys, for requests
// signed with SDK-HMAC-SHA256. It is separate so that an Auth without it
// still serves: its signed requests are refused.
type AccessKeyAuth interface {
	// AuthenticateAccessKey returns who holds the access key ak and its
	// secret, which the signature is checked with.
	AuthenticateAccessKey(ak string) (c Caller, secret string, ok bool)
}

// Status is the cluster as this agent sees it, and where to reach the others.
type Status interface {
	Leader() (cluster.Leader, bool)
	IsLeader() bool
	// ReadyForConsistentReads is nil when this leader may answer a
	// consistent read: it has caught up and a quorum confirms it leads.
	ReadyForConsistentReads() error
	Peers() ([]cluster.Peer, error)
	Members() []cluster.MemberView
	Clusters() []fsm.ClusterRecord
	Self() any
	ReadState() ReadState
	// ClusterID is this agent's cluster.
	ClusterID() string
	// ClusterAPIAddr is the API address of a registered cluster's agent.
	ClusterAPIAddr(id string) (string, bool)
	// ProbeCluster asks a registered cluster's agent whether it is up
	// (GET /v1/health), within a few seconds.
	ProbeCluster(ctx context.Context, id string) error
}

// Writes take the request's context, which carries its Caller (CallerOf): a
// follower forwards them to the leader with the caller's token, and audit
// fields name the caller.

// Tokens manages the API tokens.
type Tokens interface {
	CreateToken(ctx context.Context, req CreateTokenRequest) (fsm.Token, string, error)
	ListTokens() []fsm.Token
	DeleteToken(ctx context.Context, accessorID string) error
}

// AccessKeys manages the access keys (AK/SK) signed requests use.
type AccessKeys interface {
	// CreateAccessKey returns the key with its secret, the only time the
	// API shows it.
	CreateAccessKey(ctx context.Context, req CreateAccessKeyRequest) (fsm.AccessKey, error)
	ListAccessKeys() []fsm.AccessKey
	DeleteAccessKey(ctx context.Context, accessKey string) error
}

// Forwarder is the leader's side of a write a follower forwarded.
type Forwarder interface {
	// ApplyForwarded applies a command a follower forwarded; only on the leader.
	ApplyForwarded(ctx context.Context, cmd fsm.Command) (fsm.Result, error)
}

// Runs starts, cancels and shows replication runs.
type Runs interface {
	// StartRun fills in the defaults (source: this cluster; remote names:
	// the local ones) and proposes the run.
	StartRun(ctx context.Context, spec fsm.ReplicaSpec) (fsm.Run, error)
	CancelRun(ctx context.Context, id string) (fsm.Run, error)
	Runs(filter fsm.RunFilter) []fsm.Run
	Run(id string) (fsm.Run, bool)
	// RunObjects pages the detail of a run, from the agent that executed
	// it (which keeps it).
	RunObjects(ctx context.Context, runID string, f fsm.ObjectFilter, page store.PageRequest) (store.Page[fsm.ObjectRecord], error)
	// StateChanged is closed when the next log entry is applied here.
	StateChanged() <-chan struct{}
}

// Tasks manages replication tasks.
type Tasks interface {
	CreateTask(ctx context.Context, req TaskRequest) (TaskView, error)
	UpdateTask(ctx context.Context, key string, req TaskRequest, opts UpdateOptions) (TaskView, error)
	CopyTask(ctx context.Context, key, name, description string) (TaskView, error)
	DeleteTask(ctx context.Context, key string) error
	// ToggleTask sets enabled, or flips it when enabled is nil.
	ToggleTask(ctx context.Context, key string, enabled *bool) (TaskView, error)
	ExecuteTask(ctx context.Context, key string) (fsm.Run, error)
	Task(key string) (TaskView, bool)
	ListTasks(filter TaskFilter) []TaskView
	// Location is the zone task schedules are read in, and dialects show
	// times in.
	Location() *time.Location
}

// ReadState describes how fresh this agent's local state is.
type ReadState struct {
	Index       uint64
	KnownLeader bool
	LastContact time.Duration
	ServedBy    string // the cluster id of the agent that served the read
}

// CreateTokenRequest is the body of POST /v1/acl/tokens.
type CreateTokenRequest struct {
	Description string     `json:"description"`
	Policy      fsm.Policy `json:"policy"`
	CredentialLimits
}

// CredentialLimits are what a create request may narrow a credential to:
// Projects (none: all) and ExpirationTTL, a Go duration as Consul takes it
// ("24h"; none: never expires).
type CredentialLimits struct {
	Projects      []string `json:"projects,omitempty"`
	ExpirationTTL string   `json:"expirationTTL,omitempty"`
}

// CredentialView is how a credential's limits are shown.
type CredentialView struct {
	Projects       []string  `json:"projects,omitempty"`
	ExpirationTTL  string    `json:"expirationTTL,omitempty"`
	ExpirationTime time.Time `json:"expirationTime,omitzero"`
}

func viewLimits(l fsm.Limits) CredentialView {
	v := CredentialView{Projects: l.Projects, ExpirationTime: l.ExpirationTime}
	if l.ExpirationTTL > 0 {
		v.ExpirationTTL = l.ExpirationTTL.String()
	}
	return v
}

// TokenResponse is a token as the API shows it. Secret is set only in the
// answer to the request that created it.
type TokenResponse struct {
	AccessorID  string     `json:"accessorId"`
	Secret      string     `json:"secret,omitempty"`
	Description string     `json:"description"`
	Policy      fsm.Policy `json:"policy"`
	CreateTime  time.Time  `json:"createTime"`
	CredentialView
}

// CreateAccessKeyRequest is the body of POST /v1/acl/access-keys.
type CreateAccessKeyRequest struct {
	Description string     `json:"description"`
	Policy      fsm.Policy `json:"policy"`
	CredentialLimits
}

// AccessKeyResponse is an access key as the API shows it. SecretKey is set
// only in the answer to the request that created it.
type AccessKeyResponse struct {
	AccessKey   string     `json:"accessKey"`
	SecretKey   string     `json:"secretKey,omitempty"`
	Description string     `json:"description"`
	Policy      fsm.Policy `json:"policy"`
	CreatedAt   time.Time  `json:"createdAt"`
	CredentialView
}

// ForwardedResult is the answer of POST /v1/internal/apply.
type ForwardedResult struct {
	Index     uint64     `json:"index"`
	Duplicate bool       `json:"duplicate,omitempty"`
	Error     *fsm.Error `json:"error,omitempty"`
}
