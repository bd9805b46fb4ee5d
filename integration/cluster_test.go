package integration

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
)

var regions = []string{"shanghai", "beijing", "guangzhou"}

func TestThreeAgentsFormOneGroup(t *testing.T) {
	nodes := startGroup(t, regions)
	leader := sameLeader(t, 30*time.Second, nodes...)
	if !slices.Contains(regions, leader.ID) || leader.APIAddr == "" || leader.Name != "Region "+leader.ID {
		t.Fatalf("leader %+v is not one of the agents", leader)
	}

	eventually(t, 10*time.Second, "the same three voters on every agent", func() error {
		want := "beijing=voter,guangzhou=voter,shanghai=voter"
		for _, n := range nodes {
			if got := describePeers(peersOf(t, n)); got != want {
				return fmt.Errorf("%s: peers %s, want %s", n.id(), got, want)
			}
		}
		return nil
	})
	eventually(t, 10*time.Second, "three alive members everywhere", func() error {
		for _, n := range nodes {
			ms := membersOf(t, n)
			for _, id := range regions {
				m := ms[id]
				if m.Status != "alive" || m.Role != "voter" || m.Leader != (id == leader.ID) {
					return fmt.Errorf("%s sees %s as %+v", n.id(), id, m)
				}
			}
		}
		return nil
	})

	// The replicated registry lists every region with its API address, on every agent.
	eventually(t, 10*time.Second, "registry replicated", func() error {
		for _, n := range nodes {
			var recs []struct {
				ID      string `json:"id"`
				Name    string `json:"name"`
				APIAddr string `json:"apiAddr"`
			}
			call(t, "GET", n.url()+"/v1/clusters", mgmtToken, nil).decode(t, &recs)
			got := map[string]string{}
			for _, r := range recs {
				got[r.ID] = r.APIAddr
			}
			for _, want := range nodes {
				if got[want.id()] != want.a.HTTPAddr() {
					return fmt.Errorf("%s: registry %v lacks %s at %s", n.id(), got, want.id(), want.a.HTTPAddr())
				}
			}
			if len(got) != len(nodes) {
				return fmt.Errorf("%s: registry %v has extra entries", n.id(), got)
			}
		}
		return nil
	})

	self := call(t, "GET", nodes[1].url()+"/v1/agent/self", mgmtToken, nil)
	if self.status != http.StatusOK || strings.Contains(string(self.body), mgmtToken) {
		t.Fatalf("agent/self: %d, or it leaks the management token: %s", self.status, self.body)
	}
}

func TestReadsCarryConsistencyHeaders(t *testing.T) {
	nodes := startGroup(t, regions)
	leader := sameLeader(t, 30*time.Second, nodes...)
	follower := followerOf(nodes, leader.ID)
	tok := createToken(t, follower, mgmtToken, "read")

	r := call(t, "GET", follower.url()+"/v1/acl/tokens", mgmtToken, nil)
	if r.header.Get("X-Ferry-Known-Leader") != "true" || r.header.Get("X-Ferry-Index") == "" || r.header.Get("X-Ferry-Last-Contact") == "" {
		t.Fatalf("read headers missing: %v", r.header)
	}
	if by := r.header.Get("X-Ferry-Served-By"); by != follower.id() {
		t.Fatalf("local read on %s served by %q", follower.id(), by)
	}
	// ?consistent is answered by the leader, and sees the token too.
	r = call(t, "GET", follower.url()+"/v1/acl/tokens?consistent", mgmtToken, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), tok.AccessorID) {
		t.Fatalf("consistent read through %s: %d %s", follower.id(), r.status, r.body)
	}
	if by := r.header.Get("X-Ferry-Served-By"); by != leader.ID || r.header.Get("X-Ferry-Last-Contact") != "0" {
		t.Fatalf("consistent read through %s was not answered by the leader %s: %v", follower.id(), leader.ID, r.header)
	}
	if r.header.Get("X-Trace-Id") == "" || len(r.header.Values("X-Trace-Id")) != 1 {
		t.Fatalf("consistent read trace id header: %v", r.header.Values("X-Trace-Id"))
	}
}

func followerOf(nodes []*node, leaderID string) *node {
	for _, n := range nodes {
		if n.id() != leaderID {
			return n
		}
	}
	return nil
}

func nodeByID(nodes []*node, id string) *node {
	for _, n := range nodes {
		if n.id() == id {
			return n
		}
	}
	return nil
}

