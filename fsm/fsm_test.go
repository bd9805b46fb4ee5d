package fsm

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// applier feeds commands to an FSM the way raft does, with growing indexes.
type applier struct {
	f     *FSM
	index uint64
}

func (a *applier) apply(t *testing.T, cmd Command) Result {
	t.Helper()
	b, err := cmd.Encode()
	if err != nil {
		t.Fatal(err)
	}
	a.index++
	r, ok := a.f.Apply(&raft.Log{Index: a.index, Type: raft.LogCommand, Data: b}).(Result)
	if !ok {
		t.Fatalf("Apply returned %T, want Result", r)
	}
	return r
}

func command(t *testing.T, typ CommandType, at time.Time, payload any) Command {
	t.Helper()
	c, err := NewCommand(typ, payload)
	if err != nil {
		t.Fatal(err)
	}
	c.Time = at
	return c
}

func token(id, secret string, p Policy) Token {
	return Token{AccessorID: id, SecretHash: HashSecret(secret), Description: "for " + id, Policy: p}
}

// populated returns an FSM holding clusters and tokens built through Apply.
func populated(t *testing.T) (*FSM, *applier) {
	a := &applier{f: New()}
	for i, id := range []string{"shanghai", "beijing", "guangzhou"} {
		rec := ClusterRecord{ID: id, Name: "Region " + id, Labels: map[string]string{"geo": "cn", "n": id}, APIAddr: "127.0.0.1:77" + string(rune('1'+i)) + "0"}
		if r := a.apply(t, command(t, CmdRegisterCluster, t0.Add(time.Duration(i)*time.Second), rec)); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	for i, p := range []Policy{PolicyRead, PolicyWrite, PolicyAdmin} {
		tok := token(NewID(), "secret-"+string(p), p)
		if r := a.apply(t, command(t, CmdCreateToken, t0.Add(time.Duration(10+i)*time.Second), tok)); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	for i, p := range []Policy{PolicyRead, PolicyAdmin} {
		k := accessKey(NewAccessKeyID(), p)
		if r := a.apply(t, command(t, CmdCreateAccessKey, t0.Add(time.Duration(20+i)*time.Second), k)); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return a.f, a
}

type memSink struct {
	bytes.Buffer
	canceled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.canceled = true; return nil }
func (s *memSink) Close() error  { return nil }

func persist(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	return sink.Bytes()
}

func TestSnapshotRestoreGivesIdenticalState(t *testing.T) {
	f, _ := populated(t)
	data := persist(t, f)

	g := New()
	if err := g.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.s, g.s) {
		t.Fatalf("restored state differs:\n got %+v\nwant %+v", g.s, f.s)
	}
	if f.AppliedIndex() != g.AppliedIndex() {
		t.Fatalf("applied index: got %d want %d", g.AppliedIndex(), f.AppliedIndex())
	}
	if again := persist(t, g); !bytes.Equal(data, again) {
		t.Fatalf("snapshot of the restored state differs from the original snapshot")
	}
}

func TestRestoreReplacesAllState(t *testing.T) {
	empty := persist(t, New())
	f, _ := populated(t)
	if err := f.Restore(io.NopCloser(bytes.NewReader(empty))); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Clusters()) + len(f.Tokens()) + len(f.AccessKeys()); n != 0 {
		t.Fatalf("after restoring an empty snapshot %d objects remain", n)
	}
}

func TestSnapshotIsIsolatedFromLaterWrites(t *testing.T) {
	f, a := populated(t)
	snap, _ := f.Snapshot()
	a.apply(t, command(t, CmdDeregisterCluster, t0.Add(time.Minute), DeregisterCluster{ID: "beijing"}))
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	var d snapshotData
	if err := json.Unmarshal(sink.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Clusters) != 3 {
		t.Fatalf("snapshot taken before the delete holds %d clusters, want 3", len(d.Clusters))
	}
}

func TestRestoreRejectsUnknownFormat(t *testing.T) {
	err := New().Restore(io.NopCloser(bytes.NewReader([]byte(`{"format":99}`))))
	if err == nil {
		t.Fatal("restore of an unknown snapshot format succeeded")
	}
}

func TestCommandIDIsAppliedOnce(t *testing.T) {
	a := &applier{f: New()}
	cmd := command(t, CmdCreateToken, t0, token("acc-1", "s1", PolicyRead))
	if r := a.apply(t, cmd); r.Err != nil || r.Duplicate {
		t.Fatalf("first apply: %+v", r)
	}
	del := command(t, CmdDeleteToken, t0.Add(time.Second), DeleteToken{AccessorID: "acc-1"})
	if r := a.apply(t, del); r.Err != nil {
		t.Fatal(r.Err)
	}
	// A retry of the create (same id, e.g. after ErrLeadershipLost) must not
	// resurrect the deleted token, and a retried delete is not an error.
	if r := a.apply(t, cmd); !r.Duplicate || r.Err != nil {
		t.Fatalf("retried create: %+v, want duplicate", r)
	}
	if r := a.apply(t, del); !r.Duplicate || r.Err != nil {
		t.Fatalf("retried delete: %+v, want duplicate", r)
	}
	if _, ok := a.f.Token("acc-1"); ok {
		t.Fatal("retried create resurrected the token")
	}
}

func TestIdempotencyWindowIsPrunedByCommandTime(t *testing.T) {
	a := &applier{f: New()}
	old := command(t, CmdCreateToken, t0, token("acc-old", "s-old", PolicyRead))
	a.apply(t, old)
	a.apply(t, command(t, CmdCreateToken, t0.Add(2*idempotencyWindow), token("acc-new", "s-new", PolicyRead)))
	if _, ok := a.f.s.applied[old.ID]; ok {
		t.Fatal("an id older than the window is still remembered")
	}
	if len(a.f.s.appliedOrder) != 1 {
		t.Fatalf("appliedOrder has %d entries, want 1", len(a.f.s.appliedOrder))
	}
}

func TestIdempotencyMemoryIsBounded(t *testing.T) {
	s := newState()
	for i := range maxRememberedIDs + 10 {
		s.remember(NewID(), uint64(i+1), t0)
	}
	if len(s.applied) != maxRememberedIDs || len(s.appliedOrder) != maxRememberedIDs {
		t.Fatalf("remembers %d/%d ids, cap is %d", len(s.applied), len(s.appliedOrder), maxRememberedIDs)
	}
	if s.appliedOrder[0].Index != 11 {
		t.Fatalf("oldest remembered index %d, want 11 (the oldest are dropped first)", s.appliedOrder[0].Index)
	}
}

func TestRefusalsComeBackAsResults(t *testing.T) {
	a := &applier{f: New()}
	a.apply(t, command(t, CmdCreateToken, t0, token("acc-1", "s1", PolicyRead)))
	before := persist(t, a.f)

	unknown := command(t, CmdCreateToken, t0, nil)
	unknown.Type = "no.such"
	future := command(t, CmdCreateToken, t0, token("acc-2", "s2", PolicyRead))
	future.Version = 99
	cases := []struct {
		name string
		cmd  Command
		kind ErrorKind
	}{
		{"duplicate accessor", command(t, CmdCreateToken, t0, token("acc-1", "other", PolicyRead)), KindConflict},
		{"duplicate secret", command(t, CmdCreateToken, t0, token("acc-3", "s1", PolicyRead)), KindConflict},
		{"bad policy", command(t, CmdCreateToken, t0, token("acc-4", "s4", "root")), KindInvalid},
		{"description too long", command(t, CmdCreateToken, t0, Token{AccessorID: "acc-5", SecretHash: HashSecret("s5"), Policy: PolicyRead, Description: strings.Repeat("x", MaxTokenDescription+1)}), KindInvalid},
		{"missing token", command(t, CmdDeleteToken, t0, DeleteToken{AccessorID: "nope"}), KindNotFound},
		{"missing cluster", command(t, CmdDeregisterCluster, t0, DeregisterCluster{ID: "nope"}), KindNotFound},
		{"unknown type", unknown, KindInvalid},
		{"future version", future, KindInvalid},
	}
	for _, c := range cases {
		r := a.apply(t, c.cmd)
		if KindOf(r.Err) != c.kind {
			t.Errorf("%s: got %v (kind %q), want kind %q", c.name, r.Err, KindOf(r.Err), c.kind)
		}
	}
	b, _ := a.f.Apply(&raft.Log{Index: 100, Type: raft.LogCommand, Data: []byte("{not json")}).(Result)
	if KindOf(b.Err) != KindInvalid {
		t.Errorf("garbage log entry: got %v", b.Err)
	}
	// Refusals change nothing but the applied index.
	after := persist(t, a.f)
	var x, y snapshotData
	json.Unmarshal(before, &x)
	json.Unmarshal(after, &y)
	x.Index, y.Index = 0, 0
	if !reflect.DeepEqual(x, y) {
		t.Fatalf("refused commands changed the state:\nbefore %+v\nafter  %+v", x, y)
	}
}

func TestRegisterKeepsCreationTime(t *testing.T) {
	a := &applier{f: New()}
	a.apply(t, command(t, CmdRegisterCluster, t0, ClusterRecord{ID: "x", APIAddr: "a:1"}))
	a.apply(t, command(t, CmdRegisterCluster, t0.Add(time.Hour), ClusterRecord{ID: "x", APIAddr: "a:2"}))
	r, _ := a.f.Cluster("x")
	if !r.CreatedAt.Equal(t0) || !r.UpdatedAt.Equal(t0.Add(time.Hour)) || r.APIAddr != "a:2" {
		t.Fatalf("got %+v", r)
	}
}

func TestTokenLookupBySecret(t *testing.T) {
	f, _ := populated(t)
	tok, ok := f.TokenBySecret("secret-write")
	if !ok || tok.Policy != PolicyWrite {
		t.Fatalf("lookup by secret: %+v %v", tok, ok)
	}
	if _, ok := f.TokenBySecret("secret-wrong"); ok {
		t.Fatal("a wrong secret found a token")
	}
}

func TestPolicyAllows(t *testing.T) {
	cases := []struct {
		have, need Policy
		ok         bool
	}{
		{PolicyAdmin, PolicyWrite, true}, {PolicyWrite, PolicyWrite, true}, {PolicyRead, PolicyWrite, false},
		{PolicyWrite, PolicyAdmin, false}, {"", PolicyRead, false}, {"bogus", PolicyRead, false},
	}
	for _, c := range cases {
		if got := c.have.Allows(c.need); got != c.ok {
			t.Errorf("%q allows %q = %v, want %v", c.have, c.need, got, c.ok)
		}
	}
}

func TestWaitForIndex(t *testing.T) {
	a := &applier{f: New()}
	done := make(chan error, 1)
	go func() { done <- a.f.WaitForIndex(context.Background(), 2) }()
	a.apply(t, command(t, CmdCreateToken, t0, token("a", "1", PolicyRead)))
	a.apply(t, command(t, CmdCreateToken, t0, token("b", "2", PolicyRead)))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.f.WaitForIndex(ctx, 10); err == nil {
		t.Fatal("waiting for an index that never comes returned nil after cancel")
	}
}

func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte(`{"type":"token.create","v":1,"id":"x","time":"2026-01-01T00:00:00Z","payload":{}}`))
	f.Add([]byte(`{"type":"","id":""}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cmd, err := DecodeCommand(b)
		if err != nil {
			return
		}
		// Whatever decodes must apply without panicking.
		fsm := New()
		enc, _ := cmd.Encode()
		fsm.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: enc})
	})
}

// A refusal crosses a forward with its field and reason, and still reads to
// an agent of an older version, which knew only kind and message.
func TestErrorOnTheWire(t *testing.T) {
	b, err := json.Marshal(FieldError("name", "it is required"))
	if err != nil || !strings.Contains(string(b), `"message":"name is required"`) {
		t.Fatalf("%s %v", b, err)
	}
	var back Error
	if err := json.Unmarshal(b, &back); err != nil || back != *FieldError("name", "it is required") {
		t.Fatalf("read back %+v %v", back, err)
	}
	var old Error
	if err := json.Unmarshal([]byte(`{"kind":"conflict","message":"task k already exists"}`), &old); err != nil ||
		old.Kind != KindConflict || old.Error() != "task k already exists" {
		t.Fatalf("older agent's error: %+v %v", old, err)
	}
}
