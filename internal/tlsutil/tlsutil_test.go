package tlsutil

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeAgent writes a CA (unless dir has one) and id's certificate in dir.
func writeAgent(t *testing.T, dir, id string) Files {
	t.Helper()
	caCert, caKey := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	if _, err := os.Stat(caCert); err != nil {
		ca, err := CreateCA("test CA")
		if err != nil {
			t.Fatal(err)
		}
		if err := WritePair(ca, caCert, caKey); err != nil {
			t.Fatal(err)
		}
	}
	ca, err := ReadPair(caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	p, err := CreateAgentCert(ca, AgentCert{ClusterID: id, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	f := Files{CA: caCert, Cert: filepath.Join(dir, id+".pem"), Key: filepath.Join(dir, id+"-key.pem")}
	os.Remove(f.Cert)
	os.Remove(f.Key)
	if err := WritePair(p, f.Cert, f.Key); err != nil {
		t.Fatal(err)
	}
	return f
}

func load(t *testing.T, f Files) *Holder {
	t.Helper()
	h, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// server serves the id of the calling agent, or "none".
func server(t *testing.T, h *Holder, auth ClientAuth) string {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := AgentID(r.TLS)
		if !ok {
			id = "none"
		}
		io.WriteString(w, id)
	}))
	srv.TLS = h.ServerConfig(auth)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func get(h *Holder, addr, expect string) (string, error) {
	tr := &http.Transport{DialTLSContext: h.DialTLSContext(&net.Dialer{})}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ExpectAgent(context.Background(), expect), http.MethodGet, "https://"+addr+"/", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestMutualTLSNamesTheAgent(t *testing.T) {
	dir := t.TempDir()
	a, b := load(t, writeAgent(t, dir, "shanghai")), load(t, writeAgent(t, dir, "beijing"))
	addr := server(t, a, ClientCertOptional)
	got, err := get(b, addr, "shanghai")
	if err != nil || got != "beijing" {
		t.Fatalf("call = %q, %v; want beijing", got, err)
	}
	if _, err := get(b, addr, "guangzhou"); err == nil || !strings.Contains(err.Error(), `not "guangzhou"`) {
		t.Fatalf("wrong cluster id: err = %v, want a refusal", err)
	}
}

func TestOtherCARefused(t *testing.T) {
	a := load(t, writeAgent(t, t.TempDir(), "shanghai"))
	stranger := load(t, writeAgent(t, t.TempDir(), "beijing"))
	// The stranger refuses the server's certificate.
	if _, err := get(stranger, server(t, a, ClientCertOptional), ""); err == nil {
		t.Fatal("a server certificate from another CA was accepted")
	}
	// The server refuses the stranger's client certificate, even where one
	// is optional.
	for _, auth := range []ClientAuth{ClientCertOptional, AgentCertRequired} {
		addr := server(t, a, auth)
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, GetClientCertificate: stranger.GetClientCertificate})
		if err == nil {
			_, err = conn.Read(make([]byte, 1)) // TLS 1.3: the refusal comes after the client's Finished
			conn.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("auth %d: client certificate from another CA: err = %v", auth, err)
		}
	}
}

func TestAgentCertRequired(t *testing.T) {
	a := load(t, writeAgent(t, t.TempDir(), "shanghai"))
	conn, err := tls.Dial("tcp", server(t, a, AgentCertRequired), &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Fatal("a client without a certificate was accepted")
	}
}

func TestReloadServesTheNewCert(t *testing.T) {
	dir := t.TempDir()
	f := writeAgent(t, dir, "shanghai")
	h := load(t, f)
	addr := server(t, h, ClientCertOptional)
	before := servedSerial(t, addr)
	writeAgent(t, dir, "shanghai") // a new certificate, same CA
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	after := servedSerial(t, addr)
	if before == after {
		t.Fatalf("serial %s served after Reload; want the new certificate", after)
	}
	if want := h.current().Leaf.SerialNumber.String(); after != want {
		t.Fatalf("served %s, loaded %s", after, want)
	}
}

func TestReloadKeepsPairOnError(t *testing.T) {
	dir := t.TempDir()
	f := writeAgent(t, dir, "shanghai")
	h := load(t, f)
	if err := os.WriteFile(f.Cert, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.Reload(); err == nil {
		t.Fatal("Reload of a broken certificate succeeded")
	}
	if h.ID() != "shanghai" {
		t.Fatalf("ID = %q after a failed reload", h.ID())
	}
}

func TestWriteNewRefusesOverwrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.pem")
	if err := WriteNew(p, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteNew(p, []byte("b"), 0o600); err == nil {
		t.Fatal("overwrote an existing file")
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
}

func servedSerial(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}
