package agent

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/internal/peer"
)

// askTimeout bounds each agent's answer to a fan-out read (/v1/lag's
// outbox depths, /v1/links' counters): a slow region is reported as such
// rather than holding the whole answer.
const askTimeout = 2 * time.Second

// askAgents asks each agent of ids, at once, for what it serves at path
// (an agent-only GET, with the management token); this agent answers
// itself with local. It returns the answers and, for the agents that could
// not be asked, why.
func askAgents[T any](ctx context.Context, a *Agent, ids []string, path string, local func() T) (map[string]T, map[string]error) {
	var mu sync.Mutex
	got, failed := map[string]T{}, map[string]error{}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			v, err := askAgent(ctx, a, id, path, local)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[id] = err
				return
			}
			got[id] = v
		})
	}
	wg.Wait()
	return got, failed
}

func askAgent[T any](ctx context.Context, a *Agent, id, path string, local func() T) (T, error) {
	var v T
	if id == a.cfg.ClusterID {
		return local(), nil
	}
	addr, ok := a.ClusterAPIAddr(id)
	if !ok {
		return v, fmt.Errorf("no API address is known for cluster %q", id)
	}
	ctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	err := a.peers.Do(ctx, peer.Request{Method: http.MethodGet, Addr: addr, Cluster: id, Path: path, Token: a.cfg.Token}, &v)
	return v, err
}

// knownMembers are the ids of the members gossip knows, but those that
// left the group.
func (a *Agent) knownMembers() []string {
	var out []string
	for _, m := range a.node.Members() {
		if m.Status != cluster.StatusLeft {
			out = append(out, m.ID)
		}
	}
	return out
}
