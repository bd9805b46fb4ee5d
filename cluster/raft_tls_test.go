package cluster

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/tlsutil"
	"github.com/hashicorp/raft"
)

// agentHolder writes a CA's certificate for id into dir and loads it.
func agentHolder(t *testing.T, dir string, ca tlsutil.PEMPair, id string) *tlsutil.Holder {
	t.Helper()
	p, err := tlsutil.CreateAgentCert(ca, tlsutil.AgentCert{ClusterID: id, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	files := tlsutil.Files{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, id+".pem"), Key: filepath.Join(dir, id+"-key.pem")}
	if err := tlsutil.WritePair(p, files.Cert, files.Key); err != nil {
		t.Fatal(err)
	}
	h, err := tlsutil.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Raft dials an address: the agent gossip says is there must answer, not
// another agent of the same CA; an address gossip does not know yet takes
// any agent of the CA.
func TestRaftDialChecksWhoseAddressItIs(t *testing.T) {
	dir := t.TempDir()
	ca, err := tlsutil.CreateCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsutil.WritePair(ca, filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")); err != nil {
		t.Fatal(err)
	}
	guangzhou, shanghai := agentHolder(t, dir, ca, "guangzhou"), agentHolder(t, dir, ca, "shanghai")
	l, err := listenRaft("127.0.0.1", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	server := raftLayer(l, &RaftTLS{Server: guangzhou.ServerConfig(tlsutil.AgentCertRequired), Client: guangzhou.ClientConfig}, func(string) string { return "" })
	t.Cleanup(func() { server.Close() })
	go func() {
		for {
			c, err := server.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = c.Read(make([]byte, 1)); c.Close() }() // the handshake runs on the first read
		}
	}()
	addr := raft.ServerAddress(l.Addr().String())
	for whose, ok := range map[string]bool{"guangzhou": true, "": true, "beijing": false} {
		dialer := raftLayer(&streamLayer{}, &RaftTLS{Server: shanghai.ServerConfig(tlsutil.AgentCertRequired), Client: shanghai.ClientConfig}, func(string) string { return whose })
		c, err := dialer.Dial(addr, 5*time.Second)
		if err == nil {
			c.Close()
		}
		if (err == nil) != ok {
			t.Errorf("dialling guangzhou's address, known as %q's: %v", whose, err)
		}
	}
}