func TestLeaderFailoverAndRejoin(t *testing.T) {
	nodes := startGroup(t, regions)
	leader := sameLeader(t, 30*time.Second, nodes...)
	before := createToken(t, followerOf(nodes, leader.ID), mgmtToken, "read")

	old := nodeByID(nodes, leader.ID)
	old.stop() // a crash: no leave, no leadership transfer
	var survivors []*node
	for _, n := range nodes {
		if n != old {
			survivors = append(survivors, n)
		}
	}
	newLeader(t, 30*time.Second, old.id(), survivors...)

	// Writes keep working through either survivor.
	var written []token
	for _, n := range survivors {
		written = append(written, createToken(t, n, mgmtToken, "write"))
	}

	// The old leader comes back from its data dir and catches up.
	old.restart(withJoin(survivors...))
	all := append(survivors, old)
	sameLeader(t, 30*time.Second, all...)
	eventually(t, 30*time.Second, "restarted agent has every write", func() error {
		r := call(t, "GET", old.url()+"/v1/acl/tokens", mgmtToken, nil)
		for _, tok := range append(written, before) {
			if !strings.Contains(string(r.body), tok.AccessorID) {
				return fmt.Errorf("token %s missing on %s", tok.AccessorID, old.id())
			}
		}
		return nil
	})
	// And it is a voter of the group again.
	if got := suffrages(peersOf(t, survivors[0]))[old.id()]; got != "voter" {
		t.Fatalf("restarted agent is %q in the configuration, want voter", got)
	}
	// A write through the restarted agent works too.
	createToken(t, old, mgmtToken, "read")
}

func TestMaxVotersLeaveAndDeadServerTimeout(t *testing.T) {
	const deadTimeout = 6 * time.Second
	opts := []nodeOption{withMaxVoters(3), withDeadServerTimeout(deadTimeout)}
	nodes := startGroup(t, regions, opts...)
	sameLeader(t, 30*time.Second, nodes...)
	n4 := startNode(t, "chengdu", append(opts, withJoin(nodes[0]))...)
	n5 := startNode(t, "shenzhen", append(opts, withJoin(nodes[1]))...)
	all := append(nodes, n4, n5)
	leader := sameLeader(t, 30*time.Second, all...)
	leaderNode := nodeByID(all, leader.ID)

	eventually(t, 30*time.Second, "4th and 5th agents join as non-voters", func() error {
		s := suffrages(peersOf(t, leaderNode))
		if s["chengdu"] != "nonvoter" || s["shenzhen"] != "nonvoter" {
			return fmt.Errorf("peers %v", s)
		}
		return nil
	})
	if v := voters(peersOf(t, leaderNode)); v != 3 {
		t.Fatalf("%d voters with --max-voters 3", v)
	}

	// A graceful leave of a voter removes it from the configuration, and a
	// stable non-voter takes its voter seat.
	leaving := followerOf(nodes, leader.ID)
	leaving.leave()
	eventually(t, 30*time.Second, "left voter removed and a non-voter promoted", func() error {
		ps := peersOf(t, leaderNode)
		s := suffrages(ps)
		if _, still := s[leaving.id()]; still {
			return fmt.Errorf("%s still in peers %v", leaving.id(), s)
		}
		if voters(ps) != 3 {
			return fmt.Errorf("peers %v", s)
		}
		return nil
	})
	if st := membersOf(t, leaderNode)[leaving.id()].Status; st != "left" {
		t.Fatalf("member that left has status %q", st)
	}

	// A killed member stays in the configuration until the dead-server timeout.
	var victim *node
	for _, n := range all {
		if n != leaderNode && n != leaving {
			victim = n
			break
		}
	}
	victim.stop()
	eventually(t, 30*time.Second, "killed member seen as failed", func() error {
		if st := membersOf(t, leaderNode)[victim.id()].Status; st != "failed" {
			return fmt.Errorf("status %q", st)
		}
		return nil
	})
	failedSeen := time.Now() // the leader marked it failed at or before this
	if _, ok := suffrages(peersOf(t, leaderNode))[victim.id()]; !ok {
		t.Fatalf("failed member %s was removed before the dead-server timeout", victim.id())
	}
	eventually(t, 30*time.Second, "failed member removed after the dead-server timeout", func() error {
		if _, ok := suffrages(peersOf(t, leaderNode))[victim.id()]; ok {
			return fmt.Errorf("%s still in peers", victim.id())
		}
		return nil
	})
	// Removed no earlier than the timeout after the failure (less the 50 ms
	// polling step between the leader marking it and this test seeing it).
	if waited := time.Since(failedSeen); waited < deadTimeout-200*time.Millisecond {
		t.Fatalf("failed member removed %s after it failed; the dead-server timeout is %s", waited, deadTimeout)
	}
}

