package agent

import (
	"sync"
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
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
	descTasks    = prometheus.NewDesc("ferry_tasks", "Replication tasks by state: enabled, disabled, running (a run is going).", []string{"state"}, nil)
	descAlive    = prometheus.NewDesc("ferry_cluster_member_alive", "1 when this agent's gossip sees the member alive, 0 when suspect or failed (members that left are not listed).", []string{"member"}, nil)
	descChanges  = prometheus.NewDesc("ferry_raft_leader_changes_total", "New Raft leaders this agent has learned of since it started.", nil, nil)
	descContact  = prometheus.NewDesc("ferry_raft_last_contact_seconds", "Seconds since this agent last heard from the Raft leader (0 on the leader).", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descMembers
	ch <- descIsLeader
	ch <- descApplied
	ch <- descTasks
	ch <- descAlive
	ch <- descChanges
	ch <- descContact
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[cluster.MemberStatus]int{cluster.StatusAlive: 0, cluster.StatusSuspect: 0, cluster.StatusFailed: 0, cluster.StatusLeft: 0}
	for _, m := range c.a.node.Members() {
		counts[m.Status]++
		if m.Status != cluster.StatusLeft {
			ch <- prometheus.MustNewConstMetric(descAlive, prometheus.GaugeValue, boolValue(m.Status == cluster.StatusAlive), m.ID)
		}
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(descMembers, prometheus.GaugeValue, float64(n), string(status))
	}
	ch <- prometheus.MustNewConstMetric(descIsLeader, prometheus.GaugeValue, boolValue(c.a.node.IsLeader()))
	ch <- prometheus.MustNewConstMetric(descChanges, prometheus.CounterValue, float64(c.a.node.LeaderChanges()))
	ch <- prometheus.MustNewConstMetric(descContact, prometheus.GaugeValue, c.a.ReadState().LastContact.Seconds())
	ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, float64(c.a.fsm.AppliedIndex()))
	tasks := map[string]int{"enabled": 0, "disabled": 0, "running": 0}
	for _, t := range c.a.fsm.Tasks() {
		if t.Enabled {
			tasks["enabled"]++
		} else {
			tasks["disabled"]++
		}
		if t.LastExecutionStatus == string(fsm.RunRunning) {
			tasks["running"]++
		}
	}
	for state, n := range tasks {
		ch <- prometheus.MustNewConstMetric(descTasks, prometheus.GaugeValue, float64(n), state)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// storeMetrics are the artifact store's metrics: totals read at scrape time,
// counters fed by the store's Observer hooks.
type storeMetrics struct {
	st          store.Store
	writes      *prometheus.CounterVec
	read        prometheus.Counter
	written     prometheus.Counter
	compactions *prometheus.CounterVec
	compacted   prometheus.Counter
}

var (
	descStoreBytes        = prometheus.NewDesc("ferry_store_bytes", "Bytes of distinct content in this agent's store.", nil, nil)
	descStoreObjects      = prometheus.NewDesc("ferry_store_objects", "Distinct contents (blobs) in this agent's store.", nil, nil)
	descStoreSegmentBytes = prometheus.NewDesc("ferry_store_segment_bytes", "Committed bytes of the store's small-content segments, by state: live (contents stored) or dead (deleted, for compaction to give back).", []string{"state"}, nil)
)

func newStoreMetrics(reg prometheus.Registerer, st store.Store) *storeMetrics {
	m := &storeMetrics{
		st: st,
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_store_writes_total", Help: "Artifact writes by result (ok, linked, checksum_mismatch, conflict, no_space, invalid, canceled, error).",
		}, []string{"result"}),
		read:    prometheus.NewCounter(prometheus.CounterOpts{Name: "ferry_store_read_bytes_total", Help: "Content bytes read from the store."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "ferry_store_written_bytes_total", Help: "Content bytes written to the store."}),
		compactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_store_compactions_total", Help: "Segment compactions by result (ok, error, canceled).",
		}, []string{"result"}),
		compacted: prometheus.NewCounter(prometheus.CounterOpts{Name: "ferry_store_compacted_bytes_total", Help: "Bytes of segment files compaction gave back."}),
	}
	for _, result := range []string{"ok", "error"} { // exported before the first compaction
		m.compactions.WithLabelValues(result)
	}
	reg.MustRegister(m, m.writes, m.read, m.written, m.compactions, m.compacted)
	return m
}

func (m *storeMetrics) WriteDone(result string, n int64) {
	m.writes.WithLabelValues(result).Inc()
	m.written.Add(float64(n))
}

func (m *storeMetrics) ReadBytes(n int64) { m.read.Add(float64(n)) }

func (m *storeMetrics) Compacted(result string, reclaimed int64) {
	m.compactions.WithLabelValues(result).Inc()
	m.compacted.Add(float64(reclaimed))
}

func (m *storeMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descStoreBytes
	ch <- descStoreObjects
	ch <- descStoreSegmentBytes
}

func (m *storeMetrics) Collect(ch chan<- prometheus.Metric) {
	st := m.st.Stats()
	ch <- prometheus.MustNewConstMetric(descStoreBytes, prometheus.GaugeValue, float64(st.BlobBytes))
	ch <- prometheus.MustNewConstMetric(descStoreObjects, prometheus.GaugeValue, float64(st.Blobs))
	ch <- prometheus.MustNewConstMetric(descStoreSegmentBytes, prometheus.GaugeValue, float64(st.SegmentLiveBytes), "live")
	ch <- prometheus.MustNewConstMetric(descStoreSegmentBytes, prometheus.GaugeValue, float64(st.SegmentDeadBytes), "dead")
}
