package cluster

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

var planNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func voter(id, addr string) raft.Server {
	return raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(addr), Suffrage: raft.Voter}
}

func nonvoter(id, addr string) raft.Server {
	return raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(addr), Suffrage: raft.Nonvoter}
}

// mem is a member whose status began ago before planNow, with RaftAddr id+":8300".
func mem(id string, status MemberStatus, ago time.Duration) Member {
	return Member{ID: id, Name: id, RaftAddr: id + ":8300", Status: status, StatusSince: planNow.Add(-ago)}
}

func leaving(m Member) Member { m.Leaving = true; return m }

func withRaft(m Member, addr string) Member { m.RaftAddr = addr; return m }

func addNV(id string) action { return action{kind: actAddNonvoter, id: id, addr: id + ":8300"} }
func promote(id string) action {
	return action{kind: actPromote, id: id, addr: id + ":8300"}
}
func remove(id string) action { return action{kind: actRemove, id: id} }

func (a action) String() string {
	return fmt.Sprintf("%s(%s addr=%q voter=%v)", a.kind, a.id, a.addr, a.voter)
}

func TestReconcilePlan(t *testing.T) {
	const (
		stab = 10 * time.Second
		dead = time.Minute
		long = time.Hour
	)
	policy := reconcilePolicy{self: "s0", maxVoters: 3, stabilization: stab, deadServerTimeout: dead}
	self := mem("s0", StatusAlive, long)
	sv := voter("s0", "s0:8300")

	tests := []struct {
		name      string
		maxVoters int // 0: policy default
		servers   []raft.Server
		members   []Member
		missing   map[string]time.Time
		want      []action
		wantWake  time.Duration
	}{
		{
			name:    "alive member not in configuration is added as non-voter",
			servers: []raft.Server{sv},
			members: []Member{self, mem("n1", StatusAlive, 0)},
			want:    []action{addNV("n1")},
		},
		{
			name:    "added with its own raft address",
			servers: []raft.Server{sv},
			members: []Member{self, withRaft(mem("n1", StatusAlive, long), "10.1.2.3:9999")},
			want:    []action{{kind: actAddNonvoter, id: "n1", addr: "10.1.2.3:9999"}},
		},
		{
			name:    "failed, left, leaving or address-less members are never added",
			servers: []raft.Server{sv},
			members: []Member{
				self,
				mem("f1", StatusFailed, long),
				mem("f2", StatusFailed, 0),
				mem("l1", StatusLeft, long),
				leaving(mem("lv", StatusAlive, long)),
				withRaft(mem("na", StatusAlive, long), ""),
			},
		},
		{
			name:    "stable non-voter is promoted (exactly at stabilization)",
			servers: []raft.Server{sv, nonvoter("n1", "n1:8300")},
			members: []Member{self, mem("n1", StatusAlive, stab)},
			want:    []action{promote("n1")},
		},
		{
			name:    "promotion uses the configured address",
			servers: []raft.Server{sv, nonvoter("n1", "n1:8300")},
			members: []Member{self, mem("n1", StatusAlive, long)},
			want:    []action{promote("n1")},
		},
		{
			name:     "young non-voter waits the remaining stabilization",
			servers:  []raft.Server{sv, nonvoter("n1", "n1:8300")},
			members:  []Member{self, mem("n1", StatusAlive, 4*time.Second)},
			wantWake: 6 * time.Second,
		},
		{
			name:    "suspect non-voter is not promoted",
			servers: []raft.Server{sv, nonvoter("n1", "n1:8300")},
			members: []Member{self, mem("n1", StatusSuspect, long)},
		},
		{
			name:    "leaving non-voter is not promoted but removed",
			servers: []raft.Server{sv, nonvoter("n1", "n1:8300")},
			members: []Member{self, leaving(mem("n1", StatusAlive, long))},
			want:    []action{remove("n1")},
		},
		{
			name:    "voter cap reached: nothing promoted, nothing to wait for",
			servers: []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300"), nonvoter("n1", "n1:8300"), nonvoter("n2", "n2:8300")},
			members: []Member{self, mem("v1", StatusAlive, long), mem("v2", StatusAlive, long), mem("n1", StatusAlive, long), mem("n2", StatusAlive, time.Second)},
		},
		{
			name:    "several candidates: oldest first, only up to the cap",
			servers: []raft.Server{sv, nonvoter("n1", "n1:8300"), nonvoter("n2", "n2:8300"), nonvoter("n3", "n3:8300"), nonvoter("n4", "n4:8300")},
			members: []Member{self, mem("n1", StatusAlive, 20*time.Second), mem("n2", StatusAlive, 60*time.Second), mem("n3", StatusAlive, 30*time.Second), mem("n4", StatusAlive, 11*time.Second)},
			want:    []action{promote("n2"), promote("n3")},
		},
		{
			name:    "equal StatusSince: ties broken by id",
			servers: []raft.Server{sv, nonvoter("nb", "nb:8300"), nonvoter("na", "na:8300")},
			members: []Member{self, mem("nb", StatusAlive, long), mem("na", StatusAlive, long)},
			want:    []action{promote("na"), promote("nb")},
		},
		{
			name:      "young candidate before the cap sets the wake, stable one promoted",
			maxVoters: 5,
			servers:   []raft.Server{sv, nonvoter("n1", "n1:8300"), nonvoter("n2", "n2:8300")},
			members:   []Member{self, mem("n1", StatusAlive, 3*time.Second), mem("n2", StatusAlive, long)},
			want:      []action{promote("n2")},
			wantWake:  7 * time.Second,
		},
		{
			// A promotion in the same pass as an address change must use the
			// new address, or it would put the stale one back.
			name:    "moved stable non-voter is promoted at its new address",
			servers: []raft.Server{sv, nonvoter("n1", "old:8300")},
			members: []Member{self, withRaft(mem("n1", StatusAlive, long), "new:8300")},
			want: []action{
				{kind: actSetAddress, id: "n1", addr: "new:8300", voter: false},
				{kind: actPromote, id: "n1", addr: "new:8300"},
			},
		},
		{
			name:    "left voter removed at once and its seat goes to a stable non-voter",
			servers: []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300"), nonvoter("n1", "n1:8300")},
			members: []Member{self, mem("v1", StatusAlive, long), mem("v2", StatusLeft, 0), mem("n1", StatusAlive, long)},
			want:    []action{remove("v2"), promote("n1")},
		},
		{
			name:    "alive but leaving voter removed at once and its seat reused",
			servers: []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300"), nonvoter("n1", "n1:8300")},
			members: []Member{self, leaving(mem("v1", StatusAlive, 0)), mem("v2", StatusAlive, long), mem("n1", StatusAlive, long)},
			want:    []action{remove("v1"), promote("n1")},
		},
		{
			name:    "left non-voter removed at once",
			servers: []raft.Server{sv, nonvoter("n1", "n1:8300")},
			members: []Member{self, mem("n1", StatusLeft, 0)},
			want:    []action{remove("n1")},
		},
		{
			name:    "failed but leaving member counts as left",
			servers: []raft.Server{sv, voter("v1", "v1:8300")},
			members: []Member{self, leaving(mem("v1", StatusFailed, 0))},
			want:    []action{remove("v1")},
		},
		{
			name:     "failed voter not removed before the dead-server timeout",
			servers:  []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300")},
			members:  []Member{self, mem("v1", StatusFailed, 20*time.Second), mem("v2", StatusAlive, long)},
			wantWake: 40 * time.Second,
		},
		{
			// Two of three back after a full stop (SIGTERM keeps voters):
			// the third, unseen by gossip since, keeps its seat for now.
			name:     "voter unseen since a full restart stays until the dead-server timeout",
			servers:  []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300")},
			members:  []Member{self, mem("v1", StatusAlive, time.Second)},
			missing:  map[string]time.Time{"v2": planNow},
			wantWake: dead,
		},
		{
			name:    "failed voter removed after the dead-server timeout",
			servers: []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300")},
			members: []Member{self, mem("v1", StatusFailed, dead), mem("v2", StatusAlive, long)},
			want:    []action{remove("v1")},
		},
		{
			name:     "failed non-voter waits then is removed",
			servers:  []raft.Server{sv, nonvoter("n1", "n1:8300"), nonvoter("n2", "n2:8300")},
			members:  []Member{self, mem("n1", StatusFailed, 50*time.Second), mem("n2", StatusFailed, 2*dead)},
			want:     []action{remove("n2")},
			wantWake: 10 * time.Second,
		},
		{
			name:      "5 voters, 3 failed long ago: exactly 2 removed",
			maxVoters: 5,
			servers:   []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300"), voter("v3", "v3:8300"), voter("v4", "v4:8300")},
			members:   []Member{self, mem("v1", StatusFailed, long), mem("v2", StatusFailed, long), mem("v3", StatusFailed, long), mem("v4", StatusAlive, long)},
			want:      []action{remove("v1"), remove("v2")},
		},
		{
			name:    "3 voters, 2 failed long ago: 1 removed",
			servers: []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300")},
			members: []Member{self, mem("v1", StatusFailed, long), mem("v2", StatusFailed, long)},
			want:    []action{remove("v1")},
		},
		{
			name:    "2 voters, 1 failed long ago: none removed",
			servers: []raft.Server{sv, voter("v1", "v1:8300")},
			members: []Member{self, mem("v1", StatusFailed, long)},
		},
		{
			name:    "failed non-voters are removed without the voter cap",
			servers: []raft.Server{sv, voter("v1", "v1:8300"), nonvoter("n1", "n1:8300"), nonvoter("n2", "n2:8300"), nonvoter("n3", "n3:8300")},
			members: []Member{self, mem("v1", StatusFailed, long), mem("n1", StatusFailed, long), mem("n2", StatusFailed, long), mem("n3", StatusFailed, long)},
			want:    []action{remove("n1"), remove("n2"), remove("n3")},
		},
		{
			name:     "server unknown to gossip: missingSince is its failure time (not yet)",
			servers:  []raft.Server{sv, nonvoter("gone", "gone:8300")},
			members:  []Member{self},
			missing:  map[string]time.Time{"gone": planNow.Add(-15 * time.Second)},
			wantWake: 45 * time.Second,
		},
		{
			name:    "server unknown to gossip: removed after the timeout",
			servers: []raft.Server{sv, voter("v1", "v1:8300"), voter("gone", "gone:8300")},
			members: []Member{self, mem("v1", StatusAlive, long)},
			missing: map[string]time.Time{"gone": planNow.Add(-2 * dead)},
			want:    []action{remove("gone")},
		},
		{
			name:    "unknown voters obey the failed-voter cap",
			servers: []raft.Server{sv, voter("g1", "g1:8300"), voter("g2", "g2:8300")},
			members: []Member{self},
			missing: map[string]time.Time{"g1": planNow.Add(-long), "g2": planNow.Add(-long)},
			want:    []action{remove("g1")},
		},
		{
			name:    "self failed long ago is never removed",
			servers: []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300")},
			members: []Member{mem("s0", StatusFailed, long), mem("v1", StatusAlive, long), mem("v2", StatusAlive, long)},
		},
		{
			name:    "self left is never removed",
			servers: []raft.Server{sv, nonvoter("n1", "n1:8300")},
			members: []Member{mem("s0", StatusLeft, long), mem("n1", StatusAlive, 0)},
			want:    nil,
			// n1 waits for stabilization
			wantWake: stab,
		},
		{
			name:    "self leaving is never removed",
			servers: []raft.Server{sv, voter("v1", "v1:8300")},
			members: []Member{leaving(mem("s0", StatusAlive, long)), mem("v1", StatusAlive, long)},
		},
		{
			name:    "self unknown to gossip is never removed",
			servers: []raft.Server{sv},
			members: nil,
			missing: map[string]time.Time{"s0": planNow.Add(-long)},
		},
		{
			name:    "voter's raft address changed: set address, stays voter",
			servers: []raft.Server{sv, voter("v1", "old:8300")},
			members: []Member{self, withRaft(mem("v1", StatusAlive, long), "new:8300")},
			want:    []action{{kind: actSetAddress, id: "v1", addr: "new:8300", voter: true}},
		},
		{
			name:      "non-voter's raft address changed: set address, stays non-voter",
			maxVoters: 1,
			servers:   []raft.Server{sv, nonvoter("n1", "old:8300")},
			members:   []Member{self, withRaft(mem("n1", StatusAlive, long), "new:8300")},
			want:      []action{{kind: actSetAddress, id: "n1", addr: "new:8300", voter: false}},
		},
		{
			name:     "earliest pending event sets the wake",
			servers:  []raft.Server{sv, voter("v1", "v1:8300"), voter("v2", "v2:8300"), nonvoter("n1", "n1:8300")},
			members:  []Member{self, mem("v1", StatusFailed, 30*time.Second), mem("v2", StatusLeft, 0), mem("n1", StatusAlive, 8*time.Second)},
			want:     []action{remove("v2")},
			wantWake: 2 * time.Second,
		},
		{
			name:    "nothing to do",
			servers: []raft.Server{sv, voter("v1", "v1:8300")},
			members: []Member{self, mem("v1", StatusAlive, long)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := policy
			if tc.maxVoters != 0 {
				p.maxVoters = tc.maxVoters
			}
			missing := tc.missing
			if missing == nil {
				missing = map[string]time.Time{}
			}
			got, wake := p.plan(tc.servers, tc.members, missing, planNow)
			for i := range got {
				if got[i].reason == "" {
					t.Errorf("action %v has no reason", got[i])
				}
				got[i].reason = ""
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("actions:\n got %v\nwant %v", got, tc.want)
			}
			if wake != tc.wantWake {
				t.Errorf("wake = %v, want %v", wake, tc.wantWake)
			}
		})
	}
}

