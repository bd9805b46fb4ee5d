package integration

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// percentile of sorted durations, p in [0,1].
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(p*float64(len(sorted))), len(sorted)-1)]
}

func reportLatency(b *testing.B, name string, ds []time.Duration) {
	slices.Sort(ds)
	b.ReportMetric(float64(percentile(ds, 0.5).Microseconds())/1000, name+"-p50-ms")
	b.ReportMetric(float64(percentile(ds, 0.99).Microseconds())/1000, name+"-p99-ms")
	b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, name+"-max-ms")
}

// BenchmarkSchedulerLag measures how late the leader commits a cron slot with
// its run (run creation time minus the slot's due time), for a task firing
// every second. b.N slots.
func BenchmarkSchedulerLag(b *testing.B) {
	nodes := replicationGroup(b)
	sh := nodes[0]
	makeRepo(b, sh.url(), "", "proj", "r", "GENERIC")
	task := createTask(b, sh, taskBody("lag", "CRON_EXPRESSION", map[string]any{"cronExpression": "* * * * * ?"}, "beijing"))
	n := max(b.N, 10)
	b.ResetTimer()
	eventually(b, time.Duration(n+30)*time.Second, "slots", func() error {
		if got := len(taskRuns(b, sh, task.Key)); got < n {
			return fmt.Errorf("%d slots", got)
		}
		return nil
	})
	b.StopTimer()
	var p struct {
		Records []struct {
			Slot      time.Time `json:"slot"`
			CreatedAt time.Time `json:"createdAt"`
		} `json:"records"`
	}
	getOK(b, sh, "/v1/tasks/"+task.Key+"/runs?pageSize=1000", &p)
	var lags []time.Duration
	for _, r := range p.Records {
		lags = append(lags, r.CreatedAt.Sub(r.Slot))
	}
	reportLatency(b, "lag", lags)
}

// BenchmarkRealTimeDelay measures, for a REAL_TIME task, the time from a
// write committing on shanghai to the copy committing on beijing (both
// agents' own createdDate, same machine clock). b.N writes, one at a time.
func BenchmarkRealTimeDelay(b *testing.B) {
	nodes := replicationGroup(b)
	sh, bj := nodes[0], nodes[1]
	makeRepo(b, sh.url(), "", "proj", "r", "GENERIC")
	body := taskBody("live", "IMMEDIATELY", map[string]any{"executeImmediately": true}, "beijing")
	body["replicaType"] = "REAL_TIME"
	createTask(b, sh, body)
	createdAt := func(n *node, path string) (time.Time, error) {
		var p struct {
			Records []struct {
				Path      string    `json:"fullPath"`
				CreatedAt time.Time `json:"createdDate"`
			} `json:"records"`
		}
		r := call(b, "GET", n.url()+"/v1/projects/proj/repos/r/nodes?path=/bench&pageSize=1000", mgmtToken, nil)
		if r.status != 200 {
			return time.Time{}, fmt.Errorf("%d", r.status)
		}
		r.decode(b, &p)
		for _, f := range p.Records {
			if f.Path == path {
				return f.CreatedAt, nil
			}
		}
		return time.Time{}, fmt.Errorf("%s not there", path)
	}
	var delays []time.Duration
	b.ResetTimer()
	for i := range b.N {
		path := fmt.Sprintf("/bench/%d.txt", i)
		putFile(b, sh, "proj", "r", path, []byte(path), nil)
		var at time.Time
		eventually(b, 30*time.Second, path+" on beijing", func() (err error) {
			at, err = createdAt(bj, path)
			return err
		})
		from, err := createdAt(sh, path)
		if err != nil {
			b.Fatal(err)
		}
		delays = append(delays, at.Sub(from))
	}
	b.StopTimer()
	reportLatency(b, "delay", delays)
}
