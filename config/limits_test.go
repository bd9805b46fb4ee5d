package config

import (
	"syscall"
	"testing"
	"time"
)

func TestLimitDefaults(t *testing.T) {
	c := Default()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < 1<<31 {
		if want := max(int(lim.Cur)-fdHeadroom, minHTTPMaxConns); c.EffectiveHTTPMaxConns() != want {
			t.Errorf("max conns %d with ulimit -n %d, want %d", c.EffectiveHTTPMaxConns(), lim.Cur, want)
		}
	}
	if got := c.EffectiveHTTPMaxConnsPerClient(); got != min(DefaultHTTPMaxConnsPerClient, c.EffectiveHTTPMaxConns()) {
		t.Errorf("per client %d", got)
	}
	if c.EffectiveHTTPIdleTimeout() != 2*time.Minute || c.EffectiveHTTPBodyReadTimeout() != 30*time.Second {
		t.Errorf("timeouts %s %s", c.EffectiveHTTPIdleTimeout(), c.EffectiveHTTPBodyReadTimeout())
	}
	c.HTTPMaxConns, c.HTTPMaxConnsPerClient, c.HTTPIdleTimeout, c.HTTPBodyReadTimeout = 10, 50, time.Second, time.Millisecond
	if c.EffectiveHTTPMaxConns() != 10 || c.EffectiveHTTPMaxConnsPerClient() != 10 || c.EffectiveHTTPIdleTimeout() != time.Second || c.EffectiveHTTPBodyReadTimeout() != time.Millisecond {
		t.Errorf("set limits not kept: %d %d %s %s", c.EffectiveHTTPMaxConns(), c.EffectiveHTTPMaxConnsPerClient(), c.EffectiveHTTPIdleTimeout(), c.EffectiveHTTPBodyReadTimeout())
	}
}
