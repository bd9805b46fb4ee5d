package agent

import "github.com/prometheus/client_golang/prometheus"

// diskCollector reads the free space of the store's and Raft's disks at
// scrape time, as readiness judges them (agent/readiness.go).
type diskCollector struct{ a *Agent }

var (
	descDiskFree = prometheus.NewDesc("ferry_store_disk_free_bytes", "Free bytes (to unprivileged users) on the file system of the store's or Raft's directory, by disk (store, raft).", []string{"disk"}, nil)
	descDiskSize = prometheus.NewDesc("ferry_store_disk_size_bytes", "Size in bytes of the file system of the store's or Raft's directory, by disk (store, raft).", []string{"disk"}, nil)
)

func (c *diskCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDiskFree
	ch <- descDiskSize
}

func (c *diskCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c.a.disks() {
		free, total, ok := diskSpace(d.dir)
		if !ok {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descDiskFree, prometheus.GaugeValue, float64(free), d.name)
		ch <- prometheus.MustNewConstMetric(descDiskSize, prometheus.GaugeValue, float64(total), d.name)
	}
}
