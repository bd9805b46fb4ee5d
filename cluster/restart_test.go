package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// startSingle starts a one-agent group (bootstrap-expect 1) on free ports.
func startSingle(t *testing.T, dir string, state *fsm.FSM) *Node {
	t.Helper()
	n, err := Start(Config{
		ID: "solo", Name: "solo", Version: "test", BindAddr: "127.0.0.1", AdvertiseAddr: "127.0.0.1",
		APIAddr: "127.0.0.1:1", DataDir: dir, BootstrapExpect: 1, MaxVoters: 1, Profile: "lan",
		ServerStabilizationTime: time.Second, DeadServerTimeout: time.Minute, ReconcileInterval: time.Second,
		FSM: state, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !n.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("single agent did not become leader")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	return n
}

func applyToken(t *testing.T, n *Node, i int) {
	t.Helper()
	cmd, err := fsm.NewCommand(fsm.CmdCreateToken, fsm.Token{
		AccessorID: fsm.NewID(), SecretHash: fsm.HashSecret(fsm.NewID()), Description: "t", Policy: fsm.PolicyRead,
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Time = time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)
	b, _ := cmd.Encode()
	if _, resp, err := n.Apply(b, 5*time.Second); err != nil || resp.(fsm.Result).Err != nil {
		t.Fatalf("apply %d: %v %v", i, err, resp)
	}
}

// persisted is the state's snapshot encoding: equal states give equal bytes.
func persisted(t *testing.T, f *fsm.FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink bufferSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	return sink.Bytes()
}

func withoutIndex(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "index")
	return m
}

type bufferSink struct{ bytes.Buffer }

func (*bufferSink) ID() string    { return "buffer" }
func (*bufferSink) Cancel() error { return nil }
func (*bufferSink) Close() error  { return nil }

// A node restarted from its data dir (snapshot plus the log after it) has
// exactly the state it had.
func TestRestartFromSnapshotAndLogRestoresState(t *testing.T) {
	dir := t.TempDir()
	before := fsm.New()
	n := startSingle(t, dir, before)
	for i := range 20 {
		applyToken(t, n, i)
	}
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	for i := 20; i < 30; i++ {
		applyToken(t, n, i)
	}
	want := persisted(t, before)
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}

	after := fsm.New()
	n = startSingle(t, dir, after)
	defer n.Shutdown()
	if err := n.Barrier(context.Background(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// The applied index may move on (a new term); the state may not differ.
	if got := persisted(t, after); !reflect.DeepEqual(withoutIndex(t, got), withoutIndex(t, want)) {
		t.Fatalf("state after restart differs:\n got %s\nwant %s", got, want)
	}
	if len(after.Tokens()) != 30 {
		t.Fatalf("%d tokens after restart, want 30", len(after.Tokens()))
	}
}
