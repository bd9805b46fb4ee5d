package agent

import (
	"sync"
	"time"

	"github.com/ferrysync/ferry/cluster"
	metrics "github.com/hashicorp/go-metrics/compat"
	gmprom "github.com/hashicorp/go-metrics/compat/prometheus"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	raftMetricsOnce sync.Once
	raftRegistry    = prometheus.NewRegistry()
)

// raftMetrics routes hashicorp/raft's and memberlist's own metrics (emitted
// through go-metrics' global) into a Prometheus registry. go-metrics is
// process-wide, so with several agents in one process (ferry dev, tests)
// these series are the sum of all of them.
func raftMetrics() prometheus.Gatherer {
	raftMetricsOnce.Do(func() {
		sink, err := gmprom.NewPrometheusSinkFrom(gmprom.PrometheusOpts{Registerer: raftRegistry, Expiration: 5 * time.Minute})
		if err != nil {
			return
		}
		cfg := metrics.DefaultConfig("ferry")
		cfg.EnableHostname = false
		cfg.EnableRuntimeMetrics = false
		_, _ = metrics.NewGlobal(cfg, sink)
	})
	return raftRegistry
}

// stateCollector reads membership and Raft state at scrape time.
type stateCollector struct{ a *Agent }

var (
	descMembers  = prometheus.NewDesc("ferry_cluster_members", "Members this agent's gossip knows, by status.", []string{"status"}, nil)
	descIsLeader = prometheus.NewDesc("ferry_raft_is_leader", "1 when this agent is the Raft leader.", nil, nil)
	descApplied  = prometheus.NewDesc("ferry_raft_applied_index", "Last Raft index applied to this agent's state.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descMembers
	ch <- descIsLeader
	ch <- descApplied
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[cluster.MemberStatus]int{cluster.StatusAlive: 0, cluster.StatusSuspect: 0, cluster.StatusFailed: 0, cluster.StatusLeft: 0}
	for _, m := range c.a.node.Members() {
		counts[m.Status]++
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(descMembers, prometheus.GaugeValue, float64(n), string(status))
	}
	leader := 0.0
	if c.a.node.IsLeader() {
		leader = 1
	}
	ch <- prometheus.MustNewConstMetric(descIsLeader, prometheus.GaugeValue, leader)
	ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, float64(c.a.fsm.AppliedIndex()))
}