// plan must not modify its inputs: the caller reuses missingSince across passes.
func TestReconcilePlanLeavesInputsAlone(t *testing.T) {
	p := reconcilePolicy{self: "s0", maxVoters: 3, stabilization: time.Second, deadServerTimeout: time.Second}
	servers := []raft.Server{voter("s0", "s0:8300"), nonvoter("n1", "n1:8300"), voter("gone", "gone:8300")}
	members := []Member{mem("s0", StatusAlive, time.Hour), mem("n1", StatusAlive, time.Hour), mem("n2", StatusAlive, 0)}
	missing := map[string]time.Time{"gone": planNow.Add(-time.Hour)}
	wantServers := slices.Clone(servers)
	wantMembers := slices.Clone(members)
	p.plan(servers, members, missing, planNow)
	if !slices.Equal(servers, wantServers) {
		t.Errorf("servers changed: %v", servers)
	}
	for i := range members {
		if members[i].ID != wantMembers[i].ID || members[i].Status != wantMembers[i].Status || !members[i].StatusSince.Equal(wantMembers[i].StatusSince) {
			t.Errorf("members changed: %v", members)
		}
	}
	if len(missing) != 1 || !missing["gone"].Equal(planNow.Add(-time.Hour)) {
		t.Errorf("missingSince changed: %v", missing)
	}
}

func TestActionKindString(t *testing.T) {
	for k, want := range map[actionKind]string{
		actAddNonvoter: "add-nonvoter", actSetAddress: "set-address", actPromote: "promote", actRemove: "remove",
	} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", k, got, want)
		}
	}
}
