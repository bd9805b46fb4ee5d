package replicator

import (
	"context"
	"io"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// newLimiter is a token bucket of bytesPerSec (nil for unlimited). The burst
// is a tenth of a second of traffic, at least 64 KiB and at most 1 MiB: small
// enough that the rate holds over short windows, big enough that waiting
// costs little per read.
func newLimiter(bytesPerSec int64) *rate.Limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	burst := min(max(bytesPerSec/10, 64<<10), 1<<20)
	return rate.NewLimiter(rate.Limit(bytesPerSec), int(burst))
}

// meteredReader passes bytes through every limiter (the run's and the
// agent's per-link one) and counts what went through.
type meteredReader struct {
	ctx      context.Context
	r        io.Reader
	limiters []*rate.Limiter
	sent     *atomic.Int64
	onRead   func(int64)
}

func (m *meteredReader) Read(p []byte) (int, error) {
	for _, l := range m.limiters {
		if l != nil && len(p) > l.Burst() {
			p = p[:l.Burst()]
		}
	}
	n, err := m.r.Read(p)
	if n > 0 {
		for _, l := range m.limiters {
			if l == nil {
				continue
			}
			if werr := l.WaitN(m.ctx, n); werr != nil {
				return n, werr
			}
		}
		m.sent.Add(int64(n))
		if m.onRead != nil {
			m.onRead(int64(n))
		}
	}
	return n, err
}
