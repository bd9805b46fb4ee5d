package config

import (
	"math"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

func bindLimitFlags(fs *pflag.FlagSet, c *Config) {
	fs.IntVar(&c.HTTPMaxConns, "http-max-conns", c.HTTPMaxConns, "most open API connections (0: the open-file limit, ulimit -n, less 512)")
	fs.IntVar(&c.HTTPMaxConnsPerClient, "http-max-conns-per-client", c.HTTPMaxConnsPerClient, "most open API connections from one client address (0: 256)")
	fs.DurationVar(&c.HTTPIdleTimeout, "http-idle-timeout", c.HTTPIdleTimeout, "how long an idle keep-alive API connection stays open (0: 2m)")
	fs.DurationVar(&c.HTTPBodyReadTimeout, "http-body-read-timeout", c.HTTPBodyReadTimeout, "how long a request body may send nothing before it is cut with 408 (0: 30s)")
}

func (c Config) checkLimits() error {
	switch {
	case c.HTTPMaxConns < 0:
		return bad("http-max-conns", "must not be negative, got %d", c.HTTPMaxConns)
	case c.HTTPMaxConnsPerClient < 0:
		return bad("http-max-conns-per-client", "must not be negative, got %d", c.HTTPMaxConnsPerClient)
	case c.HTTPIdleTimeout < 0:
		return bad("http-idle-timeout", "must not be negative, got %s", c.HTTPIdleTimeout)
	case c.HTTPBodyReadTimeout < 0:
		return bad("http-body-read-timeout", "must not be negative, got %s", c.HTTPBodyReadTimeout)
	}
	return nil
}

// The defaults of the limits, used where a field is 0.
const (
	// DefaultHTTPMaxConnsPerClient is high enough for the agents of a group
	// and their clients sharing one address (all of a test's agents are on
	// 127.0.0.1) and low enough that one client cannot hold most of the
	// descriptors of an agent.
	DefaultHTTPMaxConnsPerClient = 256
	// DefaultHTTPIdleTimeout closes a keep-alive connection that sends no
	// next request (Go's and Consul's servers keep them forever otherwise).
	DefaultHTTPIdleTimeout = 2 * time.Minute
	// DefaultHTTPBodyReadTimeout cuts a body that sends nothing for this
	// long; a slow body that keeps sending is never cut.
	DefaultHTTPBodyReadTimeout = 30 * time.Second
	// fdHeadroom is the descriptors kept out of the API's reach for Raft,
	// gossip, the store's files and databases and the outgoing calls.
	fdHeadroom = 512
	// minHTTPMaxConns is the least derived cap, however low the limit.
	minHTTPMaxConns = 64
)

// EffectiveHTTPMaxConns is HTTPMaxConns, or derived from the soft open-file
// limit (ulimit -n) less fdHeadroom, so that the API alone can never run the
// agent out of descriptors.
func (c Config) EffectiveHTTPMaxConns() int {
	if c.HTTPMaxConns > 0 {
		return c.HTTPMaxConns
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > math.MaxInt32 {
		return math.MaxInt32 // unknown or unlimited: no cap of ours
	}
	return max(int(lim.Cur)-fdHeadroom, minHTTPMaxConns)
}

// EffectiveHTTPMaxConnsPerClient is HTTPMaxConnsPerClient or its default,
// never above the overall cap.
func (c Config) EffectiveHTTPMaxConnsPerClient() int {
	return min(orDefault(c.HTTPMaxConnsPerClient, DefaultHTTPMaxConnsPerClient), c.EffectiveHTTPMaxConns())
}

// EffectiveHTTPIdleTimeout is HTTPIdleTimeout or its default.
func (c Config) EffectiveHTTPIdleTimeout() time.Duration {
	return orDefault(c.HTTPIdleTimeout, DefaultHTTPIdleTimeout)
}

// EffectiveHTTPBodyReadTimeout is HTTPBodyReadTimeout or its default.
func (c Config) EffectiveHTTPBodyReadTimeout() time.Duration {
	return orDefault(c.HTTPBodyReadTimeout, DefaultHTTPBodyReadTimeout)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}
