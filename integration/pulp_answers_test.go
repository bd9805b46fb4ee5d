package integration

import (
	"testing"
	"time"
)

// pulpNode is one agent, its own leader: a region's Pulp server.
func pulpNode(t *testing.T) *node {
	n := startGroup(t, regions[:1])[0]
	sameLeader(t, 30*time.Second, n)
	return n
}

// A content action other than install, update and uninstall is Pulp's
// view's own 400: the plain text "bad request", not an error body.
func TestPulpUnknownContentActionIsBadRequest(t *testing.T) {
	n := pulpNode(t)
	pulpOK(t, n, "POST", "/consumers/", `{"id": "c1"}`, 201, nil)
	for _, c := range []string{"c1", "nobody"} {
		status, raw, ct := pulpCall(t, n, "POST", "/consumers/"+c+"/actions/content/reinstall/", mgmtToken, `{"units": [], "options": {}}`)
		if status != 400 || string(raw) != "bad request" || ct != "text/plain; charset=utf-8" {
			t.Fatalf("consumer %s: %d %q %s", c, status, raw, ct)
		}
	}
}
