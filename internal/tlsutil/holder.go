package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
)

// Files are where an agent's CA, certificate and key live.
type Files struct {
	CA, Cert, Key string
}

// Holder holds the CA pool and key pair loaded from Files. The tls.Configs
// it builds read them on every handshake, so Reload changes what new
// connections present and accept while open ones keep theirs.
type Holder struct {
	files Files

	mu   sync.RWMutex
	cert *tls.Certificate
	pool *x509.CertPool
}

// Load reads files into a new Holder.
func Load(files Files) (*Holder, error) {
	h := &Holder{files: files}
	if err := h.Reload(); err != nil {
		return nil, err
	}
	return h, nil
}

// Reload reads the files again. On an error the pair loaded before stays.
func (h *Holder) Reload() error {
	caPEM, err := os.ReadFile(h.files.CA)
	if err != nil {
		return fmt.Errorf("tls CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("tls CA %s: no PEM certificate in it", h.files.CA)
	}
	cert, err := tls.LoadX509KeyPair(h.files.Cert, h.files.Key)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	if _, ok := idOf(cert.Leaf); !ok {
		return fmt.Errorf("tls certificate %s names no agent (DNS <cluster-id>%s); create it with `ferry tls cert create`", h.files.Cert, agentSuffix)
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("tls certificate %s is not signed by %s: %w", h.files.Cert, h.files.CA, err)
	}
	h.mu.Lock()
	h.cert, h.pool = &cert, pool
	h.mu.Unlock()
	return nil
}

// ID is the agent identity the current certificate names.
func (h *Holder) ID() string {
	id, _ := idOf(h.current().Leaf)
	return id
}

func (h *Holder) current() *tls.Certificate {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.cert
}

// Pool is the current CA pool.
func (h *Holder) Pool() *x509.CertPool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.pool
}

// GetCertificate is tls.Config's server callback.
func (h *Holder) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return h.current(), nil
}

// GetClientCertificate is tls.Config's client callback.
func (h *Holder) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return h.current(), nil
}
