package scheduler

import (
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// maxCatchUp bounds the walk to the latest missed slot of a frequent cron.
const maxCatchUp = 1_000_000

// Next is when the task will fire next, as the loop will do it: possibly in
// the past, when a slot was missed and will fire as soon as there is a leader.
// ok is false when the task will not fire again (disabled, REAL_TIME, a
// one-shot trigger that already fired, a cron with no more slots).
func Next(t fsm.Task, loc *time.Location) (time.Time, bool) {
	if !t.Enabled || t.ReplicaType != fsm.ReplicaScheduled {
		return time.Time{}, false
	}
	switch t.Setting.ExecutionStrategy {
	case fsm.ExecImmediately:
		return t.CreatedDate, t.LastSlot.IsZero()
	case fsm.ExecSpecifiedTime:
		at := t.Setting.ExecutionPlan.ExecuteTime
		return at, at.After(t.LastSlot)
	case fsm.ExecCron:
		s, err := ParseCron(t.Setting.ExecutionPlan.CronExpression, loc)
		if err != nil {
			return time.Time{}, false
		}
		from := t.LastSlot
		if from.IsZero() {
			from = t.CreatedDate
		}
		next := s.Next(from)
		return next, !next.IsZero()
	}
	return time.Time{}, false
}

// Due is the slot the loop fires at now, if any. Of several cron slots missed
// (no leader for a while), only the latest fires: once.
func Due(t fsm.Task, now time.Time, loc *time.Location) (time.Time, bool) {
	next, ok := Next(t, loc)
	if !ok || next.After(now) {
		return time.Time{}, false
	}
	if t.Setting.ExecutionStrategy != fsm.ExecCron {
		return next, true
	}
	s, err := ParseCron(t.Setting.ExecutionPlan.CronExpression, loc)
	if err != nil {
		return time.Time{}, false
	}
	slot := next
	for range maxCatchUp {
		n := s.Next(slot)
		if n.IsZero() || n.After(now) {
			return slot, true
		}
		slot = n
	}
	return slot, true
}
