package cluster

import (
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// MemberStatus is a member's health as gossip sees it.
type MemberStatus string

const (
	StatusAlive   MemberStatus = "alive"
	StatusSuspect MemberStatus = "suspect"
	StatusFailed  MemberStatus = "failed"
	StatusLeft    MemberStatus = "left"
)

// Member is one agent as this agent's gossip sees it.
type Member struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	APIAddr    string            `json:"apiAddr"`
	RaftAddr   string            `json:"raftAddr"`
	GossipAddr string            `json:"gossipAddr"`
	Version    string            `json:"version"`
	Labels     map[string]string `json:"labels,omitempty"`
	Status     MemberStatus      `json:"status"`
	// StatusSince is when this agent saw the status begin.
	StatusSince time.Time `json:"statusSince"`
	// Leaving is set once the member announced a graceful leave.
	Leaving         bool `json:"leaving,omitempty"`
	HasState        bool `json:"-"`
	BootstrapExpect int  `json:"-"`
}

// memberTable is this agent's view of the pool, fed by memberlist's delegates.
// memberlist itself forgets dead members and never reports suspicion, so the
// table keeps failed and left members (until reaped) and derives "suspect".
type memberTable struct {
	self    string
	log     *slog.Logger
	changed func() // called after every change; must not block
	// probeInterval is memberlist's; a member not acked for a few whole probe
	// rounds is shown as suspect.
	probeInterval time.Duration

	mu      sync.Mutex
	members map[string]*Member
	lastAck map[string]time.Time
	// conflicts counts refused joins per id, for the agent's fatal check.
	conflict func(error)
}

func newMemberTable(self string, log *slog.Logger, probeInterval time.Duration, changed func(), conflict func(error)) *memberTable {
	return &memberTable{
		self: self, log: log, changed: changed, conflict: conflict, probeInterval: probeInterval,
		members: map[string]*Member{}, lastAck: map[string]time.Time{},
	}
}

func (t *memberTable) upsert(n *memberlist.Node) {
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		t.log.Warn("ignoring gossip member without Ferry metadata", "member", n.Name, "addr", n.Address(), "err", err)
		return
	}
	now := time.Now()
	t.mu.Lock()
	m, ok := t.members[n.Name]
	if !ok {
		m = &Member{ID: n.Name}
		t.members[n.Name] = m
	}
	if !ok || m.Status != StatusAlive {
		m.Status, m.StatusSince = StatusAlive, now
		t.lastAck[n.Name] = now
		t.log.Info("member alive", "member", n.Name, "addr", n.Address())
	}
	m.Name, m.APIAddr, m.RaftAddr, m.GossipAddr = meta.Name, meta.API, meta.Raft, n.Address()
	m.Version, m.Labels, m.Leaving = meta.Version, meta.Labels, meta.Leaving
	m.HasState, m.BootstrapExpect = meta.HasState, meta.Expect
	t.mu.Unlock()
	t.changed()
}

func (t *memberTable) down(n *memberlist.Node) {
	t.mu.Lock()
	m, ok := t.members[n.Name]
	if ok {
		// memberlist does not tell a graceful leave from a failure; the member
		// announced its leave in its metadata first.
		m.Status = StatusFailed
		if m.Leaving {
			m.Status = StatusLeft
		}
		m.StatusSince = time.Now()
		t.log.Info("member down", "member", n.Name, "status", m.Status)
	}
	t.mu.Unlock()
	if ok {
		t.changed()
	}
}

func (t *memberTable) acked(name string) {
	t.mu.Lock()
	t.lastAck[name] = time.Now()
	t.mu.Unlock()
}

