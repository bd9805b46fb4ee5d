package oci

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count the registry's traffic by repository (project/repository:
// bounded, unlike image names).
type metrics struct {
	pushes *prometheus.CounterVec
	pulls  *prometheus.CounterVec
	bytes  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_registry_pushes_total", Help: "Manifests pushed to the registry, by repository."}, []string{"repository"}),
		pulls:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_registry_pulls_total", Help: "Manifests pulled (GET) from the registry, by repository."}, []string{"repository"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ferry_registry_blob_bytes_total",
			Help: "Blob bytes received (in: uploads) and served (out: GET), by repository."}, []string{"repository", "direction"}),
	}
	if reg != nil {
		reg.MustRegister(m.pushes, m.pulls, m.bytes)
	}
	return m
}

// repository is the metrics label of an image name: its first two
// components.
func repository(name string) string {
	parts := strings.SplitN(name, "/", 3)
	if len(parts) < 2 {
		return name
	}
	return parts[0] + "/" + parts[1]
}

func (m *metrics) pushed(name string) { m.pushes.WithLabelValues(repository(name)).Inc() }
func (m *metrics) pulled(name string) { m.pulls.WithLabelValues(repository(name)).Inc() }
func (m *metrics) blobBytes(name, direction string, n int64) {
	if n > 0 {
		m.bytes.WithLabelValues(repository(name), direction).Add(float64(n))
	}
}
