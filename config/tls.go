package config

import "github.com/spf13/pflag"

func bindTLSFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.TLSCAFile, "tls-ca-file", c.TLSCAFile, "PEM CA that signs every agent's certificate (with --tls-cert-file and --tls-key-file: HTTPS and mutual TLS)")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", c.TLSCertFile, "PEM certificate of this agent, signed by --tls-ca-file")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", c.TLSKeyFile, "PEM private key of --tls-cert-file")
}

// TLSEnabled reports whether the agent runs with TLS.
func (c Config) TLSEnabled() bool { return c.TLSCAFile != "" }

func (c Config) checkTLS() error {
	set := 0
	for _, f := range []string{c.TLSCAFile, c.TLSCertFile, c.TLSKeyFile} {
		if f != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		return bad("tls-ca-file", "--tls-ca-file, --tls-cert-file and --tls-key-file go together")
	}
	return nil
}
