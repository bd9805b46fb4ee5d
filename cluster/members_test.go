package cluster

import (
	"errors"
	"log/slog"
	"maps"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

type tableProbe struct {
	changed   int
	conflicts []error
}

func newTestTable(t *testing.T, self string, probe time.Duration) (*memberTable, *tableProbe) {
	t.Helper()
	p := &tableProbe{}
	tab := newMemberTable(self, slog.New(slog.DiscardHandler), probe,
		func() { p.changed++ },
		func(err error) { p.conflicts = append(p.conflicts, err) })
	return tab, p
}

func gossipNode(t *testing.T, name, ip string, meta nodeMeta) *memberlist.Node {
	t.Helper()
	b, err := meta.encode()
	if err != nil {
		t.Fatal(err)
	}
	return &memberlist.Node{Name: name, Addr: net.ParseIP(ip), Port: 7946, Meta: b, State: memberlist.StateAlive}
}

func metaFor(name string) nodeMeta {
	return nodeMeta{Name: name, API: name + ":8080", Raft: name + ":8300", Version: "1.2.3"}
}

func listed(t *testing.T, tab *memberTable, id string) (Member, bool) {
	t.Helper()
	for _, m := range tab.list() {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// setSince rewinds a member's StatusSince so that a later transition is
// visible without relying on clock resolution.
func setSince(tab *memberTable, id string, since time.Time) {
	tab.mu.Lock()
	tab.members[id].StatusSince = since
	tab.mu.Unlock()
}

func TestMemberTableUpsertCarriesMetadata(t *testing.T) {
	tab, probe := newTestTable(t, "s0", time.Hour)
	meta := nodeMeta{
		Name: "alpha", API: "10.0.0.2:8080", Raft: "10.0.0.2:8300", Version: "1.2.3",
		Expect: 3, HasState: true, Labels: map[string]string{"region": "eu", "rack": "r1"},
	}
	before := time.Now()
	tab.upsert(gossipNode(t, "n1", "10.0.0.2", meta))
	if probe.changed != 1 {
		t.Fatalf("changed called %d times, want 1", probe.changed)
	}
	m, ok := listed(t, tab, "n1")
	if !ok {
		t.Fatal("n1 not listed")
	}
	want := Member{
		ID: "n1", Name: "alpha", APIAddr: "10.0.0.2:8080", RaftAddr: "10.0.0.2:8300", GossipAddr: "10.0.0.2:7946",
		Version: "1.2.3", Labels: meta.Labels, Status: StatusAlive, HasState: true, BootstrapExpect: 3,
	}
	if m.StatusSince.Before(before) {
		t.Errorf("StatusSince %v before upsert %v", m.StatusSince, before)
	}
	m.StatusSince = time.Time{}
	if m.ID != want.ID || m.Name != want.Name || m.APIAddr != want.APIAddr || m.RaftAddr != want.RaftAddr ||
		m.GossipAddr != want.GossipAddr || m.Version != want.Version || !maps.Equal(m.Labels, want.Labels) ||
		m.Status != want.Status || m.HasState != want.HasState || m.BootstrapExpect != want.BootstrapExpect || m.Leaving {
		t.Errorf("member:\n got %+v\nwant %+v", m, want)
	}
	if g, ok := tab.get("n1"); !ok || g.RaftAddr != want.RaftAddr || g.Status != StatusAlive {
		t.Errorf("get(n1) = %+v, %v", g, ok)
	}
	if _, ok := tab.get("nobody"); ok {
		t.Error("get(nobody) found a member")
	}

	// list returns copies: changing them does not change the table.
	m.Labels["region"] = "us"
	if again, _ := listed(t, tab, "n1"); again.Labels["region"] != "eu" {
		t.Errorf("list shares its Labels map with the table")
	}
}

func TestMemberTableTransitions(t *testing.T) {
	tab, probe := newTestTable(t, "s0", time.Hour)
	past := time.Now().Add(-time.Hour)

	tab.upsert(gossipNode(t, "n1", "10.0.0.2", metaFor("n1")))
	setSince(tab, "n1", past)

	// A metadata-only update keeps the status and its start.
	upd := metaFor("n1")
	upd.Raft = "10.9.9.9:8300"
	upd.Labels = map[string]string{"k": "v"}
	tab.upsert(gossipNode(t, "n1", "10.0.0.2", upd))
	m, _ := listed(t, tab, "n1")
	if m.Status != StatusAlive || !m.StatusSince.Equal(past) {
		t.Errorf("after metadata update: status %s since %v, want alive since %v", m.Status, m.StatusSince, past)
	}
	if m.RaftAddr != "10.9.9.9:8300" || m.Labels["k"] != "v" {
		t.Errorf("metadata not updated: %+v", m)
	}
	if probe.changed != 2 {
		t.Errorf("changed called %d times, want 2", probe.changed)
	}

	// Down without a leave announcement is a failure.
	tab.down(gossipNode(t, "n1", "10.0.0.2", metaFor("n1")))
	m, _ = listed(t, tab, "n1")
	if m.Status != StatusFailed || m.StatusSince.Equal(past) {
		t.Errorf("after down: status %s since %v, want failed with a new StatusSince", m.Status, m.StatusSince)
	}
	if m.RaftAddr != "10.9.9.9:8300" {
		t.Errorf("down forgot metadata: %+v", m)
	}
	if probe.changed != 3 {
		t.Errorf("changed called %d times, want 3", probe.changed)
	}

	// Back alive: a new StatusSince.
	setSince(tab, "n1", past)
	tab.upsert(gossipNode(t, "n1", "10.0.0.2", metaFor("n1")))
	m, _ = listed(t, tab, "n1")
	if m.Status != StatusAlive || m.StatusSince.Equal(past) {
		t.Errorf("after rejoin: status %s since %v, want alive with a new StatusSince", m.Status, m.StatusSince)
	}

	// Announced leave, then down: left.
	lv := metaFor("n1")
	lv.Leaving = true
	setSince(tab, "n1", past)
	tab.upsert(gossipNode(t, "n1", "10.0.0.2", lv))
	m, _ = listed(t, tab, "n1")
	if m.Status != StatusAlive || !m.Leaving || !m.StatusSince.Equal(past) {
		t.Errorf("after leave announcement: %+v, want alive, leaving, since unchanged", m)
	}
	tab.down(gossipNode(t, "n1", "10.0.0.2", lv))
	m, _ = listed(t, tab, "n1")
	if m.Status != StatusLeft || m.StatusSince.Equal(past) {
		t.Errorf("after down of a leaving member: status %s since %v, want left with a new StatusSince", m.Status, m.StatusSince)
	}
	if probe.changed != 6 {
		t.Errorf("changed called %d times, want 6", probe.changed)
	}
}

func TestMemberTableDownUnknownIsIgnored(t *testing.T) {
	tab, probe := newTestTable(t, "s0", time.Hour)
	tab.down(gossipNode(t, "ghost", "10.0.0.9", metaFor("ghost")))
	if len(tab.list()) != 0 {
		t.Errorf("down of an unknown node created a member: %+v", tab.list())
	}
	if probe.changed != 0 {
		t.Errorf("changed called %d times, want 0", probe.changed)
	}
}

func TestMemberTableIgnoresNodesWithoutMetadata(t *testing.T) {
	tab, probe := newTestTable(t, "s0", time.Hour)
	for _, meta := range [][]byte{nil, {}, []byte("not json"), []byte{0x82, 0xa1, 0x6e}} {
		tab.upsert(&memberlist.Node{Name: "x", Addr: net.ParseIP("10.0.0.3"), Port: 7946, Meta: meta})
	}
	if got := tab.list(); len(got) != 0 {
		t.Errorf("nodes without Ferry metadata were recorded: %+v", got)
	}
	if probe.changed != 0 {
		t.Errorf("changed called %d times, want 0", probe.changed)
	}

	// A known member whose metadata turns invalid keeps its last good view.
	tab.upsert(gossipNode(t, "n1", "10.0.0.2", metaFor("n1")))
	tab.upsert(&memberlist.Node{Name: "n1", Addr: net.ParseIP("10.0.0.2"), Port: 7946, Meta: []byte("{")})
	if m, _ := listed(t, tab, "n1"); m.RaftAddr != "n1:8300" || m.Status != StatusAlive {
		t.Errorf("invalid metadata changed a member: %+v", m)
	}
	if probe.changed != 1 {
		t.Errorf("changed called %d times, want 1", probe.changed)
	}
}

func TestMemberTableSuspect(t *testing.T) {
	const probe = time.Minute
	tab, _ := newTestTable(t, "s0", probe)
	tab.upsert(gossipNode(t, "s0", "10.0.0.1", metaFor("s0")))
	tab.upsert(gossipNode(t, "n1", "10.0.0.2", metaFor("n1")))
	tab.upsert(gossipNode(t, "n2", "10.0.0.3", metaFor("n2")))
	tab.down(gossipNode(t, "n2", "10.0.0.3", metaFor("n2")))

	setAck := func(id string, ago time.Duration) {
		tab.mu.Lock()
		tab.lastAck[id] = time.Now().Add(-ago)
		tab.mu.Unlock()
	}
	status := func(id string) MemberStatus {
		m, ok := listed(t, tab, id)
		if !ok {
			t.Fatalf("%s not listed", id)
		}
		return m.Status
	}

	// Fresh members are alive.
	for _, id := range []string{"s0", "n1"} {
		if s := status(id); s != StatusAlive {
			t.Errorf("%s: %s, want alive", id, s)
		}
	}

	// Two alive members: suspect after (2*2+1) probe intervals = 5 minutes.
	setAck("s0", 24*time.Hour)
	setAck("n1", 4*time.Minute)
	setAck("n2", 24*time.Hour)
	if s := status("n1"); s != StatusAlive {
		t.Errorf("n1 acked 4m ago: %s, want alive", s)
	}
	setAck("n1", 6*time.Minute)
	if s := status("n1"); s != StatusSuspect {
		t.Errorf("n1 acked 6m ago: %s, want suspect", s)
	}
	if s := status("s0"); s != StatusAlive {
		t.Errorf("self is never suspect, got %s", s)
	}
	if s := status("n2"); s != StatusFailed {
		t.Errorf("failed member shown as %s", s)
	}
	// get reports the stored status, not the derived one.
	if m, _ := tab.get("n1"); m.Status != StatusAlive {
		t.Errorf("get(n1).Status = %s", m.Status)
	}

	// A third alive member widens the window to 7 minutes.
	tab.upsert(gossipNode(t, "n3", "10.0.0.4", metaFor("n3")))
	if s := status("n1"); s != StatusAlive {
		t.Errorf("n1 acked 6m ago with 3 alive: %s, want alive", s)
	}

	// An ack clears suspicion.
	setAck("n1", time.Hour)
	if s := status("n1"); s != StatusSuspect {
		t.Errorf("n1 acked 1h ago: %s, want suspect", s)
	}
	tab.acked("n1")
	if s := status("n1"); s != StatusAlive {
		t.Errorf("n1 just acked: %s, want alive", s)
	}
}

func TestMemberTableSuspectTinyProbe(t *testing.T) {
	tab, _ := newTestTable(t, "s0", time.Nanosecond)
	tab.upsert(gossipNode(t, "s0", "10.0.0.1", metaFor("s0")))
	tab.upsert(gossipNode(t, "n1", "10.0.0.2", metaFor("n1")))
	tab.mu.Lock()
	for id := range tab.lastAck {
		tab.lastAck[id] = time.Now().Add(-time.Second)
	}
	tab.mu.Unlock()
	got := map[string]MemberStatus{}
	for _, m := range tab.list() {
		got[m.ID] = m.Status
	}
	if got["s0"] != StatusAlive || got["n1"] != StatusSuspect {
		t.Errorf("statuses = %v, want s0 alive, n1 suspect", got)
	}
}

func TestMemberTableListSorted(t *testing.T) {
	tab, _ := newTestTable(t, "s0", time.Hour)
	for _, id := range []string{"c", "a", "b"} {
		tab.upsert(gossipNode(t, id, "10.0.0.2", metaFor(id)))
	}
	var ids []string
	for _, m := range tab.list() {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "a,b,c" {
		t.Errorf("list order = %v", ids)
	}
}

func TestMemberTableCheckMerge(t *testing.T) {
	tab, probe := newTestTable(t, "s0", time.Hour)
	tab.upsert(gossipNode(t, "s0", "10.0.0.1", metaFor("s0")))
	tab.upsert(gossipNode(t, "n1", "10.0.0.2", metaFor("n1")))
	tab.upsert(gossipNode(t, "n2", "10.0.0.3", metaFor("n2")))
	tab.down(gossipNode(t, "n2", "10.0.0.3", metaFor("n2")))

	peer := func(name, ip string, state memberlist.NodeStateType) *memberlist.Node {
		return &memberlist.Node{Name: name, Addr: net.ParseIP(ip), Port: 7946, State: state}
	}

	// Our own id, alive elsewhere: we are the duplicate.
	err := tab.checkMerge([]*memberlist.Node{peer("x", "10.0.1.1", memberlist.StateAlive), peer("s0", "10.0.0.99", memberlist.StateAlive)})
	if err == nil || !strings.Contains(err.Error(), "already used") || !strings.Contains(err.Error(), "10.0.0.99:7946") {
		t.Errorf("own id elsewhere: err = %v, want 'already used' naming 10.0.0.99:7946", err)
	}
	if len(probe.conflicts) != 1 || !errors.Is(probe.conflicts[0], err) {
		t.Errorf("conflict callback got %v, want exactly the returned error", probe.conflicts)
	}

	// Suspect counts as alive.
	if err := tab.checkMerge([]*memberlist.Node{peer("s0", "10.0.0.99", memberlist.StateSuspect)}); err == nil {
		t.Error("own id suspect elsewhere: err = nil")
	}
	if len(probe.conflicts) != 2 {
		t.Errorf("conflict callback called %d times, want 2", len(probe.conflicts))
	}

	conflicts := len(probe.conflicts)
	for _, tc := range []struct {
		name    string
		peers   []*memberlist.Node
		wantErr bool
	}{
		{"own id at our address", []*memberlist.Node{peer("s0", "10.0.0.1", memberlist.StateAlive)}, false},
		{"known id at its address", []*memberlist.Node{peer("n1", "10.0.0.2", memberlist.StateAlive)}, false},
		{"unknown ids", []*memberlist.Node{peer("z1", "10.0.5.1", memberlist.StateAlive), peer("z2", "10.0.5.2", memberlist.StateAlive)}, false},
		{"own id dead elsewhere", []*memberlist.Node{peer("s0", "10.0.0.99", memberlist.StateDead)}, false},
		{"own id left elsewhere", []*memberlist.Node{peer("s0", "10.0.0.99", memberlist.StateLeft)}, false},
		{"other known id dead elsewhere", []*memberlist.Node{peer("n1", "10.0.0.99", memberlist.StateDead)}, false},
		{"failed member's id elsewhere", []*memberlist.Node{peer("n2", "10.0.0.99", memberlist.StateAlive)}, false},
		{"other known alive id elsewhere", []*memberlist.Node{peer("n1", "10.0.0.99", memberlist.StateAlive)}, true},
		{"empty", nil, false},
	} {
		err := tab.checkMerge(tc.peers)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want error %v", tc.name, err, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "already used") {
			t.Errorf("%s: err = %v, want 'already used'", tc.name, err)
		}
	}
	if len(probe.conflicts) != conflicts {
		t.Errorf("conflict callback called for another agent's id: %v", probe.conflicts[conflicts:])
	}
}

func TestMemberTableReap(t *testing.T) {
	tab, _ := newTestTable(t, "s0", time.Hour)
	long := time.Now().Add(-2 * time.Hour)
	for _, id := range []string{"alive-old", "failed-old", "left-old", "failed-new", "left-new"} {
		meta := metaFor(id)
		meta.Leaving = strings.HasPrefix(id, "left")
		tab.upsert(gossipNode(t, id, "10.0.0.2", meta))
		if !strings.HasPrefix(id, "alive") {
			tab.down(gossipNode(t, id, "10.0.0.2", meta))
		}
	}
	for _, id := range []string{"alive-old", "failed-old", "left-old"} {
		setSince(tab, id, long)
	}
	tab.reap(time.Hour)

	var ids []string
	for _, m := range tab.list() {
		ids = append(ids, m.ID+"="+string(m.Status))
	}
	if got, want := strings.Join(ids, ","), "alive-old=alive,failed-new=failed,left-new=left"; got != want {
		t.Errorf("after reap: %s, want %s", got, want)
	}
	tab.mu.Lock()
	_, ackFailed := tab.lastAck["failed-old"]
	_, ackLeft := tab.lastAck["left-old"]
	tab.mu.Unlock()
	if ackFailed || ackLeft {
		t.Error("reap kept lastAck of forgotten members")
	}
}
