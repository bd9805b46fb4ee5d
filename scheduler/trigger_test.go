package scheduler

import (
	"testing"
	"time"
	_ "time/tzdata" // zones the test names, whatever the machine has

	"github.com/ferrysync/ferry/fsm"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func cronTask(expr string, last time.Time) fsm.Task {
	return fsm.Task{Key: "k", Enabled: true, ReplicaType: fsm.ReplicaScheduled, CreatedDate: t0, LastSlot: last,
		Setting: fsm.TaskSetting{ExecutionStrategy: fsm.ExecCron, ExecutionPlan: fsm.ExecutionPlan{CronExpression: expr}}}
}

func TestParseCronIsQuartz(t *testing.T) {
	for _, ok := range []string{"0 0 12 * * ?", "*/2 * * * * ?", "0 15 10 ? * MON-FRI", "0 0 12 * * ? *", "0 0 12 * * ? 2030", "0 0/5 14,18 * * ?"} {
		if _, err := ParseCron(ok, time.UTC); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "* * * * *", "0 0 25 * * ?", "x y z a b c", "@daily", "CRON_TZ=Asia/Shanghai 0 0 12 * * ?"} {
		if _, err := ParseCron(bad, time.UTC); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestCronInTheAgentsZone(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	s, _ := ParseCron("0 0 12 * * ?", shanghai)
	if got := s.Next(t0); !got.Equal(time.Date(2026, 11, 24, 4, 0, 0, 0, time.UTC)) {
		t.Fatalf("noon in Shanghai after %s is %s", t0, got)
	}
}

func TestNextAndDue(t *testing.T) {
	every2 := cronTask("*/2 * * * * ?", time.Time{})
	if next, ok := Next(every2, time.UTC); !ok || !next.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("first slot %s %v", next, ok)
	}
	if _, ok := Due(every2, t0.Add(time.Second), time.UTC); ok {
		t.Fatal("due before its first slot")
	}
	// A leaderless gap of 9 s: only the latest missed slot fires.
	if slot, ok := Due(cronTask("*/2 * * * * ?", t0.Add(2*time.Second)), t0.Add(11*time.Second), time.UTC); !ok || !slot.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("after a gap: %s %v", slot, ok)
	}
	// A committed slot does not fire again.
	if _, ok := Due(cronTask("*/2 * * * * ?", t0.Add(10*time.Second)), t0.Add(11*time.Second), time.UTC); ok {
		t.Fatal("a committed slot is due again")
	}

	once := fsm.Task{Enabled: true, ReplicaType: fsm.ReplicaScheduled, CreatedDate: t0, Setting: fsm.TaskSetting{ExecutionStrategy: fsm.ExecImmediately}}
	if slot, ok := Due(once, t0, time.UTC); !ok || !slot.Equal(t0) {
		t.Fatalf("IMMEDIATELY: %s %v", slot, ok)
	}
	once.LastSlot = t0
	if _, ok := Next(once, time.UTC); ok {
		t.Fatal("IMMEDIATELY fires twice")
	}
	at := fsm.Task{Enabled: true, ReplicaType: fsm.ReplicaScheduled, CreatedDate: t0,
		Setting: fsm.TaskSetting{ExecutionStrategy: fsm.ExecSpecifiedTime, ExecutionPlan: fsm.ExecutionPlan{ExecuteTime: t0.Add(time.Hour)}}}
	if _, ok := Due(at, t0.Add(59*time.Minute), time.UTC); ok {
		t.Fatal("SPECIFIED_TIME due early")
	}
	if slot, ok := Due(at, t0.Add(2*time.Hour), time.UTC); !ok || !slot.Equal(t0.Add(time.Hour)) {
		t.Fatalf("SPECIFIED_TIME: %s %v", slot, ok)
	}
	for name, tk := range map[string]fsm.Task{
		"disabled": func() fsm.Task { t := cronTask("* * * * * ?", time.Time{}); t.Enabled = false; return t }(),
		"real time": func() fsm.Task {
			t := cronTask("* * * * * ?", time.Time{})
			t.ReplicaType = fsm.ReplicaRealTime
			return t
		}(),
	} {
		if _, ok := Next(tk, time.UTC); ok {
			t.Errorf("%s task has a next time", name)
		}
	}
}
