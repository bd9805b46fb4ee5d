package cluster

import (
	"log/slog"
	"testing"

	"github.com/hashicorp/memberlist"
)

func TestBootstrapRefusesMoreAgentsThanExpected(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	table := newMemberTable("a", log, 0, func() {}, func(error) {})
	for i, id := range []string{"a", "b", "c"} {
		meta, _ := nodeMeta{Name: id, API: "127.0.0.1:1", Raft: "127.0.0.1:2", Expect: 2}.encode()
		table.upsert(&memberlist.Node{Name: id, Addr: []byte{127, 0, 0, byte(i + 1)}, Port: 7701, Meta: meta})
	}
	// raft is nil: reaching BootstrapCluster would panic.
	n := &Node{cfg: Config{ID: "a", BootstrapExpect: 2}, log: log, members: table}
	if n.maybeBootstrap() {
		t.Fatal("bootstrapped (or gave up) with 3 agents seen and bootstrap-expect 2")
	}
	if n.hasState.Load() {
		t.Fatal("claims Raft state without bootstrapping")
	}
}
