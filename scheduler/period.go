package scheduler

import (
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// Period is how far apart a task's coming slots are: the gap between the
// first two slots after now of an enabled cron task. It is what the
// "no recent sync" alert measures a task's lag against. ok is false for
// tasks with no recurring slots (REAL_TIME, IMMEDIATELY, SPECIFIED_TIME,
// disabled, or a cron whose years have passed).
func Period(t fsm.Task, now time.Time, loc *time.Location) (time.Duration, bool) {
	if !t.Enabled || t.ReplicaType != fsm.ReplicaScheduled || t.Setting.ExecutionStrategy != fsm.ExecCron {
		return 0, false
	}
	s, err := ParseCron(t.Setting.ExecutionPlan.CronExpression, loc)
	if err != nil {
		return 0, false
	}
	first := s.Next(now)
	if first.IsZero() {
		return 0, false
	}
	second := s.Next(first)
	if second.IsZero() {
		return 0, false
	}
	return second.Sub(first), true
}
