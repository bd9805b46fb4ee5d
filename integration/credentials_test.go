package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A token limited to a project reaches that project only, in every
// dialect, each refusing the others in its own words (403; Pulp's 401
// permission_denied); it cannot mint a
// credential wider than itself, nor write another project through a
// follower or straight at the leader. A token with a TTL made with the CLI
// works until it expires, is refused with 401 from then on and leaves the
// state.
func TestScopedAndExpiringCredentials(t *testing.T) {
	nodes := replicationGroup(t)
	sh := nodes[0]
	for _, p := range []string{"demo", "other"} {
		makeRepo(t, sh.url(), "", p, "r", "GENERIC")
	}
	theirs := createTask(t, sh, map[string]any{"name": "theirs", "localProjectId": "other", "sourceClusterId": "shanghai", "replicaObjectType": "REPOSITORY",
		"replicaTaskObjects": []map[string]any{{"localRepoName": "r", "remoteProjectId": "other", "remoteRepoName": "r", "repoType": "GENERIC"}},
		"replicaType":        "SCHEDULED", "remoteClusterIds": []string{"beijing"},
		"setting": map[string]any{"executionStrategy": "CRON_EXPRESSION", "executionPlan": map[string]any{"cronExpression": "0 0 0 1 1 ?"}}})
	ociImage(t, sh, "other/app", "v1", []byte("their layer"))

	// The CLI makes a write token limited to demo that expires in a minute.
	out := runFerry(t, ferryBinary(t), 0, "acl", "token", "create", "--policy", "write", "--project", "demo", "--ttl", "1m",
		"--address", strings.TrimPrefix(sh.url(), "http://"), "--token", mgmtToken)
	m := regexp.MustCompile(`Secret:\s+(\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "Projects:   demo") {
		t.Fatalf("ferry acl token create: %s", out)
	}
	scoped := m[1]

	// Native: its project yes, the other no; lists show its own only.
	mustStatus(t, call(t, "GET", sh.url()+"/v1/projects/demo/repos", scoped, nil), http.StatusOK, "its project's repos")
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/projects/other/repos"}, {"GET", "/v1/projects/other/repos/r/nodes"}, {"GET", "/v1/tasks/" + theirs.Key}, {"DELETE", "/v1/tasks/" + theirs.Key},
	} {
		mustStatus(t, call(t, c.method, sh.url()+c.path, scoped, nil), http.StatusForbidden, c.method+" "+c.path)
	}
	mustStatus(t, call(t, "POST", sh.url()+"/v1/runs", scoped, repoSpec("other", "r", "GENERIC", "beijing")), http.StatusForbidden, "a run of another project")
	mustStatus(t, call(t, "POST", follower(t, nodes).url()+"/v1/runs", scoped, repoSpec("demo", "r", "GENERIC", "beijing")), http.StatusAccepted, "a run of its project through a follower")
	if r := call(t, "POST", follower(t, nodes).url()+"/v1/runs", scoped, repoSpec("other", "r", "GENERIC", "beijing")); r.status != http.StatusForbidden {
		t.Errorf("a run of another project through a follower: %d %s", r.status, r.body)
	}
	var projects []struct{ Name string }
	call(t, "GET", sh.url()+"/v1/projects", scoped, nil).decode(t, &projects)
	if len(projects) != 1 || projects[0].Name != "demo" {
		t.Errorf("projects it lists: %+v", projects)
	}
	var tasks struct{ Records []taskView }
	call(t, "GET", sh.url()+"/v1/tasks", scoped, nil).decode(t, &tasks)
	if len(tasks.Records) != 0 {
		t.Errorf("it lists another project's tasks: %+v", tasks.Records)
	}
	// Straight at the leader, the forwarding route checks the scope too.
	leader := sameLeader(t, 30*time.Second, nodes...)
	for _, n := range nodes {
		if n.id() == leader.ID {
			r := call(t, "POST", n.url()+"/v1/internal/apply", scoped, map[string]any{"type": "task.delete", "v": 1, "id": "forged", "payload": map[string]string{"key": theirs.Key}})
			mustStatus(t, r, http.StatusForbidden, "a forged delete of another project's task")
		}
	}
	// No credential wider than itself.
	mustStatus(t, call(t, "POST", sh.url()+"/v1/acl/tokens", createScopedAdmin(t, sh), map[string]any{"policy": "read"}), http.StatusForbidden, "an unlimited token made by a limited one")

	dialectsRefuseOtherProjects(t, sh, scoped, theirs.Key)

	expiresEverywhere(t, nodes, scoped)
}

// createScopedAdmin is an admin token limited to demo.
func createScopedAdmin(t *testing.T, n *node) string {
	t.Helper()
	var tok token
	r := call(t, "POST", n.url()+"/v1/acl/tokens", mgmtToken, map[string]any{"policy": "admin", "projects": []string{"demo"}, "description": "demo admin"})
	mustStatus(t, r, http.StatusCreated, "a limited admin token")
	r.decode(t, &tok)
	return tok.Secret
}

// dialectsRefuseOtherProjects: bk-repo, Pulp, OCI and SWR refuse a token
// limited to demo on project other, each in its own words.
func dialectsRefuseOtherProjects(t *testing.T, sh *node, scoped, theirTask string) {
	t.Helper()
	bkFails(t, sh, "GET", "/task/info/"+theirTask, scoped, nil, http.StatusForbidden, 250113, "Access denied: ")
	// Pulp 2 answers a permission refused with 401 PLP0026 permission_denied.
	if status, body, _ := pulpCall(t, sh, "GET", "/repositories/", scoped, ""); status != http.StatusUnauthorized || !strings.Contains(string(body), `"permission_denied"`) {
		t.Errorf("Pulp: %d %s", status, body)
	}
	if r := ociCall(t, sh, "GET", "/v2/other/app/tags/list", scoped, nil, nil); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "DENIED") {
		t.Errorf("OCI: %d %s", r.status, r.body)
	}
	swrFails(t, sh, "GET", "/v2/manage/namespaces/other/repos/app/tags", scoped, nil, http.StatusForbidden, "SVCSTG.SWR.4039002")
}

// expiresEverywhere waits for the token to expire: then it is 401 on every
// agent, and the leader prunes it from the state.
func expiresEverywhere(t *testing.T, nodes []*node, scoped string) {
	t.Helper()
	sh := nodes[0]
	eventually(t, 90*time.Second, "the token expired", func() error {
		if r := call(t, "GET", sh.url()+"/v1/projects/demo/repos", scoped, nil); r.status != http.StatusUnauthorized {
			return fmt.Errorf("%d", r.status)
		}
		return nil
	})
	for _, n := range nodes {
		if r := call(t, "GET", n.url()+"/v1/tasks", scoped, nil); r.status != http.StatusUnauthorized {
			t.Errorf("%s answered an expired token %d", n.id(), r.status)
		}
	}
	eventually(t, 30*time.Second, "the expired token pruned", func() error {
		var toks []struct {
			ExpirationTime time.Time `json:"expirationTime"`
		}
		r := call(t, "GET", sh.url()+"/v1/acl/tokens", mgmtToken, nil)
		if err := json.Unmarshal(r.body, &toks); err != nil {
			return err
		}
		for _, tok := range toks {
			if !tok.ExpirationTime.IsZero() {
				return fmt.Errorf("still listed: %s", r.body)
			}
		}
		return nil
	})
}
