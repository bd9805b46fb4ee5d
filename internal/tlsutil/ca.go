package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Validity of what this package creates: the CA outlives many agent
// certificates, which an operator renews (and reloads with SIGHUP) yearly.
const (
	CAValidity    = 10 * 365 * 24 * time.Hour
	AgentValidity = 365 * 24 * time.Hour
)

// PEMPair is a certificate and its private key, PEM encoded.
type PEMPair struct {
	Cert []byte
	Key  []byte
}

// CreateCA creates a self-signed ECDSA P-256 CA.
func CreateCA(commonName string) (PEMPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return PEMPair{}, err
	}
	tmpl, err := template(commonName, CAValidity)
	if err != nil {
		return PEMPair{}, err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return PEMPair{}, err
	}
	return encodePair(der, key)
}

// AgentCert is what an agent certificate names besides its identity.
type AgentCert struct {
	ClusterID string
	IPs       []net.IP
	DNSNames  []string
}

// CreateAgentCert creates cluster c.ClusterID's agent certificate, signed
// by ca, valid for server and client authentication.
func CreateAgentCert(ca PEMPair, c AgentCert) (PEMPair, error) {
	if c.ClusterID == "" {
		return PEMPair{}, errors.New("an agent certificate needs a cluster id")
	}
	signer, err := tls.X509KeyPair(ca.Cert, ca.Key)
	if err != nil {
		return PEMPair{}, fmt.Errorf("CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(signer.Certificate[0])
	if err != nil {
		return PEMPair{}, fmt.Errorf("CA: %w", err)
	}
	if !caCert.IsCA {
		return PEMPair{}, errors.New("CA: the certificate is not a CA")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return PEMPair{}, err
	}
	tmpl, err := template(AgentName(c.ClusterID), AgentValidity)
	if err != nil {
		return PEMPair{}, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tmpl.DNSNames = append([]string{AgentName(c.ClusterID)}, c.DNSNames...)
	tmpl.IPAddresses = c.IPs
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, signer.PrivateKey)
	if err != nil {
		return PEMPair{}, err
	}
	return encodePair(der, key)
}

func template(cn string, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(validity), // a minute of clock skew
	}, nil
}

func encodePair(der []byte, key *ecdsa.PrivateKey) (PEMPair, error) {
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return PEMPair{}, err
	}
	return PEMPair{
		Cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}),
	}, nil
}
