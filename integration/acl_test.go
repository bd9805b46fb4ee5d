package integration

import (
	"encoding/base64"
	"fmt"
	"github.com/ferrysync/ferry/config"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTokenCreatedThroughFollowerIsUsableEverywhere(t *testing.T) {
	nodes := startGroup(t, regions)
	leader := sameLeader(t, 30*time.Second, nodes...)
	follower := followerOf(nodes, leader.ID)

	tok := createToken(t, follower, mgmtToken, "write")
	if tok.Policy != "write" || tok.Description != "test write" {
		t.Fatalf("created token: %+v", tok)
	}
	// Read-your-writes: the follower that took the write knows the token at once.
	if r := call(t, "GET", follower.url()+"/v1/members", tok.Secret, nil); r.status != http.StatusOK {
		t.Fatalf("new token on the follower that created it: %d %s", r.status, r.body)
	}
	// Every other agent accepts it once it has applied the write.
	for _, n := range nodes {
		eventually(t, 10*time.Second, "token usable on "+n.id(), func() error {
			if r := call(t, "GET", n.url()+"/v1/status/peers", tok.Secret, nil); r.status != http.StatusOK {
				return fmt.Errorf("%d %s", r.status, r.body)
			}
			return nil
		})
	}
	// The secret is shown once: listings never carry it, and it is stored hashed.
	r := call(t, "GET", nodes[2].url()+"/v1/acl/tokens?consistent", mgmtToken, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), tok.AccessorID) || strings.Contains(string(r.body), tok.Secret) {
		t.Fatalf("token listing: %d %s", r.status, r.body)
	}
}

func TestAuthentication(t *testing.T) {
	nodes := startGroup(t, regions[:1], withBootstrapExpect(1))
	n := nodes[0]
	sameLeader(t, 30*time.Second, n)
	read := createToken(t, n, mgmtToken, "read")
	write := createToken(t, n, mgmtToken, "write")
	admin := createToken(t, n, mgmtToken, "admin")

	members := n.url() + "/v1/members"
	tokens := n.url() + "/v1/acl/tokens"
	basic := func(tok string) func(http.Header) {
		return func(h http.Header) {
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("anyone:"+tok)))
		}
	}
	xauth := func(tok string) func(http.Header) { return func(h http.Header) { h.Set("X-Auth-Token", tok) } }
	none := func(http.Header) {}
	newToken := map[string]string{"description": "d", "policy": "read"}

	cases := []struct {
		name   string
		method string
		url    string
		auth   func(http.Header)
		body   any
		want   int
	}{
		{"no token", "GET", members, none, nil, http.StatusUnauthorized},
		{"wrong token", "GET", members, xauth("not-a-token"), nil, http.StatusUnauthorized},
		{"wrong bearer", "GET", members, bearer("not-a-token"), nil, http.StatusUnauthorized},
		{"read via X-Auth-Token", "GET", members, xauth(read.Secret), nil, http.StatusOK},
		{"read via Bearer", "GET", members, bearer(read.Secret), nil, http.StatusOK},
		{"read via Basic password", "GET", members, basic(read.Secret), nil, http.StatusOK},
		{"management token via Basic", "GET", tokens, basic(mgmtToken), nil, http.StatusOK},
		{"read token cannot list tokens", "GET", tokens, xauth(read.Secret), nil, http.StatusForbidden},
		{"write token cannot create tokens", "POST", tokens, xauth(write.Secret), newToken, http.StatusForbidden},
		{"admin token creates tokens", "POST", tokens, xauth(admin.Secret), newToken, http.StatusCreated},
		{"health is open", "GET", n.url() + "/v1/health", none, nil, http.StatusOK},
		{"metrics are open", "GET", n.url() + "/metrics", none, nil, http.StatusOK},
		{"no redirect behind the middleware", "GET", members + "/", xauth(read.Secret), nil, http.StatusNotFound},
		{"internal apply needs a token", "POST", n.url() + "/v1/internal/apply", none, map[string]any{}, http.StatusUnauthorized},
	}
	for _, c := range cases {
		r, err := tryCall(c.method, c.url, c.auth, c.body)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, r.status, r.body, c.want)
		}
		if r.status >= 400 && r.errorMessage() == "" {
			t.Errorf("%s: error body is not {\"error\": ...}: %s", c.name, r.body)
		}
		if r.header.Get("X-Trace-Id") == "" {
			t.Errorf("%s: no trace id header", c.name)
		}
	}

	// A deleted token stops working.
	if r := call(t, "DELETE", tokens+"/"+read.AccessorID, mgmtToken, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete token: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", members, read.Secret, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("deleted token still works: %d", r.status)
	}
	if r := call(t, "DELETE", tokens+"/"+read.AccessorID, mgmtToken, nil); r.status != http.StatusNotFound {
		t.Fatalf("deleting a missing token: %d %s", r.status, r.body)
	}
}

