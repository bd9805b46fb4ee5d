package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
	Join    []string
	// GossipKey encrypts and authenticates gossip (memberlist's keyring);
	// nil leaves gossip in the clear.
	GossipKey []byte

	BootstrapExpect         int
	MaxVoters               int
	Profile                 string
	ServerStabilizationTime time.Duration
	DeadServerTimeout       time.Duration
	ReconcileInterval       time.Duration

	FSM    raft.FSM
	Logger *slog.Logger
}

// Node is this agent's seat in the group: its gossip membership and its Raft node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	raft    *raft.Raft
	stores  *raftStores
	trans   *raft.NetworkTransport
	ml      *memberlist.Memberlist
	members *memberTable

	raftAddr   string
	gossipAddr string
	hasState   atomic.Bool
	leaving    atomic.Bool

	leaderCh chan bool
	observer *raft.Observer
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

func (n *Node) startRaft() error {
	stores, err := openRaftStores(filepath.Join(n.cfg.DataDir, "raft"), n.log)
	if err != nil {
		return err
	}
	layer, err := listenRaft(n.cfg.BindAddr, n.cfg.AdvertiseAddr, n.cfg.RaftPort)
	if err != nil {
		stores.bolt.Close()
		return err
	}
	n.stores = stores
	n.raftAddr = layer.Addr().String()
	n.trans = raft.NewNetworkTransportWithLogger(layer, raftTransportPool, raftTransportWait, hclogFor(n.log, "raft-net"))
	has, err := raft.HasExistingState(stores.logs, stores.bolt, stores.snapshots)
	if err != nil {
		n.closeRaft()
		return fmt.Errorf("raft: read existing state: %w", err)
	}
	n.hasState.Store(has)
	rc := raftConfig(n.cfg.ID, n.cfg.Profile, n.log, n.leaderCh)
	n.raft, err = raft.NewRaft(rc, n.cfg.FSM, stores.logs, stores.bolt, stores.snapshots, n.trans)
	if err != nil {
		n.closeRaft()
		return fmt.Errorf("raft: %w", err)
	}
	return nil
}

func (n *Node) startGossip() error {
	var mc *memberlist.Config
	if n.cfg.Profile == "wan" {
		mc = memberlist.DefaultWANConfig()
	} else {
		mc = memberlist.DefaultLANConfig()
	}
	n.members = newMemberTable(n.cfg.ID, n.log, mc.ProbeInterval, n.membershipChanged, n.fatal)
	d := &gossipDelegate{table: n.members, meta: n.encodeMeta, log: n.log}
	if _, err := n.encodeMeta(); err != nil {
		return err
	}
	mc.Name = n.cfg.ID
	mc.BindAddr = n.cfg.BindAddr
	mc.BindPort = n.cfg.GossipPort
	mc.AdvertiseAddr = n.cfg.AdvertiseAddr
	mc.AdvertisePort = n.cfg.GossipPort
	mc.Delegate, mc.Events, mc.Merge, mc.Ping = d, d, d, d
	if n.cfg.GossipKey != nil {
		mc.SecretKey = n.cfg.GossipKey
		mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	} else if ip := net.ParseIP(n.cfg.BindAddr); ip == nil || !ip.IsLoopback() {
		n.log.Warn("gossip is not encrypted on a non-loopback address: any host that reaches the gossip port can join; set --encrypt")
	}
	mc.Logger = stdLoggerFor(n.log.With("module", "memberlist"))
	ml, err := memberlist.Create(mc)
	if err != nil {
		return fmt.Errorf("gossip: %w", err)
	}
	n.ml = ml
	// Read once, before any update: LocalNode points into state that
	// memberlist mutates under its own lock.
	ln := ml.LocalNode()
	n.gossipAddr = hostPort(ln.Addr.String(), int(ln.Port))
	return nil
}

func (n *Node) encodeMeta() ([]byte, error) {
	expect := n.cfg.BootstrapExpect
	return nodeMeta{
		Name: n.cfg.Name, API: n.cfg.APIAddr, Raft: n.raftAddr, Version: n.cfg.Version,
		Expect: expect, HasState: n.hasState.Load(), Leaving: n.leaving.Load(), Labels: n.cfg.Labels,
	}.encode()
}

// refreshMeta gossips changed metadata, waiting at most a few seconds.
func (n *Node) refreshMeta() {
	if err := n.ml.UpdateNode(5 * time.Second); err != nil {
		n.log.Warn("gossip metadata update", "err", err)
	}
}

