package cluster

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferrysync/ferry/internal/stopstep"
	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
)

// Config is what the cluster layer needs from the agent's configuration.
type Config struct {
	ID      string
	Name    string
	Labels  map[string]string
	Version string

	BindAddr      string
	AdvertiseAddr string
	GossipPort    int
	RaftPort      int
	// APIAddr is the advertised host:port of this agent's HTTP API.
	APIAddr string
	DataDir string
	// RaftDir holds the Raft log and snapshots; "" is DataDir/raft.
	RaftDir string
	Join    []string
	// GossipKey encrypts and authenticates gossip (memberlist's keyring);
	// nil leaves gossip in the clear.
	GossipKey []byte
	// RaftTLS runs Raft over mutual TLS; nil leaves it in the clear.
	RaftTLS *RaftTLS

	BootstrapExpect         int
	MaxVoters               int
	Profile                 string
	ServerStabilizationTime time.Duration
	DeadServerTimeout       time.Duration
	ReconcileInterval       time.Duration

	FSM    raft.FSM
	Logger *slog.Logger

	// RecoveryFSM makes a fresh FSM for a peers.json recovery, which leaves
	// the FSM it replays into unusable; nil uses FSM (raft restores it after).
	RecoveryFSM func() raft.FSM
}

// Node is this agent's seat in the group: its gossip membership and its Raft node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	raft    *raft.Raft
	stores  *raftStores
	trans   *raft.NetworkTransport
	ml      *memberlist.Memberlist
	keyring *memberlist.Keyring // nil without a gossip key
	members *memberTable
	// raftPeers is members for Raft's dials, which may start before
	// gossip does (members is set then).
	raftPeers atomic.Pointer[memberTable]

	raftAddr   string
	gossipAddr string
	hasState   atomic.Bool
	leaving    atomic.Bool

	leaderCh chan bool
	observer *raft.Observer
	// leaderChanges counts the new leaders this agent has heard of.
	leaderChanges atomic.Uint64
	// leaderChanged is closed and replaced whenever the known leader changes.
	leaderMu      sync.Mutex
	leaderChanged chan struct{}
	changedCh     chan struct{} // membership changed; wakes the membership loop
	reconcileCh   chan struct{} // membership changed; wakes the leader's reconcile
	fatalCh       chan error
	shutdownCh    chan struct{}
	shutdownErr   error
	once          sync.Once
	wg            sync.WaitGroup
}

// Start opens the Raft stores, starts Raft and gossip, and begins joining.
func Start(cfg Config) (*Node, error) {
	n := &Node{
		cfg:           cfg,
		log:           cfg.Logger,
		leaderCh:      make(chan bool, 16),
		changedCh:     make(chan struct{}, 1),
		reconcileCh:   make(chan struct{}, 1),
		fatalCh:       make(chan error, 1),
		shutdownCh:    make(chan struct{}),
		leaderChanged: make(chan struct{}),
	}
	if err := n.startRaft(); err != nil {
		return nil, err
	}
	if err := n.startGossip(); err != nil {
		n.closeRaft()
		return nil, err
	}
	n.wg.Add(2)
	go n.membershipLoop()
	go n.observeLeader()
	if len(cfg.Join) > 0 {
		n.wg.Add(1)
		go n.joinLoop(cfg.Join)
	}
	return n, nil
}

// fatal reports an error that must stop the agent, such as a duplicate id.
func (n *Node) fatal(err error) {
	select {
	case n.fatalCh <- err:
	default:
	}
}

// Fatal delivers errors after which this agent must not go on.
func (n *Node) Fatal() <-chan error { return n.fatalCh }

// ID is this agent's cluster id.
func (n *Node) ID() string { return n.cfg.ID }

// RaftAddr is the advertised Raft address (with the port actually bound).
func (n *Node) RaftAddr() string { return n.raftAddr }

// GossipAddr is the advertised gossip address (with the port actually bound).
func (n *Node) GossipAddr() string { return n.gossipAddr }

// How long Shutdown waits for each of its steps; one that takes longer is
// logged by name and given up on (stopstep.Run).
const (
	gossipStopTimeout = 5 * time.Second
	// loopsStopTimeout: the membership loop may be in a metadata update,
	// which waits up to 5 s for its broadcast.
	loopsStopTimeout = 10 * time.Second
	// raftStopTimeout: raft's goroutines end within the transport's I/O
	// deadline (raftTransportWait) of the shutdown.
	raftStopTimeout = 2 * raftTransportWait
)

// Shutdown stops gossip and Raft without leaving: the others see a failure.
// Each step is bounded; a step that times out is logged, its error returned,
// and the next one taken all the same.
func (n *Node) Shutdown() error {
	n.once.Do(func() {
		close(n.shutdownCh)
		// memberlist first: a join in progress returns at once instead of
		// waiting out its dial timeouts.
		mlErr := stopstep.Run(n.log, "gossip shutdown", gossipStopTimeout, n.ml.Shutdown)
		loopsErr := stopstep.Run(n.log, "cluster loops", loopsStopTimeout, func() error {
			n.wg.Wait()
			return nil
		})
		n.shutdownErr = errors.Join(mlErr, loopsErr, n.closeRaft())
	})
	return n.shutdownErr
}
