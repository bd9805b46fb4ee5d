package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// aclServer answers the access-key routes and records what it was asked.
func aclServer(t *testing.T) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Auth-Token")+" "+strings.TrimSpace(string(body)))
		mu.Unlock()
		switch {
		case r.Method == "POST" && r.URL.Path == "/v1/acl/access-keys":
			var req map[string]string
			json.Unmarshal(body, &req)
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(map[string]string{"accessKey": "AK0123456789ABCDEFGH", "secretKey": "sk-secret", "description": req["description"], "policy": req["policy"], "createdAt": "2026-12-02T07:24:24Z"})
		case r.Method == "GET" && r.URL.Path == "/v1/acl/access-keys":
			io.WriteString(w, `[{"accessKey":"AK0123456789ABCDEFGH","description":"ci\nrunner","policy":"write","createdAt":"2026-12-02T07:24:24Z"}]`)
		case r.Method == "DELETE" && r.URL.Path == "/v1/acl/access-keys/AK0123456789ABCDEFGH":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"access key \"AKNOPE\" not found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestAccessKeyCLI(t *testing.T) {
	srv, seen := aclServer(t)
	via := []string{"--address", strings.TrimPrefix(srv.URL, "http://"), "--token", "tok"}

	out, stderr, err := runFerry(t, append([]string{"acl", "access-key", "create", "--description", "ci", "--policy", "write"}, via...)...)
	if err != nil || !strings.Contains(out, "AccessKey:  AK0123456789ABCDEFGH\n") || !strings.Contains(out, "SecretKey:  sk-secret\n") || !strings.Contains(stderr, "not shown again") {
		t.Fatalf("create: %q %q %v", out, stderr, err)
	}
	out, _, err = runFerry(t, append([]string{"acl", "access-key", "ls"}, via...)...)
	if err != nil || !strings.HasPrefix(out, "ACCESS KEY") || !strings.Contains(out, "AK0123456789ABCDEFGH") || !strings.Contains(out, "ci runner") || strings.Contains(out, "sk-secret") {
		t.Fatalf("ls: %q %v", out, err)
	}
	if _, _, err := runFerry(t, append([]string{"acl", "access-key", "rm", "AK0123456789ABCDEFGH"}, via...)...); err != nil {
		t.Fatalf("rm: %v", err)
	}
	if _, _, err := runFerry(t, append([]string{"acl", "access-key", "rm", "AKNOPE"}, via...)...); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("rm of a missing key: %v", err)
	}
	want := []string{
		`POST /v1/acl/access-keys tok {"description":"ci","policy":"write"}`,
		`GET /v1/acl/access-keys tok `,
		`DELETE /v1/acl/access-keys/AK0123456789ABCDEFGH tok `,
		`DELETE /v1/acl/access-keys/AKNOPE tok `,
	}
	if strings.Join(*seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(*seen, "\n"), strings.Join(want, "\n"))
	}
	if _, _, err := runFerry(t, "acl", "access-key", "rm"); err == nil {
		t.Fatal("rm without an AK succeeded")
	}
}
