package config

import (
	"os"

	"github.com/spf13/pflag"
)

func bindTLSFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.TLSCAFile, "tls-ca-file", c.TLSCAFile, "PEM CA that signs every agent's certificate (with --tls-cert-file and --tls-key-file: HTTPS and mutual TLS)")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", c.TLSCertFile, "PEM certificate of this agent, signed by --tls-ca-file")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", c.TLSKeyFile, "PEM private key of --tls-cert-file")
}

// TLSEnabled reports whether the agent runs with TLS.
func (c Config) TLSEnabled() bool { return c.TLSCAFile != "" }

func (c Config) checkTLS() error {
	files := []struct{ flag, path string }{
		{"tls-ca-file", c.TLSCAFile}, {"tls-cert-file", c.TLSCertFile}, {"tls-key-file", c.TLSKeyFile},
	}
	set := 0
	for _, f := range files {
		if f.path != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		return bad("tls-ca-file", "--tls-ca-file, --tls-cert-file and --tls-key-file go together")
	}
	// Readable now, so that a typo fails the start with the flag's name
	// rather than as a certificate error; their content is checked when the
	// agent loads them (internal/tlsutil).
	for _, f := range files[:set] {
		fh, err := os.Open(f.path)
		if err != nil {
			return bad(f.flag, "cannot be read: %v", err)
		}
		fh.Close()
	}
	return nil
}
