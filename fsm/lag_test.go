package fsm

import (
	"testing"
	"time"
)

func TestTargetLags(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	task := Task{Key: "k1", Name: "nightly", ProjectID: "p", ReplicaType: ReplicaScheduled, SourceCluster: "a", RemoteClusterIDs: []string{"c", "b"}, Enabled: true, CreatedDate: at(0)}
	ended := func(id string, created, finished int, targets ...TargetProgress) Run {
		return Run{ID: id, TaskKey: "k1", State: RunSuccess, CreatedAt: at(created), FinishedAt: at(finished), Targets: targets,
			Spec: ReplicaSpec{RemoteClusterIDs: []string{"b", "c"}}}
	}
	ok := func(id string) TargetProgress { return TargetProgress{ClusterID: id, State: RunSuccess} }
	failed := func(id string) TargetProgress { return TargetProgress{ClusterID: id, State: RunFailed} }
	type want struct {
		success time.Time
		status  RunState
	}
	cases := []struct {
		name string
		runs []Run
		want map[string]want // by target
	}{
		{"never ran", nil, map[string]want{"b": {}, "c": {}}},
		{"one success", []Run{ended("r1", 1, 2, ok("b"), ok("c"))}, map[string]want{"b": {at(2), RunSuccess}, "c": {at(2), RunSuccess}}},
		{"later failure keeps the earlier success", []Run{
			ended("r2", 10, 11, failed("b"), ok("c")),
			ended("r1", 1, 2, ok("b"), ok("c")),
		}, map[string]want{"b": {at(2), RunFailed}, "c": {at(11), RunSuccess}}},
		{"waiting run without progress counts with its own state", []Run{
			{ID: "r3", TaskKey: "k1", State: RunWaiting, CreatedAt: at(20), Spec: ReplicaSpec{RemoteClusterIDs: []string{"b", "c"}}},
			ended("r1", 1, 2, ok("b"), ok("c")),
		}, map[string]want{"b": {at(2), RunWaiting}, "c": {at(2), RunWaiting}}},
		{"another task's runs do not count", []Run{
			{ID: "x", TaskKey: "other", State: RunSuccess, CreatedAt: at(5), FinishedAt: at(6), Targets: []TargetProgress{ok("b")}},
		}, map[string]want{"b": {}, "c": {}}},
		{"a run to other targets does not count", []Run{
			{ID: "r4", TaskKey: "k1", State: RunSuccess, CreatedAt: at(5), FinishedAt: at(6), Targets: []TargetProgress{ok("c")}, Spec: ReplicaSpec{RemoteClusterIDs: []string{"c"}}},
		}, map[string]want{"b": {}, "c": {at(6), RunSuccess}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := TargetLags([]Task{task}, tc.runs)
			if len(got) != 2 || got[0].Target != "b" || got[1].Target != "c" {
				t.Fatalf("targets %+v, want b then c", got)
			}
			for _, l := range got {
				w := tc.want[l.Target]
				if !l.LastSuccess.Equal(w.success) || l.LastStatus != w.status {
					t.Errorf("%s: success %v status %q, want %v %q", l.Target, l.LastSuccess, l.LastStatus, w.success, w.status)
				}
				if l.Task != "k1" || l.TaskName != "nightly" || l.ProjectID != "p" || l.ReplicaType != ReplicaScheduled || l.Source != "a" {
					t.Errorf("task fields %+v", l)
				}
			}
		})
	}
}

func TestTargetLagSeconds(t *testing.T) {
	created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		lag  TargetLag
		now  time.Time
		want float64
	}{
		{"since creation when never in sync", TargetLag{CreatedDate: created}, created.Add(90 * time.Second), 90},
		{"since the last success", TargetLag{CreatedDate: created, LastSuccess: created.Add(time.Minute)}, created.Add(2 * time.Minute), 60},
		{"never negative (clocks apart)", TargetLag{CreatedDate: created.Add(time.Minute)}, created, 0},
	}
	for _, tc := range cases {
		if got := tc.lag.Seconds(tc.now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
