package agent

import (
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/scheduler"
	"github.com/prometheus/client_golang/prometheus"
)

// lagCollector exports the lag of GET /v1/lag (the same lagView) at scrape
// time, on each task's source agent only: every task and target is then
// one series in the whole group, so Grafana's sums do not count it three
// times, and a REAL_TIME task's lag and depth come from the outbox, which
// only its source holds. Only enabled tasks are exported: a disabled task
// is not expected to keep up.
type lagCollector struct{ a *Agent }

var (
	descLag = prometheus.NewDesc("ferry_replication_lag_seconds",
		"Seconds since the target was last fully in sync with the task (since the task was created when never), by task key and target; exported by the task's source agent only, for enabled tasks.", []string{"task", "target"}, nil)
	descTaskDepth = prometheus.NewDesc("ferry_realtime_outbox_task_depth",
		"Changes of one REAL_TIME task this agent (its source) still has to deliver to the target (counted up to 1,000 per repository); ferry_realtime_outbox_depth is their sum per target.", []string{"task", "target"}, nil)
	descInterval = prometheus.NewDesc("ferry_task_schedule_interval_seconds",
		"Seconds between the next two slots of an enabled cron task (what its lag is measured against); exported by the task's source agent only.", []string{"task"}, nil)
	descTaskInfo = prometheus.NewDesc("ferry_task_info",
		"1 for each enabled task this agent is the source of, naming it: join on task for its name, project and replica type.", []string{"task", "name", "project", "replica_type", "source"}, nil)
)

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLag
	ch <- descTaskDepth
	ch <- descInterval
	ch <- descTaskInfo
}

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	self, now := c.a.cfg.ClusterID, time.Now()
	var tasks []fsm.Task
	for _, t := range c.a.fsm.Tasks() {
		if t.Enabled && t.SourceCluster == self {
			tasks = append(tasks, t)
		}
	}
	lags := fsm.TargetLags(tasks, c.a.fsm.Runs(fsm.RunFilter{Executor: self}))
	local := map[string]sourceOutbox{self: {depths: c.a.executor.Outbox()}}
	for _, e := range lagView(lags, local, now) {
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, e.LagSeconds, e.Task, e.Target)
		if e.ReplicaType == fsm.ReplicaRealTime {
			ch <- prometheus.MustNewConstMetric(descTaskDepth, prometheus.GaugeValue, float64(e.OutboxDepth), e.Task, e.Target)
		}
	}
	for _, t := range tasks {
		ch <- prometheus.MustNewConstMetric(descTaskInfo, prometheus.GaugeValue, 1, t.Key, t.Name, t.ProjectID, t.ReplicaType, t.SourceCluster)
		if p, ok := scheduler.Period(t, now, c.a.cfg.Location()); ok {
			ch <- prometheus.MustNewConstMetric(descInterval, prometheus.GaugeValue, p.Seconds(), t.Key)
		}
	}
}
