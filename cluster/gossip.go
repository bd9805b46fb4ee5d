package cluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
)

func (n *Node) startGossip() error {
	var mc *memberlist.Config
	if n.cfg.Profile == "wan" {
		mc = memberlist.DefaultWANConfig()
	} else {
		mc = memberlist.DefaultLANConfig()
	}
	n.members = newMemberTable(n.cfg.ID, n.log, mc.ProbeInterval, n.membershipChanged, n.fatal)
	n.raftPeers.Store(n.members)
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
		kr, err := newKeyring(n.cfg.GossipKey)
		if err != nil {
			return fmt.Errorf("gossip key: %w", err)
		}
		// Our own keyring, kept, so that keys rotate without a restart.
		mc.Keyring, n.keyring = kr, kr
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