func (n *Node) membershipChanged() {
	for _, ch := range []chan struct{}{n.changedCh, n.reconcileCh} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
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

const (
	joinBackoffMin = 500 * time.Millisecond
	joinBackoffMax = 30 * time.Second
)

// joinLoop joins the gossip pool through addrs, retrying with capped
// exponential backoff until one of them answers.
func (n *Node) joinLoop(addrs []string) {
	defer n.wg.Done()
	wait := joinBackoffMin
	for attempt := 1; ; attempt++ {
		joined, err := n.ml.Join(addrs)
		if joined > 0 {
			n.log.Info("joined gossip pool", "via", addrs, "contacted", joined)
			return
		}
		n.log.Warn("join failed, retrying", "addrs", addrs, "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-time.After(wait/2 + rand.N(wait/2+1)):
		case <-n.shutdownCh:
			return
		}
		wait = min(2*wait, joinBackoffMax)
	}
}

// membershipLoop bootstraps Raft once enough agents are seen, keeps this
// agent's gossiped Raft-state flag current, and forgets long-gone members.
func (n *Node) membershipLoop() {
	defer n.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	bootstrapped := false
	for {
		if !bootstrapped {
			bootstrapped = n.maybeBootstrap()
		}
		if !n.hasState.Load() && n.raft.LastIndex() > 0 {
			n.hasState.Store(true)
			n.refreshMeta()
		}
		n.members.reap(72 * time.Hour)
		select {
		case <-n.changedCh:
		case <-tick.C:
		case <-n.shutdownCh:
			return
		}
	}
}

// observeLeader turns raft's leader observations into LeaderChanged wake-ups.
func (n *Node) observeLeader() {
	defer n.wg.Done()
	ch := make(chan raft.Observation, 16)
	n.observer = raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	n.raft.RegisterObserver(n.observer)
	defer n.raft.DeregisterObserver(n.observer)
	for {
		select {
		case <-ch:
			n.leaderMu.Lock()
			close(n.leaderChanged)
			n.leaderChanged = make(chan struct{})
			n.leaderMu.Unlock()
		case <-n.shutdownCh:
			return
		}
	}
}

// LeaderChanged returns a channel that is closed at the next change of the
// known leader, so that a waiting write can retry at once.
func (n *Node) LeaderChanged() <-chan struct{} {
	n.leaderMu.Lock()
	defer n.leaderMu.Unlock()
	return n.leaderChanged
}

// IsLeader reports whether this agent is the Raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// LeaderCh delivers true when this agent gains leadership and false when it loses it.
func (n *Node) LeaderCh() <-chan bool { return n.leaderCh }

// Leader is the current leader as this agent knows it.
type Leader struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	APIAddr  string `json:"apiAddr"`
	RaftAddr string `json:"raftAddr"`
}

// Leader returns the known leader, or false when none is known.
func (n *Node) Leader() (Leader, bool) {
	addr, id := n.raft.LeaderWithID()
	if id == "" {
		return Leader{}, false
	}
	l := Leader{ID: string(id), RaftAddr: string(addr)}
	if m, ok := n.members.get(l.ID); ok {
		l.Name, l.APIAddr = m.Name, m.APIAddr
	}
	return l, true
}

// ID is this agent's cluster id.
func (n *Node) ID() string { return n.cfg.ID }

// RaftAddr is the advertised Raft address (with the port actually bound).
func (n *Node) RaftAddr() string { return n.raftAddr }

// GossipAddr is the advertised gossip address (with the port actually bound).
func (n *Node) GossipAddr() string { return n.gossipAddr }

// LastContact is when this agent last heard from the leader (now, on the leader).
func (n *Node) LastContact() time.Time {
	if n.IsLeader() {
		return time.Now()
	}
	return n.raft.LastContact()
}

// Stats is raft's own counters, for /v1/agent/self.
func (n *Node) Stats() map[string]string { return n.raft.Stats() }

// ErrNotLeader is returned by Apply on a follower.
var ErrNotLeader = raft.ErrNotLeader

// Apply proposes data on the leader and returns the log index and the FSM's
// response. raft.ErrLeadershipLost means the outcome is unknown.
func (n *Node) Apply(data []byte, timeout time.Duration) (uint64, any, error) {
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		return 0, nil, err
	}
	return f.Index(), f.Response(), nil
}

// Snapshot takes a Raft snapshot now and compacts the log behind it.
func (n *Node) Snapshot() error { return n.raft.Snapshot().Error() }

// Barrier waits until everything committed before it is applied here, or
// until ctx ends.
func (n *Node) Barrier(ctx context.Context, timeout time.Duration) error {
	return await(ctx, n.raft.Barrier(timeout))
}

// await waits for a raft future or for ctx, whichever ends first. A future
// cannot be cancelled; the waiting goroutine ends when raft resolves it (by
// its own timeout at the latest, or ErrRaftShutdown).
func await(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// VerifyLeader confirms with a quorum that this agent is still the leader.
func (n *Node) VerifyLeader() error { return n.raft.VerifyLeader().Error() }

// Peer is one server in the Raft configuration.
type Peer struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"`
}

func suffrageName(s raft.ServerSuffrage) string {
	switch s {
	case raft.Voter:
		return "voter"
	case raft.Nonvoter:
		return "nonvoter"
	}
	return "staging"
}

