package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Pulp 2's API (api/pulp) on real agents.

// pulpCall sends a request under /pulp/api/v2 with Basic credentials whose
// password is token (none if ""), and returns the status, the JSON body as
// read, and the Content-Type.
func pulpCall(t testing.TB, n *node, method, path, token string, body string) (int, json.RawMessage, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.url()+"/pulp/api/v2"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.SetBasicAuth("admin", token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp.Header.Get("Content-Type")
}

func TestPulpStatusAndUnknownURLs(t *testing.T) {
	nodes := replicationGroup(t)
	f := follower(t, nodes)
	for _, path := range []string{"/status/", "/status"} {
		status, raw, ct := pulpCall(t, f, "GET", path, "", "")
		var s struct {
			APIVersion string `json:"api_version"`
			Versions   struct {
				Platform string `json:"platform_version"`
			} `json:"versions"`
			Workers []struct {
				Name string `json:"name"`
			} `json:"known_workers"`
		}
		if status != 200 || ct != "application/json; charset=utf-8" || json.Unmarshal(raw, &s) != nil || s.APIVersion != "2" ||
			!strings.HasPrefix(s.Versions.Platform, "2.") || len(s.Workers) != 3 {
			t.Fatalf("GET %s: %d %s %s", path, status, ct, raw)
		}
	}
	// An unknown URL is 404 with the body null; a method a path does not
	// take 405, empty.
	if status, raw, _ := pulpCall(t, f, "GET", "/nope/", mgmtToken, ""); status != 404 || strings.TrimSpace(string(raw)) != "null" {
		t.Fatalf("unknown URL: %d %s", status, raw)
	}
	if status, raw, _ := pulpCall(t, f, "DELETE", "/status/", mgmtToken, ""); status != 405 || len(raw) != 0 {
		t.Fatalf("wrong method: %d %s", status, raw)
	}
}
