package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLeaveCLI(t *testing.T) {
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.Method + " " + r.URL.Path + " " + r.Header.Get("X-Auth-Token")
		if r.Header.Get("X-Auth-Token") != "tok" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"error":"token policy \"read\" does not allow this; it needs \"admin\""}`)
			return
		}
		io.WriteString(w, `{"left":true}`)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	out, _, err := runFerry(t, "leave", "--address", addr, "--token", "tok")
	if err != nil || asked != "PUT /v1/agent/leave tok" || !strings.Contains(out, "left the group") {
		t.Fatalf("leave: %q %q %v", out, asked, err)
	}
	if _, _, err := runFerry(t, "leave", "--address", addr, "--token", "weak"); err == nil || !strings.Contains(err.Error(), "admin") {
		t.Fatalf("leave refused: %v", err)
	}
}
