package replicator

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Link counters: the content bytes this agent sent to each remote cluster,
// sampled into a small ring so that GET /v1/agent/links can say the rate
// over the last minute and the last five. They count what the target took
// (a batch's files once it answered, an upload's bytes as they go), not
// frame headers or retried bytes the target refused.

// linkSampleEvery and linkRing: a sample every 5 s, enough of them for the
// 5-minute rate.
const (
	linkSampleEvery = 5 * time.Second
	linkRing        = int(5*time.Minute/linkSampleEvery) + 1
)

// LinkStat is one outgoing link of this agent (GET /v1/agent/links).
type LinkStat struct {
	Source           string    `json:"source"`
	Target           string    `json:"target"`
	BytesTotal       int64     `json:"bytesTotal"`
	BytesPerSecond1m float64   `json:"bytesPerSecond1m"`
	BytesPerSecond5m float64   `json:"bytesPerSecond5m"`
	LastActivity     time.Time `json:"lastActivity,omitzero"`
}

// linkSample is a link's total at one time.
type linkSample struct {
	at    time.Time
	total int64
}

// linkCounter counts one link; add is lock-free, the ring is the meter's.
type linkCounter struct {
	total atomic.Int64
	last  atomic.Int64 // Unix nanoseconds of the last add
	ring  []linkSample // oldest first, at most linkRing
}

func (c *linkCounter) add(n int64) {
	if c == nil || n <= 0 {
		return
	}
	c.total.Add(n)
	c.last.Store(time.Now().UnixNano())
}

// linkMeter holds the counters by target cluster.
type linkMeter struct {
	mu    sync.Mutex
	links map[string]*linkCounter
}

func (m *linkMeter) counter(target string) *linkCounter {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.links == nil {
		m.links = map[string]*linkCounter{}
	}
	c := m.links[target]
	if c == nil {
		c = &linkCounter{ring: []linkSample{{at: time.Now(), total: 0}}}
		m.links[target] = c
	}
	return c
}

// sample records every link's total at now.
func (m *linkMeter) sample(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.links {
		c.ring = append(c.ring, linkSample{at: now, total: c.total.Load()})
		if len(c.ring) > linkRing {
			c.ring = slices.Delete(c.ring, 0, len(c.ring)-linkRing)
		}
	}
}

// stats are the links from source at now, ordered by target.
func (m *linkMeter) stats(source string, now time.Time) []LinkStat {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []LinkStat{}
	for target, c := range m.links {
		total := c.total.Load()
		s := LinkStat{Source: source, Target: target, BytesTotal: total,
			BytesPerSecond1m: linkRate(c.ring, total, now, time.Minute), BytesPerSecond5m: linkRate(c.ring, total, now, 5*time.Minute)}
		if last := c.last.Load(); last != 0 {
			s.LastActivity = time.Unix(0, last).UTC()
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b LinkStat) int { return strings.Compare(a.Target, b.Target) })
	return out
}

// linkRate is the bytes per second from the sample nearest before
// now-window (the oldest, when the ring is younger than the window) up to
// total at now.
func linkRate(ring []linkSample, total int64, now time.Time, window time.Duration) float64 {
	if len(ring) == 0 {
		return 0
	}
	base := ring[0]
	for _, s := range ring {
		if s.at.After(now.Add(-window)) {
			break
		}
		base = s
	}
	elapsed := now.Sub(base.at).Seconds()
	if elapsed <= 0 {
		return 0
	}
	return float64(total-base.total) / elapsed
}

// Links are this agent's outgoing links, with their rates at now.
func (e *Executor) Links(now time.Time) []LinkStat { return e.linkStats.stats(e.cfg.ClusterID, now) }

// SampleLinks samples the link counters every linkSampleEvery until ctx
// ends; its caller owns the goroutine it runs in.
func (e *Executor) SampleLinks(ctx context.Context) {
	tick := time.NewTicker(linkSampleEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			e.linkStats.sample(now)
		}
	}
}
