package cluster

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// RaftTLS makes Raft run over mutual TLS: Server for the connections this
// agent accepts (it must require an agent certificate), Client(id) for the
// ones it dials, refusing a peer that is not cluster id's agent (any agent
// of the CA when id is ""). Both read the agent's current certificate on
// every handshake.
type RaftTLS struct {
	Server *tls.Config
	Client func(expectID string) *tls.Config
}

// tlsStreamLayer is streamLayer with every connection in TLS. Raft dials
// an address; peerID says whose it is, as gossip knows (a new member's
// first dial, before gossip has it, takes any agent of the CA).
type tlsStreamLayer struct {
	*streamLayer
	tls    *RaftTLS
	peerID func(addr string) string
}

// Accept wraps the next connection; its handshake runs on first read, in
// the transport's goroutine for that connection, so that one slow peer
// holds up no other.
func (s *tlsStreamLayer) Accept() (net.Conn, error) {
	c, err := s.streamLayer.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(c, s.tls.Server), nil
}

func (s *tlsStreamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", string(addr), s.tls.Client(s.peerID(string(addr))))
}

// raftLayer is the stream layer of cfg: in TLS when cfg asks for it.
func raftLayer(l *streamLayer, cfg *RaftTLS, peerID func(string) string) raft.StreamLayer {
	if cfg == nil {
		return l
	}
	return &tlsStreamLayer{streamLayer: l, tls: cfg, peerID: peerID}
}

// raftPeerID is the id of the member at a Raft address, "" when unknown.
func (n *Node) raftPeerID(addr string) string {
	if t := n.raftPeers.Load(); t != nil {
		return t.byRaftAddr(addr)
	}
	return ""
}
