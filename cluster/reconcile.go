package cluster

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

type actionKind int

const (
	actAddNonvoter actionKind = iota // a new alive member
	actSetAddress                    // a member's Raft address changed
	actPromote                       // a stable non-voter, under the voter cap
	actRemove                        // left, or failed past the dead-server timeout
)

type action struct {
	kind     actionKind
	id, addr string
	voter    bool // for actSetAddress: keep the suffrage
	reason   string
}

// reconcilePolicy is the leader's membership rules.
type reconcilePolicy struct {
	self              string
	maxVoters         int
	stabilization     time.Duration
	deadServerTimeout time.Duration
}

// plan decides the Raft configuration changes that bring servers in line with
// members. missingSince says since when a server has been unknown to gossip.
// It also returns when to look again for changes that only time will make due
// (a promotion or a removal), or 0 when nothing is pending.
func (p reconcilePolicy) plan(servers []raft.Server, members []Member, missingSince map[string]time.Time, now time.Time) ([]action, time.Duration) {
	byID := map[string]Member{}
	for _, m := range members {
		byID[m.ID] = m
	}
	inConfig := map[string]raft.Server{}
	voters := 0
	for _, s := range servers {
		inConfig[string(s.ID)] = s
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	var acts []action
	var wake time.Duration
	later := func(d time.Duration) {
		if d > 0 && (wake == 0 || d < wake) {
			wake = d
		}
	}

	// Removals first: they free voter slots for promotions. Failed voters are
	// removed at most (voters-1)/2 at a time so that quorum is never at risk.
	failedVoterBudget := (voters - 1) / 2
	for _, s := range servers {
		id := string(s.ID)
		if id == p.self {
			continue
		}
		m, known := byID[id]
		switch {
		case known && (m.Status == StatusLeft || m.Leaving):
			acts = append(acts, action{kind: actRemove, id: id, reason: "left"})
		case !known || m.Status == StatusFailed:
			since := m.StatusSince
			if !known {
				since = missingSince[id]
			}
			if wait := p.deadServerTimeout - now.Sub(since); wait > 0 {
				later(wait)
				continue
			}
			if s.Suffrage == raft.Voter {
				if failedVoterBudget == 0 {
					continue
				}
				failedVoterBudget--
			}
			acts = append(acts, action{kind: actRemove, id: id, reason: "failed for longer than the dead-server timeout"})
		}
	}
	removed := map[string]bool{}
	for _, a := range acts {
		removed[a.id] = true
		if inConfig[a.id].Suffrage == raft.Voter {
			voters--
		}
	}

	// Additions and address changes for alive members.
	for _, m := range members {
		if m.Status == StatusFailed || m.Status == StatusLeft || m.Leaving || m.RaftAddr == "" {
			continue
		}
		s, ok := inConfig[m.ID]
		switch {
		case !ok:
			acts = append(acts, action{kind: actAddNonvoter, id: m.ID, addr: m.RaftAddr, reason: "new member"})
		case string(s.Address) != m.RaftAddr:
			acts = append(acts, action{kind: actSetAddress, id: m.ID, addr: m.RaftAddr, voter: s.Suffrage == raft.Voter, reason: "raft address changed"})
		}
	}

	// Promotions: the longest-healthy non-voters first, up to the cap.
	var candidates []Member
	for _, s := range servers {
		m, ok := byID[string(s.ID)]
		if s.Suffrage == raft.Voter || removed[m.ID] || !ok || m.Status != StatusAlive || m.Leaving || m.RaftAddr == "" {
			continue
		}
		candidates = append(candidates, m)
	}
	slices.SortFunc(candidates, func(a, b Member) int {
		if c := a.StatusSince.Compare(b.StatusSince); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, m := range candidates {
		if voters >= p.maxVoters {
			break
		}
		if wait := p.stabilization - now.Sub(m.StatusSince); wait > 0 {
			later(wait)
			continue
		}
		acts = append(acts, action{kind: actPromote, id: m.ID, addr: m.RaftAddr, reason: "stable"})
		voters++
	}
	return acts, wake
}

const configChangeTimeout = 10 * time.Second

// RunReconcile is the leader's membership loop. It runs until ctx ends (the
// agent cancels it when leadership is lost). After each pass it calls
// afterPass, which the agent uses to keep the replicated registry in step.
func (n *Node) RunReconcile(ctx context.Context, afterPass func(context.Context, []Member, []Peer)) {
	policy := reconcilePolicy{
		self: n.cfg.ID, maxVoters: n.cfg.MaxVoters,
		stabilization: n.cfg.ServerStabilizationTime, deadServerTimeout: n.cfg.DeadServerTimeout,
	}
	missingSince := map[string]time.Time{}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-n.reconcileCh:
		}
		wake := n.reconcileOnce(ctx, policy, missingSince)
		if afterPass != nil {
			peers, err := n.Peers()
			if err == nil {
				afterPass(ctx, n.members.list(), peers)
			}
		}
		next := n.cfg.ReconcileInterval
		if wake > 0 && wake < next {
			next = wake + 10*time.Millisecond
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

func (n *Node) reconcileOnce(ctx context.Context, p reconcilePolicy, missingSince map[string]time.Time) time.Duration {
	servers, err := n.servers()
	if err != nil {
		n.log.Warn("reconcile: read raft configuration", "err", err)
		return time.Second
	}
	members := n.members.list()
	now := time.Now()
	known := map[string]bool{}
	for _, m := range members {
		known[m.ID] = true
	}
	for _, s := range servers {
		id := string(s.ID)
		if known[id] {
			delete(missingSince, id)
		} else if _, ok := missingSince[id]; !ok {
			missingSince[id] = now
		}
	}
	acts, wake := p.plan(servers, members, missingSince, now)
	for _, a := range acts {
		if ctx.Err() != nil {
			return 0
		}
		var f raft.IndexFuture
		id, addr := raft.ServerID(a.id), raft.ServerAddress(a.addr)
		switch a.kind {
		case actAddNonvoter:
			f = n.raft.AddNonvoter(id, addr, 0, configChangeTimeout)
		case actSetAddress:
			if a.voter {
				f = n.raft.AddVoter(id, addr, 0, configChangeTimeout)
			} else {
				f = n.raft.AddNonvoter(id, addr, 0, configChangeTimeout)
			}
		case actPromote:
			f = n.raft.AddVoter(id, addr, 0, configChangeTimeout)
		case actRemove:
			f = n.raft.RemoveServer(id, 0, configChangeTimeout)
			delete(missingSince, a.id)
		}
		if err := await(ctx, f); err != nil {
			if ctx.Err() != nil {
				return 0 // leadership or the agent is going away
			}
			n.log.Warn("reconcile: configuration change failed", "member", a.id, "reason", a.reason, "err", err)
			return time.Second
		}
		n.log.Info("reconcile: configuration changed", "member", a.id, "change", a.kind.String(), "reason", a.reason)
	}
	return wake
}

func (k actionKind) String() string {
	return [...]string{"add-nonvoter", "set-address", "promote", "remove"}[k]
}