func voters(ps []peer) int {
	n := 0
	for _, p := range ps {
		if p.Suffrage == "voter" {
			n++
		}
	}
	return n
}

func TestGracefulLeaderLeaveHandsOverLeadership(t *testing.T) {
	nodes := startGroup(t, regions)
	leader := sameLeader(t, 30*time.Second, nodes...)
	old := nodeByID(nodes, leader.ID)
	old.leave()
	var rest []*node
	for _, n := range nodes {
		if n != old {
			rest = append(rest, n)
		}
	}
	newLeader(t, 30*time.Second, old.id(), rest...)
	eventually(t, 10*time.Second, "old leader removed from the configuration", func() error {
		if _, ok := suffrages(peersOf(t, rest[0]))[old.id()]; ok {
			return fmt.Errorf("%s still in peers", old.id())
		}
		return nil
	})
	createToken(t, rest[1], mgmtToken, "read")
}

func TestDuplicateClusterIDIsRefused(t *testing.T) {
	nodes := startGroup(t, regions[:2], withBootstrapExpect(2))
	sameLeader(t, 30*time.Second, nodes...)
	dup := startNode(t, nodes[1].id(), withJoin(nodes[0]))
	select {
	case err := <-dup.a.Err():
		if !strings.Contains(err.Error(), `cluster id "beijing" is already used`) {
			t.Fatalf("refusal does not say why: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("an agent reusing a cluster id was not refused")
	}
	dup.stop()
	// The original keeps its place.
	if m := membersOf(t, nodes[0])[nodes[1].id()]; m.Status != "alive" || m.APIAddr != nodes[1].a.HTTPAddr() {
		t.Fatalf("original member after the refusal: %+v", m)
	}
}

func TestWritesWithoutLeaderFailWith503(t *testing.T) {
	// bootstrap-expect 3 with one agent: no group, so no leader, ever.
	n := startNode(t, "lonely", withBootstrapExpect(3), withLeaderWait(300*time.Millisecond))
	r := call(t, "POST", n.url()+"/v1/acl/tokens", mgmtToken, map[string]string{"description": "x", "policy": "read"})
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.errorMessage(), "no cluster leader") {
		t.Fatalf("write without a leader: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", n.url()+"/v1/status/leader", mgmtToken, nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("status/leader without a leader: %d", r.status)
	}
	if r := call(t, "GET", n.url()+"/v1/health?leader", "", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("health?leader without a leader: %d", r.status)
	}
	// An agent that has never heard from a leader is not ready: it answers
	// no read from its state, which may be far behind the group's.
	if r := call(t, "GET", n.url()+"/v1/health", "", nil); r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "no_leader") {
		t.Fatalf("health without a leader: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", n.url()+"/v1/acl/tokens", mgmtToken, nil); r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("local read without a leader: %d %v", r.status, r.header)
	}
}

// Every agent of a group leaving at once (a whole-site shutdown) must not
// wait out its leave timeout: the last leader removes the others and ends alone.
func TestWholeGroupLeavesTogether(t *testing.T) {
	nodes := startGroup(t, regions)
	sameLeader(t, 30*time.Second, nodes...)
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func(a *node) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			errs <- a.a.Leave(ctx)
		}(n)
	}
	for range nodes {
		if err := <-errs; err != nil {
			t.Errorf("leave: %v", err)
		}
	}
	for _, n := range nodes {
		n.a = nil // already stopped
	}
}

// The wan profile (memberlist's WAN config, raft timeouts ×5) forms a group
// and takes writes through a follower like lan does.
func TestWANProfileFormsAGroup(t *testing.T) {
	nodes := startGroup(t, regions, configure(func(c *config.Config) { c.Profile = config.ProfileWAN }))
	leader := sameLeader(t, 60*time.Second, nodes...)
	createToken(t, followerOf(nodes, leader.ID), mgmtToken, "read")
	var self struct {
		Config struct {
			Profile string `json:"profile"`
			Token   string `json:"token"`
		} `json:"config"`
	}
	getOK(t, nodes[0], "/v1/agent/self", &self)
	if self.Config.Profile != "wan" || self.Config.Token != "<redacted>" {
		t.Fatalf("agent/self config: %+v", self.Config)
	}
}
