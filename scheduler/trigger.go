package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/robfig/cron/v3"
)

// quartz parses Quartz-style expressions: seconds first, '?' for "any" in
// day-of-month or day-of-week, and descriptors such as @daily.
var quartz = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a Quartz cron expression in loc. Quartz's optional
// seventh field (year) is accepted when it is '*' or '?'.
func ParseCron(expr string, loc *time.Location) (cron.Schedule, error) {
	fields := strings.Fields(expr)
	if len(fields) == 7 && (fields[6] == "*" || fields[6] == "?") {
		fields = fields[:6]
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("cron expression is empty")
	}
	if !strings.HasPrefix(fields[0], "@") && len(fields) != 6 {
		return nil, fmt.Errorf("cron expression %q has %d fields; Quartz expressions have 6 (seconds minutes hours day-of-month month day-of-week)", expr, len(fields))
	}
	if strings.HasPrefix(fields[0], "TZ=") || strings.HasPrefix(fields[0], "CRON_TZ=") {
		return nil, fmt.Errorf("cron expression %q: time zones come from the agent's --time-zone", expr)
	}
	s, err := quartz.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %v", expr, err)
	}
	return inZone{s, loc}, nil
}

// inZone evaluates a schedule in a fixed zone, whatever zone times come in.
type inZone struct {
	s   cron.Schedule
	loc *time.Location
}

func (z inZone) Next(t time.Time) time.Time { return z.s.Next(t.In(z.loc)).UTC() }

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