func TestBadTokenRequestsChangeNothing(t *testing.T) {
	nodes := startGroup(t, regions[:1], withBootstrapExpect(1))
	n := nodes[0]
	sameLeader(t, 30*time.Second, n)
	url := n.url() + "/v1/acl/tokens"
	before := call(t, "GET", url, mgmtToken, nil)

	bad := []struct {
		name string
		body string
	}{
		{"unknown policy", `{"description":"x","policy":"root"}`},
		{"missing policy", `{"description":"x"}`},
		{"unknown field", `{"description":"x","policy":"read","secret":"mine"}`},
		{"not JSON", `{"description":`},
		{"empty body", ``},
		{"trailing data", `{"policy":"read"} {}`},
		{"description too long", `{"policy":"read","description":"` + strings.Repeat("x", 300) + `"}`},
	}
	for _, c := range bad {
		req, _ := http.NewRequest("POST", url, strings.NewReader(c.body))
		req.Header.Set("X-Auth-Token", mgmtToken)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", c.name, resp.StatusCode)
		}
	}
	// A forwarded command that only the leader's own loops may propose is refused.
	r := call(t, "POST", n.url()+"/v1/internal/apply", mgmtToken, map[string]any{
		"type": "cluster.register", "v": 1, "id": "x", "payload": map[string]string{"id": "evil"},
	})
	if r.status != http.StatusForbidden {
		t.Errorf("internal-only command through the API: %d %s", r.status, r.body)
	}
	after := call(t, "GET", url, mgmtToken, nil)
	if string(before.body) != string(after.body) {
		t.Fatalf("bad requests changed the tokens:\nbefore %s\nafter  %s", before.body, after.body)
	}
	var recs []map[string]any
	call(t, "GET", n.url()+"/v1/clusters", mgmtToken, nil).decode(t, &recs)
	for _, rec := range recs {
		if rec["id"] == "evil" {
			t.Fatal("an internal-only command was applied")
		}
	}
}

func TestNoAuthServesWithoutTokens(t *testing.T) {
	n := startNode(t, "open", withBootstrapExpect(1), configure(func(c *config.Config) { c.NoAuth, c.Token = true, "" }))
	sameLeader(t, 30*time.Second, n)
	if r := call(t, "POST", n.url()+"/v1/acl/tokens", "", map[string]string{"policy": "read"}); r.status != http.StatusCreated {
		t.Fatalf("write without a token under --no-auth: %d %s", r.status, r.body)
	}
}

// A write token reaches no scheduler internals through the forwarding
// route: a forged firing of a cron task's far slot (which would stop it
// firing) and a forged run report are refused; a forged author is
// replaced by the caller's identity.
func TestAUserTokenCannotForgeAgentCommands(t *testing.T) {
	nodes := replicationGroup(t)
	sh := nodes[0]
	makeRepo(t, sh.url(), "", "proj", "r", "GENERIC")
	cron := createTask(t, sh, taskBody("cron", "CRON_EXPRESSION", map[string]any{"cronExpression": "0 0 * * * ?"}, "beijing"))
	writer := createToken(t, sh, mgmtToken, "write")
	leader := sameLeader(t, 30*time.Second, nodes...)
	var ln *node
	for _, n := range nodes {
		if n.id() == leader.ID {
			ln = n
		}
	}
	forge := func(typ string, payload any) response {
		return call(t, "POST", ln.url()+"/v1/internal/apply", writer.Secret, map[string]any{"type": typ, "v": 1, "id": "forged-" + typ, "payload": payload})
	}
	if r := forge("task.fire", map[string]any{"key": cron.Key, "runId": "forged", "trigger": "SCHEDULED", "slot": "9999-01-01T00:00:00Z", "by": "scheduler"}); r.status != http.StatusForbidden {
		t.Errorf("a forged scheduler firing: %d %s", r.status, r.body)
	}
	if r := forge("run.finish", map[string]any{"id": "x", "executor": "shanghai", "state": "SUCCESS"}); r.status != http.StatusForbidden {
		t.Errorf("a forged run report: %d %s", r.status, r.body)
	}
	var v struct {
		LastSlot time.Time `json:"lastSlot"`
	}
	getOK(t, sh, "/v1/tasks/"+cron.Key, &v)
	if v.LastSlot.Year() == 9999 {
		t.Fatal("the forged slot stopped the cron task")
	}
	spec := repoSpec("proj", "r", "GENERIC", "beijing")
	r := forge("run.create", map[string]any{"id": "forged-run", "trigger": "MANUAL", "spec": spec, "createdBy": "management"})
	mustStatus(t, r, http.StatusOK, "a run created through the forwarding route")
	var run struct {
		CreatedBy string `json:"createdBy"`
	}
	eventually(t, 10*time.Second, "the run on shanghai", func() error {
		if r := call(t, "GET", sh.url()+"/v1/runs/forged-run", mgmtToken, nil); r.status != http.StatusOK {
			return fmt.Errorf("%d", r.status)
		}
		return nil
	})
	getOK(t, sh, "/v1/runs/forged-run", &run)
	if run.CreatedBy != "token:"+writer.AccessorID {
		t.Errorf("the run's createdBy is %q, want the caller's token:%s", run.CreatedBy, writer.AccessorID)
	}
}
