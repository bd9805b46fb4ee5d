package api

import (
	"context"
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/replicator"
	"github.com/ferrysync/ferry/store"
)

// Service is what the HTTP layer needs from the agent.
type Service interface {
	// Authenticate returns who holds the token whose secret is given.
	Authenticate(secret string) (Identity, bool)
	// AuthDisabled is true when the agent runs with --no-auth.
	AuthDisabled() bool

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

	// Writes take the caller's secret so that a follower can forward them to
	// the leader on the caller's behalf.
	CreateToken(ctx context.Context, secret string, req CreateTokenRequest) (fsm.Token, string, error)
	ListTokens() []fsm.Token
	DeleteToken(ctx context.Context, secret, accessorID string) error
	// ApplyForwarded applies a command a follower forwarded; only on the leader.
	ApplyForwarded(ctx context.Context, cmd fsm.Command) (fsm.Result, error)

	// ClusterID is this agent's cluster; Store is its artifact store.
	ClusterID() string
	Store() store.Store
	// ClusterAPIAddr is the API address of a registered cluster's agent.
	ClusterAPIAddr(id string) (string, bool)

	// Runs. StartRun fills in the defaults (source: this cluster; remote
	// names: the local ones) and proposes the run; by names the caller.
	StartRun(ctx context.Context, secret, by string, spec fsm.ReplicaSpec) (fsm.Run, error)
	CancelRun(ctx context.Context, secret, id string) (fsm.Run, error)
	Runs(filter fsm.RunFilter) []fsm.Run
	Run(id string) (fsm.Run, bool)
	// RunObjects pages the detail of a run this agent executed.
	RunObjects(runID, status, target string, page store.PageRequest) (store.Page[fsm.ObjectRecord], error)
	// StateChanged is closed when the next log entry is applied here.
	StateChanged() <-chan struct{}
	// Receiver is the target side of the transfer protocol.
	Receiver() *replicator.Receiver

	// Tasks. The by argument names the caller for audit fields.
	CreateTask(ctx context.Context, secret, by string, req TaskRequest) (TaskView, error)
	UpdateTask(ctx context.Context, secret, by, key string, req TaskRequest) (TaskView, error)
	CopyTask(ctx context.Context, secret, by, key, name, description string) (TaskView, error)
	DeleteTask(ctx context.Context, secret, key string) error
	// ToggleTask sets enabled, or flips it when enabled is nil.
	ToggleTask(ctx context.Context, secret, by, key string, enabled *bool) (TaskView, error)
	ExecuteTask(ctx context.Context, secret, by, key string) (fsm.Run, error)
	Task(key string) (TaskView, bool)
	ListTasks(filter TaskFilter) []TaskView
	// Location is the zone dialects show times in.
	Location() *time.Location
}

// Identity is an authenticated caller: a name for audit fields and a policy.
type Identity struct {
	Name   string
	Policy fsm.Policy
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
}

// TokenResponse is a token as the API shows it. Secret is set only in the
// answer to the request that created it.
type TokenResponse struct {
	AccessorID  string     `json:"accessorId"`
	Secret      string     `json:"secret,omitempty"`
	Description string     `json:"description"`
	Policy      fsm.Policy `json:"policy"`
	CreateTime  time.Time  `json:"createTime"`
}

// ForwardedResult is the answer of POST /v1/internal/apply.
type ForwardedResult struct {
	Index     uint64     `json:"index"`
	Duplicate bool       `json:"duplicate,omitempty"`
	Error     *fsm.Error `json:"error,omitempty"`
}
