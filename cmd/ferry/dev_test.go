package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestDevBannerNamesTheDashboard(t *testing.T) {
	for _, c := range []struct {
		tlsDir, want string
	}{{"", "Dashboard: http://127.0.0.1:7710/ui/"}, {"/tmp/tls", "Dashboard: https://127.0.0.1:7710/ui/"}} {
		var out bytes.Buffer
		printDevBanner(&out, 7710, "tok", true, "/tmp/data", c.tlsDir)
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("tls dir %q: the banner lacks %q:\n%s", c.tlsDir, c.want, out.String())
		}
	}
}
