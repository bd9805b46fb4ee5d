package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	gossipKey      = "M3Nxb2h4cWZ5bWVyZ2p3c2x0b3B6YnVhdmtpZW5kY2c=" // 32 bytes
	otherGossipKey = "b3RoZXJrZXlvdGhlcmtleW90aGVya2V5b3RoZXJrZXk=" // 32 bytes
)

func TestGossipEncryptionKeepsStrangersOut(t *testing.T) {
	nodes := startGroup(t, regions[:2], withBootstrapExpect(2), withEncrypt(gossipKey))
	sameLeader(t, 30*time.Second, nodes...)
	if m := membersOf(t, nodes[0]); m[nodes[1].id()].Status != "alive" {
		t.Fatalf("agents sharing the key did not form a pool: %+v", m)
	}

	wrongKey := startNode(t, "wrongkey", withLogs(), withEncrypt(otherGossipKey), withJoin(nodes[0]))
	noKey := startNode(t, "nokey", withLogs(), withJoin(nodes[0]))
	for _, n := range []*node{wrongKey, noKey} {
		eventually(t, 30*time.Second, n.id()+" is refused", func() error {
			if !strings.Contains(n.logs.String(), `"msg":"join failed, retrying"`) {
				return fmt.Errorf("no failed join logged yet")
			}
			return nil
		})
		for _, member := range nodes {
			if m, ok := membersOf(t, member)[n.id()]; ok {
				t.Fatalf("%s lets in %s (%+v) without the gossip key", member.id(), n.id(), m)
			}
		}
	}
	// And the management token is no way around it: the pool is unchanged.
	if got := len(peersOf(t, nodes[0])); got != 2 {
		t.Fatalf("%d peers, want 2", got)
	}
}
