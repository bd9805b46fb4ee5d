package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// WithCA makes c trust the agents' certificates signed by the PEM CA in
// caFile (the group's ca.pem), and speak https to a bare host:port.
func (c *Client) WithCA(caFile string) (*Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
	}
	t := bulkTransport.Clone()
	// An agent's certificate names its cluster (<id>.agent.ferry) and the
	// addresses given at `ferry tls cert create`: the dialled address is
	// checked against those, as for any HTTPS server.
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	hc := *c.http
	hc.Transport = t
	out := *c
	out.http = &hc
	out.base = strings.Replace(out.base, "http://", "https://", 1)
	return &out, nil
}
