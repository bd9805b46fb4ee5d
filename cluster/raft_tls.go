package cluster

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// RaftTLS makes Raft run over mutual TLS: Server for the connections this
// agent accepts (it must require an agent certificate), Client for the ones
// it dials. Both read the agent's current certificate on every handshake.
type RaftTLS struct {
	Server *tls.Config
	Client *tls.Config
}

// tlsStreamLayer is streamLayer with every connection in TLS.
type tlsStreamLayer struct {
	*streamLayer
	tls *RaftTLS
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
	return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", string(addr), s.tls.Client)
}

// raftLayer is the stream layer of cfg: in TLS when cfg asks for it.
func raftLayer(l *streamLayer, cfg *RaftTLS) raft.StreamLayer {
	if cfg == nil {
		return l
	}
	return &tlsStreamLayer{streamLayer: l, tls: cfg}
}
