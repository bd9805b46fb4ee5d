package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
)

// errNotAgent refuses a verified certificate that names no agent.
var errNotAgent = errors.New("tls: the peer's certificate is not an agent certificate")

// agentSuffix ends every agent identity name.
const agentSuffix = ".agent.ferry"

// AgentName is the DNS name a cluster's agent certificate carries.
func AgentName(clusterID string) string { return clusterID + agentSuffix }

// AgentID is the identity of the agent whose certificate the peer presented
// and the handshake verified; false without a verified agent certificate
// (no certificate, or one that names no agent).
func AgentID(cs *tls.ConnectionState) (string, bool) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return "", false
	}
	return idOf(cs.VerifiedChains[0][0])
}

// idOf is the agent identity a certificate names.
func idOf(leaf *x509.Certificate) (string, bool) {
	for _, n := range leaf.DNSNames {
		if id, ok := strings.CutSuffix(n, agentSuffix); ok && id != "" && !strings.Contains(id, ".") {
			return id, true
		}
	}
	return "", false
}

// names reports whether leaf is the certificate of cluster id's agent.
func names(leaf *x509.Certificate, id string) bool {
	got, ok := idOf(leaf)
	return ok && got == id
}

// PeerIs reports whether the peer of a client connection presented the
// certificate of cluster id's agent. The chain was verified at handshake;
// callers use it on answers over pooled connections, which were verified
// for whichever agent first opened them.
func PeerIs(cs *tls.ConnectionState, id string) bool {
	return cs != nil && len(cs.PeerCertificates) > 0 && names(cs.PeerCertificates[0], id)
}
