package agent

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/internal/tlsutil"
)

// setupTLS loads the agent's certificates when the configuration names
// them and puts the agent-to-agent transports on mutual TLS. Without TLS
// it leaves everything in the clear.
func (a *Agent) setupTLS() error {
	a.scheme = "http"
	if !a.cfg.TLSEnabled() {
		return nil
	}
	h, err := tlsutil.Load(tlsutil.Files{CA: a.cfg.TLSCAFile, Cert: a.cfg.TLSCertFile, Key: a.cfg.TLSKeyFile})
	if err != nil {
		return err
	}
	if id := h.ID(); id != a.cfg.ClusterID {
		return fmt.Errorf("tls certificate %s is agent %s's, not %s's (create one with `ferry tls cert create --cluster-id %s`)", a.cfg.TLSCertFile, id, a.cfg.ClusterID, a.cfg.ClusterID)
	}
	a.tls, a.scheme = h, "https"
	a.peers.Scheme = a.scheme
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	for _, t := range []*http.Transport{a.client.Transport.(*http.Transport), a.bulk} {
		t.DialTLSContext = h.DialTLSContext(dialer)
	}
	return nil
}

// tlsListener serves ln in TLS when the agent runs with it: HTTPS only, a
// client certificate verified when given (agents send theirs, curl does not).
func (a *Agent) tlsListener(ln net.Listener) net.Listener {
	if a.tls == nil {
		return ln
	}
	return tlsutil.NewListener(ln, a.tls.ServerConfig(tlsutil.ClientCertOptional))
}

// raftTLS is Raft's mutual TLS, nil without TLS.
func (a *Agent) raftTLS() *cluster.RaftTLS {
	if a.tls == nil {
		return nil
	}
	return &cluster.RaftTLS{Server: a.tls.ServerConfig(tlsutil.AgentCertRequired), Client: a.tls.ClientConfig}
}

// ReloadTLS reads the CA, certificate and key files again (on SIGHUP): new
// connections, on every port, use them; open ones keep theirs.
func (a *Agent) ReloadTLS() error {
	if a.tls == nil {
		err := errors.New("this agent runs without TLS: nothing to reload")
		a.log.Warn("tls reload", "err", err)
		return err
	}
	if err := a.tls.Reload(); err != nil {
		a.log.Error("tls reload failed; keeping the certificates loaded before", "err", err)
		return err
	}
	if id := a.tls.ID(); id != a.cfg.ClusterID {
		a.log.Warn("reloaded tls certificate names another agent", "cert_id", id)
	}
	a.log.Info("tls certificates reloaded", "cert", a.cfg.TLSCertFile)
	return nil
}
