package agent

import (
	"errors"
	"testing"
)

func TestJudgeReadiness(t *testing.T) {
	full := errors.New("no space left on device")
	cases := []struct {
		name     string
		in       readyInput
		reason   string
		caughtUp bool
	}{
		{"just started, no leader heard from", readyInput{}, reasonNoLeader, false},
		{"leader known but its index not learned yet", readyInput{contact: true}, reasonCatchingUp, false},
		{"far behind the leader's index", readyInput{contact: true, targetKnown: true, target: 1000, applied: 10}, reasonCatchingUp, false},
		{"within the lag bound of the leader's index", readyInput{contact: true, targetKnown: true, target: 1000, applied: 1000 - readyMaxLag}, reasonNone, true},
		{"leader index 0 (a new group) is reached at once", readyInput{contact: true, targetKnown: true}, reasonNone, true},
		{"caught up stays ready while it hears from a leader", readyInput{caughtUp: true, contact: true}, reasonNone, true},
		{"caught up but cut off from any leader catches up again", readyInput{caughtUp: true}, reasonNoLeader, false},
		{"a caught-up leader needs no contact", readyInput{caughtUp: true, leader: true}, reasonNone, true},
		{"new leader before its barrier", readyInput{leader: true}, reasonCatchingUp, false},
		{"leader after its barrier (a single agent just bootstrapped)", readyInput{leader: true, leaderBarrier: true}, reasonNone, true},
		{"failing log append outweighs being caught up, keeps the latch", readyInput{caughtUp: true, contact: true, appendErr: full}, reasonLogAppend, true},
		{"full disk outweighs a failing append", readyInput{caughtUp: true, contact: true, appendErr: full, diskLow: "/d/raft"}, reasonDiskFull, true},
		{"full disk on a leader", readyInput{leader: true, leaderBarrier: true, diskLow: "/d/store"}, reasonDiskFull, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := judgeReadiness(c.in)
			if v.reason != c.reason || v.caughtUp != c.caughtUp {
				t.Fatalf("judgeReadiness(%+v) = %+v, want reason %q caughtUp %v", c.in, v, c.reason, c.caughtUp)
			}
			if (v.reason == reasonNone) != (v.detail == "") {
				t.Fatalf("detail %q for reason %q", v.detail, v.reason)
			}
		})
	}
}

func TestDiskFloor(t *testing.T) {
	cases := []struct{ total, want uint64 }{
		{0, 0},
		{1 << 30, (1 << 30) / 100},     // 1% of a small disk
		{1 << 40, diskFloorBytes},      // 256 MiB of a large one
		{100 << 20, (100 << 20) / 100}, // a tiny tmpfs
	}
	for _, c := range cases {
		if got := diskFloor(c.total); got != c.want {
			t.Errorf("diskFloor(%d) = %d, want %d", c.total, got, c.want)
		}
	}
}
