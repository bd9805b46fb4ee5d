package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
)

// --audit-log has one JSON line per state-changing call, with who made it,
// what it named and how it ended; reads are not in it.
func TestAuditLogRecordsEveryWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	n := startNode(t, "shanghai", withBootstrapExpect(1), configure(func(c *config.Config) { c.AuditLog = path }))
	waitReady(t, 30*time.Second, n)
	writer := createToken(t, n, mgmtToken, "write")
	makeRepo(t, n.url(), "", "demo", "files", "GENERIC")
	var projects []any
	getOK(t, n, "/v1/projects", &projects)
	mustStatus(t, call(t, "DELETE", n.url()+"/v1/acl/tokens/"+writer.AccessorID, writer.Secret, nil), http.StatusForbidden, "a write token deleting a token")
	mustStatus(t, call(t, "POST", n.url()+"/v1/projects", "not-a-token", map[string]string{"name": "x"}), http.StatusUnauthorized, "a bad token")

	type line struct{ Caller, Policy, Method, Route, Object, Result, Trace, Agent string }
	var lines []line
	eventually(t, 10*time.Second, "five audit lines", func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		lines = nil
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return fmt.Errorf("not a JSON line: %q", sc.Text())
			}
			lines = append(lines, l)
		}
		if len(lines) < 5 {
			return fmt.Errorf("%d lines", len(lines))
		}
		return nil
	})
	want := []line{
		{Caller: "management", Policy: "admin", Method: "POST", Route: "/v1/acl/tokens", Object: "/v1/acl/tokens", Result: "ok"},
		{Caller: "management", Policy: "admin", Method: "POST", Route: "/v1/projects", Object: "/v1/projects", Result: "ok"},
		{Caller: "management", Policy: "admin", Method: "POST", Route: "/v1/projects/:project/repos", Object: "/v1/projects/demo/repos", Result: "ok"},
		{Caller: "token:" + writer.AccessorID, Policy: "write", Method: "DELETE", Route: "/v1/acl/tokens/:accessor", Object: "/v1/acl/tokens/" + writer.AccessorID, Result: "refused"},
		{Caller: "unauthenticated", Method: "POST", Route: "/v1/projects", Object: "/v1/projects", Result: "refused"},
	}
	if len(lines) != len(want) {
		t.Fatalf("audit lines %+v, want %d", lines, len(want))
	}
	for i, w := range want {
		got := lines[i]
		if got.Trace == "" || got.Agent != "shanghai" {
			t.Errorf("line %d lacks its trace or agent: %+v", i, got)
		}
		got.Trace, got.Agent = "", ""
		if got != w {
			t.Errorf("line %d: %+v, want %+v", i, got, w)
		}
	}
}
