package integration

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"
)

type keyringAnswer struct {
	Keys        map[string]int `json:"keys"`
	PrimaryKeys map[string]int `json:"primaryKeys"`
	NumMembers  int            `json:"numMembers"`
	Members     []struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	} `json:"members"`
}

func newGossipKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// keyring calls /v1/operator/keyring on n and wants status.
func keyring(t *testing.T, n *node, method, key string, status int) keyringAnswer {
	t.Helper()
	var body any
	if key != "" {
		body = map[string]string{"key": key}
	}
	r := call(t, method, n.url()+"/v1/operator/keyring", mgmtToken, body)
	mustStatus(t, r, status, method+" keyring")
	var ans keyringAnswer
	if status == http.StatusOK {
		r.decode(t, &ans)
	}
	return ans
}

func TestKeyringRotationWithoutDowntime(t *testing.T) {
	old := newGossipKey(t)
	nodes := startGroup(t, regions, withEncrypt(old))
	sameLeader(t, 30*time.Second, nodes...)
	eventually(t, 30*time.Second, "all members alive", func() error { return allAlive(t, nodes) })

	ans := keyring(t, nodes[1], "GET", "", http.StatusOK)
	if ans.NumMembers != 3 || ans.Keys[old] != 3 || ans.PrimaryKeys[old] != 3 {
		t.Fatalf("keyring before rotation: %+v", ans)
	}
	next := newGossipKey(t)
	ans = keyring(t, nodes[1], "POST", next, http.StatusOK)
	if ans.Keys[next] != 3 || ans.PrimaryKeys[old] != 3 {
		t.Fatalf("after install: %+v", ans)
	}
	keyring(t, nodes[2], "DELETE", old, http.StatusBadRequest) // still the primary
	ans = keyring(t, nodes[2], "PUT", next, http.StatusOK)
	if ans.PrimaryKeys[next] != 3 {
		t.Fatalf("after use: %+v", ans)
	}
	ans = keyring(t, nodes[0], "DELETE", old, http.StatusOK)
	if ans.Keys[old] != 0 || ans.Keys[next] != 3 {
		t.Fatalf("after remove: %+v", ans)
	}
	// Gossip goes on with the new key alone.
	eventually(t, 30*time.Second, "all members alive on the new key", func() error { return allAlive(t, nodes) })
	sameLeader(t, 30*time.Second, nodes...)
}

func TestKeyringWithoutEncryptionIsABadRequest(t *testing.T) {
	n := startNode(t, "solo", withBootstrapExpect(1))
	waitReady(t, 30*time.Second, n)
	keyring(t, n, "GET", "", http.StatusBadRequest)
	mustStatus(t, call(t, "GET", n.url()+"/v1/operator/keyring", "", nil), http.StatusUnauthorized, "keyring without a token")
}

func allAlive(t *testing.T, nodes []*node) error {
	for _, n := range nodes {
		for id, m := range membersOf(t, n) {
			if m.Status != "alive" {
				return fmt.Errorf("%s sees %s %s", n.id(), id, m.Status)
			}
		}
	}
	return nil
}