// list returns a copy of every member, with suspicion derived at call time.
func (t *memberTable) list() []Member {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	alive := 0
	for _, m := range t.members {
		if m.Status == StatusAlive {
			alive++
		}
	}
	// memberlist probes one member per interval, so each alive member is probed
	// about once per round of alive-1 intervals. Two missed rounds is suspicious.
	suspectAfter := time.Duration(2*alive+1) * t.probeInterval
	out := make([]Member, 0, len(t.members))
	for _, id := range slices.Sorted(maps.Keys(t.members)) {
		m := *t.members[id]
		m.Labels = maps.Clone(m.Labels)
		if m.Status == StatusAlive && id != t.self && now.Sub(t.lastAck[id]) > suspectAfter {
			m.Status = StatusSuspect
		}
		out = append(out, m)
	}
	return out
}

func (t *memberTable) get(id string) (Member, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, ok := t.members[id]
	if !ok {
		return Member{}, false
	}
	out := *m
	out.Labels = maps.Clone(m.Labels)
	return out, true
}

// byRaftAddr is the id of the member whose Raft address is addr; "" when
// gossip knows none.
func (t *memberTable) byRaftAddr(addr string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, m := range t.members {
		if m.RaftAddr == addr {
			return id
		}
	}
	return ""
}

// reap forgets members that have been failed or left for longer than age.
func (t *memberTable) reap(age time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, m := range t.members {
		if (m.Status == StatusFailed || m.Status == StatusLeft) && time.Since(m.StatusSince) > age {
			delete(t.members, id)
			delete(t.lastAck, id)
		}
	}
}

// checkMerge refuses to merge with a pool in which a member's id is already
// used by an alive agent at another address. When the id is our own, this
// agent is the duplicate and must stop.
func (t *memberTable) checkMerge(peers []*memberlist.Node) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range peers {
		if p.State != memberlist.StateAlive && p.State != memberlist.StateSuspect {
			continue
		}
		known, ok := t.members[p.Name]
		if !ok || known.Status != StatusAlive || known.GossipAddr == p.Address() {
			continue
		}
		if p.Name == t.self {
			err := fmt.Errorf("cluster id %q is already used by the agent at %s: every agent needs its own --cluster-id", p.Name, p.Address())
			t.conflict(err)
			return err
		}
		t.log.Warn("refusing to merge with an agent that reuses a cluster id", "id", p.Name, "addr", p.Address(), "known", known.GossipAddr)
		return fmt.Errorf("cluster id %q is already used by the agent at %s", p.Name, known.GossipAddr)
	}
	return nil
}

// gossipDelegate plugs the node into memberlist.
type gossipDelegate struct {
	table *memberTable
	meta  func() ([]byte, error)
	log   *slog.Logger
}

// NodeMeta implements memberlist.Delegate.
func (d *gossipDelegate) NodeMeta(limit int) []byte {
	b, err := d.meta()
	if err != nil || len(b) > limit {
		d.log.Error("gossip metadata does not fit", "err", err, "limit", limit)
		return nil
	}
	return b
}
func (d *gossipDelegate) NotifyMsg([]byte)                           {}
func (d *gossipDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *gossipDelegate) LocalState(join bool) []byte                { return nil }
func (d *gossipDelegate) MergeRemoteState(buf []byte, join bool)     {}

// NotifyJoin implements memberlist.EventDelegate.
func (d *gossipDelegate) NotifyJoin(n *memberlist.Node) { d.table.upsert(n) }

// NotifyUpdate implements memberlist.EventDelegate.
func (d *gossipDelegate) NotifyUpdate(n *memberlist.Node) { d.table.upsert(n) }

// NotifyLeave implements memberlist.EventDelegate.
func (d *gossipDelegate) NotifyLeave(n *memberlist.Node) { d.table.down(n) }

// NotifyMerge implements memberlist.MergeDelegate.
func (d *gossipDelegate) NotifyMerge(peers []*memberlist.Node) error {
	return d.table.checkMerge(peers)
}

// AckPayload implements memberlist.PingDelegate.
func (d *gossipDelegate) AckPayload() []byte { return nil }

// NotifyPingComplete implements memberlist.PingDelegate.
func (d *gossipDelegate) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	d.table.acked(other.Name)
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
