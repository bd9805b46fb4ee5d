package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/hashicorp/raft"
)

// Raft's pipelined replication is off: hashicorp/raft v1.7.3's pipeline
// can leave a replication goroutine blocked for ever, and raft.Shutdown
// waiting for it (see raftRPCsInFlight).
func TestRaftTransportDoesNotPipeline(t *testing.T) {
	n := startSingle(t, t.TempDir(), fsm.New())
	defer n.Shutdown()
	p, err := n.trans.AppendEntriesPipeline("other", "127.0.0.1:1")
	if p != nil {
		p.Close()
	}
	if !errors.Is(err, raft.ErrPipelineReplicationNotSupported) {
		t.Fatalf("AppendEntriesPipeline: %v, want ErrPipelineReplicationNotSupported", err)
	}
}

// startGroup starts n agents on loopback ports chosen at run time, founding
// one group (bootstrap-expect n), and waits until one of them leads.
func startGroup(t *testing.T, size int) []*Node {
	t.Helper()
	var nodes []*Node
	t.Cleanup(func() {
		for _, n := range nodes {
			_ = n.Shutdown()
		}
	})
	for i := 0; i < size; i++ {
		id := fmt.Sprintf("agent-%d", i)
		cfg := Config{
			ID: id, Name: id, Version: "test", BindAddr: "127.0.0.1", AdvertiseAddr: "127.0.0.1",
			APIAddr: "127.0.0.1:1", DataDir: t.TempDir(), BootstrapExpect: size, MaxVoters: size, Profile: "lan",
			ServerStabilizationTime: time.Second, DeadServerTimeout: time.Hour, ReconcileInterval: time.Second,
			FSM: fsm.New(), Logger: slog.New(slog.DiscardHandler),
		}
		if i > 0 {
			cfg.Join = []string{nodes[0].GossipAddr()}
		}
		n, err := Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for leaderOf(nodes) == nil {
		if time.Now().After(deadline) {
			t.Fatal("no leader within 30s")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	return nodes
}

func leaderOf(nodes []*Node) *Node {
	for _, n := range nodes {
		if n.IsLeader() {
			return n
		}
	}
	return nil
}

// shutdownWithin fails the test when n.Shutdown does not return within d.
func shutdownWithin(t *testing.T, n *Node, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- n.Shutdown() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: shutdown: %v", n.ID(), err)
		}
	case <-time.After(d):
		t.Fatalf("%s: shutdown did not return within %s", n.ID(), d)
	}
}

// The last agent of a group whose others have stopped, so that it has no
// quorum any more, still stops: as leader with writes in flight, and after
// its leadership lapsed.
func TestShutdownWithoutQuorum(t *testing.T) {
	nodes := startGroup(t, 3)
	leader := leaderOf(nodes)
	applyToken(t, leader, 1)
	var rest []*Node
	for _, n := range nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	for _, n := range rest {
		shutdownWithin(t, n, raftStopTimeout+loopsStopTimeout+gossipStopTimeout)
	}
	// A write that cannot commit any more, waiting on its future while the
	// agent stops: the shutdown answers it.
	cmd, err := fsm.NewCommand(fsm.CmdCreateToken, fsm.Token{
		AccessorID: fsm.NewID(), SecretHash: fsm.HashSecret(fsm.NewID()), Description: "no quorum", Policy: fsm.PolicyRead,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := cmd.Encode()
	applied := make(chan error, 1)
	go func() {
		_, _, err := leader.Apply(b, 0)
		applied <- err
	}()
	shutdownWithin(t, leader, raftStopTimeout+loopsStopTimeout+gossipStopTimeout)
	select {
	case err := <-applied:
		if err == nil {
			t.Fatal("a write without quorum was applied")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write waiting on raft was not answered by the shutdown")
	}
}
