package config

import "github.com/spf13/pflag"

func bindLimitFlags(fs *pflag.FlagSet, c *Config) {
	fs.IntVar(&c.HTTPMaxConns, "http-max-conns", c.HTTPMaxConns, "most open API connections (0: derived from the open-file limit)")
	fs.IntVar(&c.HTTPMaxConnsPerClient, "http-max-conns-per-client", c.HTTPMaxConnsPerClient, "most open API connections from one client address (0: the default)")
	fs.DurationVar(&c.HTTPIdleTimeout, "http-idle-timeout", c.HTTPIdleTimeout, "how long an idle keep-alive API connection stays open (0: the default)")
	fs.DurationVar(&c.HTTPBodyReadTimeout, "http-body-read-timeout", c.HTTPBodyReadTimeout, "how long a request body may send nothing before it is cut with 408 (0: the default)")
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
