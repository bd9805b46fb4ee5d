package replicator

import "github.com/prometheus/client_golang/prometheus"

// metrics are the data plane's series, per remote cluster where it matters.
type metrics struct {
	bytes       *prometheus.CounterVec
	objects     *prometheus.CounterVec
	images      *prometheus.CounterVec
	runs        *prometheus.CounterVec
	duration    prometheus.Histogram
	inflight    prometheus.Gauge
	lastSuccess *prometheus.GaugeVec
	outbox      *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_replication_bytes_total", Help: "Content bytes sent to remote clusters, by source and target cluster.",
		}, []string{"source", "target"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_replication_objects_total", Help: "Objects replicated, by target cluster and result (sent, linked, identical, metadata, conflict, failed).",
		}, []string{"target", "result"}),
		images: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_replication_image_nodes_total", Help: "Image nodes of DOCKER repositories replicated, by target cluster, kind (blob, manifest, referrer, tag) and result.",
		}, []string{"target", "kind", "result"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_replication_runs_total", Help: "Runs this agent executed, by final state.",
		}, []string{"state"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ferry_replication_run_duration_seconds", Help: "Duration of the runs this agent executed.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 12),
		}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ferry_replication_inflight_bytes", Help: "Bytes of content this agent is sending right now (requests not yet answered).",
		}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ferry_replication_last_success_timestamp_seconds", Help: "When a run last brought the target cluster fully in sync (Unix time).",
		}, []string{"target"}),
	}
	m.outbox = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ferry_realtime_outbox_depth", Help: "Changes of REAL_TIME tasks this agent still has to deliver, by target cluster (counted up to 1,000 per repository).",
	}, []string{"target"})
	if reg != nil {
		reg.MustRegister(m.bytes, m.objects, m.images, m.runs, m.duration, m.inflight, m.lastSuccess, m.outbox)
	}
	return m
}

// ReceiverMetrics are the target side's series: what this agent received
// from each source cluster.
type ReceiverMetrics struct {
	received *prometheus.CounterVec
}

// NewReceiverMetrics registers the target side's series with reg.
func NewReceiverMetrics(reg prometheus.Registerer) *ReceiverMetrics {
	m := &ReceiverMetrics{received: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ferry_replication_received_bytes_total", Help: "Content bytes this agent received from other clusters' replicators (batch contents and upload bytes), by source cluster.",
	}, []string{"source"})}
	reg.MustRegister(m.received)
	return m
}

func (m *ReceiverMetrics) add(source string, n int64) {
	if m == nil || n <= 0 {
		return
	}
	m.received.WithLabelValues(source).Add(float64(n))
}
