package config

import "github.com/spf13/pflag"

func bindMembershipFlags(fs *pflag.FlagSet, c *Config) {
	fs.BoolVar(&c.LeaveOnTerminate, "leave-on-terminate", c.LeaveOnTerminate, "on SIGTERM leave the Raft configuration too (default: stay a member, as a restart expects)")
	fs.StringVar(&c.RaftDir, "raft-dir", c.RaftDir, "directory of the Raft log and snapshots (default: under --data-dir), e.g. on a disk of its own")
}

func (c Config) checkMembership() error { return nil }
