package agent

import (
	"errors"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/replicator"
)

func TestLagView(t *testing.T) {
	created := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	now := created.Add(time.Hour)
	scheduled := fsm.TargetLag{Task: "s", ReplicaType: fsm.ReplicaScheduled, Source: "a", Target: "b", CreatedDate: created,
		LastSuccess: created.Add(50 * time.Minute), LastStatus: fsm.RunSuccess}
	realTime := fsm.TargetLag{Task: "r", ReplicaType: fsm.ReplicaRealTime, Source: "a", Target: "b", CreatedDate: created, LastStatus: fsm.RunRunning}
	cases := []struct {
		name      string
		lag       fsm.TargetLag
		outbox    map[string]sourceOutbox
		depth     int64
		lagSecs   float64
		success   time.Time
		outboxErr string
	}{
		{"scheduled: from its runs, no outbox", scheduled, nil, 0, 600, scheduled.LastSuccess, ""},
		{"real time caught up a second ago", realTime,
			map[string]sourceOutbox{"a": {depths: []replicator.OutboxDepth{{Task: "r", Target: "b", Depth: 0, CaughtUp: now.Add(-time.Second)}}}},
			0, 1, now.Add(-time.Second), ""},
		{"real time behind since it was last caught up", realTime,
			map[string]sourceOutbox{"a": {depths: []replicator.OutboxDepth{{Task: "r", Target: "b", Depth: 42, CaughtUp: now.Add(-5 * time.Minute)}}}},
			42, 300, now.Add(-5 * time.Minute), ""},
		{"real time never delivered yet: since creation", realTime,
			map[string]sourceOutbox{"a": {depths: []replicator.OutboxDepth{{Task: "other", Target: "b", Depth: 3}}}},
			0, 3600, time.Time{}, ""},
		{"source agent unreachable", realTime,
			map[string]sourceOutbox{"a": {err: errors.New("timeout")}},
			-1, 3600, time.Time{}, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := lagView([]fsm.TargetLag{tc.lag}, tc.outbox, now)
			if len(got) != 1 {
				t.Fatalf("%d entries", len(got))
			}
			e := got[0]
			if e.OutboxDepth != tc.depth || e.LagSeconds != tc.lagSecs || !e.LastSuccess.Equal(tc.success) || e.OutboxError != tc.outboxErr {
				t.Errorf("got depth %d lag %v success %v err %q; want %d %v %v %q", e.OutboxDepth, e.LagSeconds, e.LastSuccess, e.OutboxError, tc.depth, tc.lagSecs, tc.success, tc.outboxErr)
			}
			if e.Task != tc.lag.Task || e.Target != "b" || e.LastStatus != string(tc.lag.LastStatus) || e.ReplicaType != tc.lag.ReplicaType {
				t.Errorf("fields %+v", e)
			}
		})
	}
}
