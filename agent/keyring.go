package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
)

// Gossip key rotation. memberlist's keyring is local to each agent, so the
// operator's call on any agent is fanned out to every alive member's
// /v1/internal/keyring (agents only), and the answer says how each fared:
// install a key everywhere, use it everywhere, then remove the old one.

const keyringTimeout = 10 * time.Second

// keyringOps maps a method of /v1/operator/keyring to its change.
var keyringOps = map[string]cluster.KeyringOp{
	http.MethodPost: cluster.KeyInstall, http.MethodPut: cluster.KeyUse, http.MethodDelete: cluster.KeyRemove,
}

type keyringRequest struct {
	Key string `json:"key"`
}

// memberKeys is one member's keyring, or why it could not be read or changed.
type memberKeys struct {
	ID string `json:"id"`
	cluster.LocalKeys
	Error string `json:"error,omitempty"`
}

// keyringAnswer counts, per key, the members that hold it (and use it).
type keyringAnswer struct {
	Keys        map[string]int `json:"keys"`
	PrimaryKeys map[string]int `json:"primaryKeys"`
	NumMembers  int            `json:"numMembers"`
	Members     []memberKeys   `json:"members"`
	// Error names the members that failed, when any did (the answer is
	// then a 500 that still lists every member's result).
	Error string `json:"error,omitempty"`
}

// keyringRoutes mounts the operator's routes and the agents' local one.
func (a *Agent) keyringRoutes(srv *api.Server) {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		srv.Mount(m, "/v1/operator/keyring", fsm.PolicyAdmin, http.HandlerFunc(a.serveKeyring))
		srv.MountForAgents(m, "/v1/internal/keyring", fsm.PolicyAdmin, http.HandlerFunc(a.serveLocalKeyring))
	}
}

func (a *Agent) serveKeyring(w http.ResponseWriter, r *http.Request) {
	req, ok := readKeyringRequest(w, r)
	if !ok {
		return
	}
	// Refuse here what every agent would refuse, before changing any.
	local, err := a.node.Keys()
	switch {
	case err != nil:
		writeKeyringJSON(w, http.StatusBadRequest, api.ErrorBody{Error: err.Error()})
		return
	case r.Method == http.MethodDelete && req.Key == local.Primary:
		writeKeyringJSON(w, http.StatusBadRequest, api.ErrorBody{Error: "the key is the primary: use another key first (PUT), then remove this one"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), keyringTimeout)
	defer cancel()
	ans := a.fanOutKeyring(ctx, r.Method, req)
	status := http.StatusOK
	var failed []string
	for _, m := range ans.Members {
		if m.Error != "" {
			failed = append(failed, m.ID+": "+m.Error)
		}
	}
	if len(failed) > 0 {
		status = http.StatusInternalServerError
		ans.Error = fmt.Sprintf("%d of %d members failed (run the step again once they are back): %s", len(failed), ans.NumMembers, strings.Join(failed, "; "))
	}
	writeKeyringJSON(w, status, ans)
}

func (a *Agent) serveLocalKeyring(w http.ResponseWriter, r *http.Request) {
	req, ok := readKeyringRequest(w, r)
	if !ok {
		return
	}
	keys, err := a.localKeyring(r.Method, req.Key)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, cluster.ErrNoKeyring) || errors.As(err, new(*cluster.KeyError)) {
			status = http.StatusBadRequest
		}
		writeKeyringJSON(w, status, api.ErrorBody{Error: err.Error()})
		return
	}
	writeKeyringJSON(w, http.StatusOK, keys)
}

// localKeyring applies method's change (none for GET) to this agent's keyring.
func (a *Agent) localKeyring(method, key string) (cluster.LocalKeys, error) {
	if op, ok := keyringOps[method]; ok {
		if err := a.node.ChangeKeyring(op, key); err != nil {
			return cluster.LocalKeys{}, err
		}
		a.log.Info("gossip keyring changed", "op", op)
	}
	return a.node.Keys()
}

// fanOutKeyring applies the call on every alive member, this one included.
func (a *Agent) fanOutKeyring(ctx context.Context, method string, req keyringRequest) keyringAnswer {
	var alive []cluster.MemberView
	for _, m := range a.node.Members() {
		if m.Status == cluster.StatusAlive {
			alive = append(alive, m)
		}
	}
	results := make([]memberKeys, len(alive))
	var wg sync.WaitGroup
	for i, m := range alive {
		wg.Go(func() {
			keys, err := a.memberKeyring(ctx, m.Member, method, req)
			results[i] = memberKeys{ID: m.ID, LocalKeys: keys}
			if err != nil {
				results[i].Error = err.Error()
			}
		})
	}
	wg.Wait()
	ans := keyringAnswer{Keys: map[string]int{}, PrimaryKeys: map[string]int{}, NumMembers: len(alive), Members: results}
	for _, m := range results {
		for _, k := range m.Keys {
			ans.Keys[k]++
		}
		if m.Primary != "" {
			ans.PrimaryKeys[m.Primary]++
		}
	}
	return ans
}

func (a *Agent) memberKeyring(ctx context.Context, m cluster.Member, method string, req keyringRequest) (cluster.LocalKeys, error) {
	if m.ID == a.cfg.ClusterID {
		return a.localKeyring(method, req.Key)
	}
	var body io.Reader
	if method != http.MethodGet {
		var err error
		if body, err = peer.JSON(req); err != nil {
			return cluster.LocalKeys{}, err
		}
	}
	var keys cluster.LocalKeys
	err := a.peers.Do(ctx, peer.Request{Method: method, Addr: m.APIAddr, Cluster: m.ID, Path: "/v1/internal/keyring", Body: body, Token: a.cfg.Token}, &keys)
	return keys, err
}

// readKeyringRequest reads the body of a change; a GET has none.
func readKeyringRequest(w http.ResponseWriter, r *http.Request) (keyringRequest, bool) {
	var req keyringRequest
	if r.Method == http.MethodGet {
		return req, true
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil || req.Key == "" {
		writeKeyringJSON(w, http.StatusBadRequest, api.ErrorBody{Error: `the body must be {"key": "<base64 gossip key>"}`})
		return req, false
	}
	return req, true
}

func writeKeyringJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