// Peers is the latest Raft configuration this agent knows.
func (n *Node) Peers() ([]Peer, error) {
	servers, err := n.servers()
	if err != nil {
		return nil, err
	}
	out := make([]Peer, len(servers))
	for i, s := range servers {
		out[i] = Peer{ID: string(s.ID), Address: string(s.Address), Suffrage: suffrageName(s.Suffrage)}
	}
	return out, nil
}

func (n *Node) servers() ([]raft.Server, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	return f.Configuration().Servers, nil
}

// MemberView is a member with its Raft role, for the API.
type MemberView struct {
	Member
	Role   string `json:"role"`
	Leader bool   `json:"leader"`
}

// Members is every member this agent's gossip knows, with its Raft role.
func (n *Node) Members() []MemberView {
	roles := map[string]string{}
	if servers, err := n.servers(); err == nil {
		for _, s := range servers {
			roles[string(s.ID)] = suffrageName(s.Suffrage)
		}
	}
	leader, _ := n.Leader()
	var out []MemberView
	for _, m := range n.members.list() {
		role := roles[m.ID]
		if role == "" {
			role = "none"
		}
		out = append(out, MemberView{Member: m, Role: role, Leader: m.ID == leader.ID})
	}
	return out
}

// Member returns one member as gossip knows it.
func (n *Node) Member(id string) (Member, bool) { return n.members.get(id) }

// Leave leaves the group gracefully and returns when this agent is out of
// the Raft configuration (or ctx ends): it announces the leave in its gossip
// metadata, hands leadership to a voter that is not leaving while it holds
// it, waits for the leader to remove it, and leaves the gossip pool. The
// caller keeps its leader loops running meanwhile (a leaving leader still
// removes other leaving members) and calls Shutdown afterwards.
//
// removedByLeader, when given, asks the leader whether this agent is still in
// its configuration: raft sends a removed server the entry that removes it
// only once, as it stops replicating to it, so under load the local
// configuration may never show the removal.
func (n *Node) Leave(ctx context.Context, removedByLeader func(context.Context) bool) error {
	n.leaving.Store(true)
	n.refreshMeta()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastTransfer, lastAsked time.Time
	for {
		servers, err := n.servers()
		if err != nil {
			return fmt.Errorf("leave: %w", err)
		}
		in := slices.ContainsFunc(servers, func(s raft.Server) bool { return string(s.ID) == n.cfg.ID })
		if !in || len(servers) <= 1 {
			break
		}
		if n.IsLeader() && time.Since(lastTransfer) > 2*time.Second {
			lastTransfer = time.Now()
			n.transferLeadership(servers)
		}
		if !n.IsLeader() && removedByLeader != nil && time.Since(lastAsked) > time.Second {
			lastAsked = time.Now()
			if removedByLeader(ctx) {
				break
			}
		}
		select {
		case <-ctx.Done():
			n.log.Warn("leaving without confirmation that the leader removed this agent", "err", ctx.Err())
			n.leaveGossip()
			return fmt.Errorf("leave: removal from the Raft configuration not confirmed: %w", ctx.Err())
		case <-tick.C:
		}
	}
	n.log.Info("removed from the Raft configuration; leaving gossip")
	n.leaveGossip()
	return nil
}

// leaveGossip broadcasts the leave. It can time out when no peer is left to
// hear it (the whole group leaving), which is harmless: they are gone too.
func (n *Node) leaveGossip() {
	if err := n.ml.Leave(5 * time.Second); err != nil {
		n.log.Warn("gossip leave", "err", err)
	}
}

// transferLeadership hands leadership to an alive voter that is not leaving.
// With none, this leader stays and its reconcile removes the leaving ones
// until it is the last server.
func (n *Node) transferLeadership(servers []raft.Server) {
	for _, s := range servers {
		m, ok := n.members.get(string(s.ID))
		if s.Suffrage != raft.Voter || m.ID == n.cfg.ID || !ok || m.Status != StatusAlive || m.Leaving {
			continue
		}
		n.log.Info("transferring leadership before leaving", "to", m.ID)
		if err := n.raft.LeadershipTransferToServer(s.ID, s.Address).Error(); err != nil {
			n.log.Warn("leadership transfer failed", "to", m.ID, "err", err)
			continue
		}
		return
	}
}

// Shutdown stops gossip and Raft without leaving: the others see a failure.
func (n *Node) Shutdown() error {
	n.once.Do(func() {
		close(n.shutdownCh)
		// memberlist first: a join in progress returns at once instead of
		// waiting out its dial timeouts.
		mlErr := n.ml.Shutdown()
		n.wg.Wait()
		n.shutdownErr = errors.Join(mlErr, n.closeRaft())
	})
	return n.shutdownErr
}

func (n *Node) closeRaft() error {
	var errs []error
	if n.raft != nil {
		errs = append(errs, n.raft.Shutdown().Error())
	}
	if n.trans != nil {
		errs = append(errs, n.trans.Close())
	}
	if n.stores != nil {
		errs = append(errs, n.stores.bolt.Close())
	}
	return errors.Join(errs...)
}
