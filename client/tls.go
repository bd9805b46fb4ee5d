package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// WithCA is c trusting the agents' certificates signed by the PEM CA in
// caFile (the group's ca.pem), speaking https to a bare host:port. When
// caFile cannot be read every call of the client fails with why.
func (c *Client) WithCA(caFile string) *Client {
	out := *c
	pool, err := readCA(caFile)
	if err != nil {
		out.err = err
		return &out
	}
	t := bulkTransport.Clone()
	// An agent's certificate names its cluster (<id>.agent.ferry) and the
	// addresses given at `ferry tls cert create`: the dialled address is
	// checked against those, as for any HTTPS server.
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	hc := *c.http
	hc.Transport = t
	out.http = &hc
	out.base = strings.Replace(out.base, "http://", "https://", 1)
	return &out
}

func readCA(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	return pool, nil
}
