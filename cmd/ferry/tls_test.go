package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/internal/tlsutil"
)

func TestTLSCommandsWriteASignedAgentCertAndNeverOverwrite(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runFerry(t, "tls", "ca", "create", "--dir", dir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runFerry(t, "tls", "cert", "create", "--dir", dir, "--cluster-id", "shanghai", "--ip", "10.0.1.10", "--dns", "ferry.sh.example.com"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ca-key.pem", "shanghai-key.pem"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", f, err, st.Mode().Perm())
		}
	}
	h, err := tlsutil.Load(tlsutil.Files{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "shanghai.pem"), Key: filepath.Join(dir, "shanghai-key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	if h.ID() != "shanghai" {
		t.Fatalf("certificate names %q", h.ID())
	}
	for _, args := range [][]string{
		{"tls", "ca", "create", "--dir", dir},
		{"tls", "cert", "create", "--dir", dir, "--cluster-id", "shanghai"},
	} {
		if _, _, err := runFerry(t, args...); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("%v: err = %v, want a refusal to overwrite", args, err)
		}
	}
}
