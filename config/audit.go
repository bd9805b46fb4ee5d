package config

import "github.com/spf13/pflag"

func bindAuditFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.AuditLog, "audit-log", c.AuditLog, "file every state-changing call is appended to as a JSON line")
}

func (c Config) checkAudit() error { return nil }
