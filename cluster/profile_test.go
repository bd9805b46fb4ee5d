package cluster

import (
	"log/slog"
	"testing"

	"github.com/hashicorp/raft"
)

func TestRaftProfiles(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	lan := raftConfig("a", "lan", log, nil)
	wan := raftConfig("a", "wan", log, nil)
	def := raft.DefaultConfig()
	if lan.HeartbeatTimeout != def.HeartbeatTimeout || lan.ElectionTimeout != def.ElectionTimeout {
		t.Fatalf("lan changes raft's default timeouts: %v %v", lan.HeartbeatTimeout, lan.ElectionTimeout)
	}
	if wan.HeartbeatTimeout != 5*def.HeartbeatTimeout || wan.ElectionTimeout != 5*def.ElectionTimeout || wan.LeaderLeaseTimeout != 5*def.LeaderLeaseTimeout {
		t.Fatalf("wan timeouts not scaled: %v %v %v", wan.HeartbeatTimeout, wan.ElectionTimeout, wan.LeaderLeaseTimeout)
	}
	for _, c := range []*raft.Config{lan, wan} {
		if c.ShutdownOnRemove {
			t.Fatal("ShutdownOnRemove must be off: a removed agent stays up to rejoin")
		}
		if c.CommitTimeout >= c.HeartbeatTimeout/10 {
			t.Fatalf("commit timeout %v is not short", c.CommitTimeout)
		}
		if err := raft.ValidateConfig(c); err != nil {
			t.Fatalf("invalid raft config: %v", err)
		}
	}
}
