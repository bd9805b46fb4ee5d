package tlsutil

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"
)

// ClientAuth says what a server asks of its clients.
type ClientAuth int

const (
	// ClientCertOptional verifies a client certificate when one is sent:
	// the HTTP API, where curl and registry clients come without one and
	// routes for agents only check AgentID.
	ClientCertOptional ClientAuth = iota
	// AgentCertRequired refuses a handshake without an agent certificate
	// signed by the CA: Raft.
	AgentCertRequired
)

// ServerConfig is the tls.Config of a listener. It is built per handshake
// so that a reloaded CA applies to new connections too.
func (h *Holder) ServerConfig(auth ClientAuth) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			c := &tls.Config{
				MinVersion: tls.VersionTLS12, GetCertificate: h.GetCertificate,
				ClientCAs: h.Pool(), ClientAuth: tls.VerifyClientCertIfGiven,
			}
			if auth == AgentCertRequired {
				c.ClientAuth = tls.RequireAndVerifyClientCert
				c.VerifyConnection = func(cs tls.ConnectionState) error {
					if _, ok := AgentID(&cs); !ok {
						return errNotAgent
					}
					return nil
				}
			}
			return c, nil
		},
	}
}

// ClientConfig is the tls.Config of a call to an agent: the peer must
// present an agent certificate signed by the CA and, when expectID is not
// empty, the certificate of that cluster's agent. Verification is done here
// rather than by crypto/tls so that it follows the CA Reload loaded and
// checks the agent name instead of the dialled host.
func (h *Holder) ClientConfig(expectID string) *tls.Config {
	return &tls.Config{
		MinVersion:           tls.VersionTLS12,
		GetClientCertificate: h.GetClientCertificate,
		InsecureSkipVerify:   true, // VerifyConnection below verifies the chain
		VerifyConnection: func(cs tls.ConnectionState) error {
			return h.verifyPeer(cs, expectID)
		},
	}
}

func (h *Holder) verifyPeer(cs tls.ConnectionState, expectID string) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("tls: %w", errNotAgent)
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: h.Pool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		return fmt.Errorf("tls: peer certificate: %w", err)
	}
	id, ok := idOf(leaf)
	switch {
	case !ok:
		return errNotAgent
	case expectID != "" && id != expectID:
		return fmt.Errorf("tls: the peer is agent %q, not %q's", id, expectID)
	}
	return nil
}

type expectKey struct{}

// ExpectAgent makes the calls made with ctx over a transport using
// DialTLSContext refuse a peer other than cluster id's agent.
func ExpectAgent(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, expectKey{}, id)
}

func expected(ctx context.Context) string {
	id, _ := ctx.Value(expectKey{}).(string)
	return id
}

// DialTLSContext is an http.Transport's DialTLSContext for calls to agents:
// it dials with dialer and handshakes with ClientConfig of the agent that
// ExpectAgent put in ctx, if any.
func (h *Holder) DialTLSContext(dialer *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := tls.Client(raw, h.ClientConfig(expected(ctx)))
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		defer cancel()
		if err := conn.HandshakeContext(hctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
}

// handshakeTimeout bounds a TLS handshake with a peer that accepted the
// connection but does not answer.
const handshakeTimeout = 10 * time.Second
