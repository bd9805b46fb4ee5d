package scheduler

import (
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
)

func TestPeriod(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	cron := func(expr string) fsm.Task {
		return fsm.Task{Enabled: true, ReplicaType: fsm.ReplicaScheduled,
			Setting: fsm.TaskSetting{ExecutionStrategy: fsm.ExecCron, ExecutionPlan: fsm.ExecutionPlan{CronExpression: expr}}}
	}
	disabled := cron("0 0 * * * ?")
	disabled.Enabled = false
	immediate := cron("")
	immediate.Setting.ExecutionStrategy = fsm.ExecImmediately
	realTime := cron("0 0 * * * ?")
	realTime.ReplicaType = fsm.ReplicaRealTime
	cases := []struct {
		name string
		task fsm.Task
		want time.Duration
		ok   bool
	}{
		{"hourly", cron("0 0 * * * ?"), time.Hour, true},
		{"every 5 minutes", cron("0 0/5 * * * ?"), 5 * time.Minute, true},
		{"daily at 2", cron("0 0 2 * * ?"), 24 * time.Hour, true},
		{"weekdays only: the gap after now", cron("0 0 2 ? * MON-FRI"), 24 * time.Hour, true}, // 2026-12-01 is a Tuesday
		{"a year that has passed", cron("0 0 2 * * ? 2020"), 0, false},
		{"disabled", disabled, 0, false},
		{"IMMEDIATELY", immediate, 0, false},
		{"REAL_TIME", realTime, 0, false},
		{"unparsable", cron("nonsense"), 0, false},
	}
	for _, tc := range cases {
		got, ok := Period(tc.task, now, time.UTC)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
