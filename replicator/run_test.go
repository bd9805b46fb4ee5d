package replicator

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ferrysync/ferry/fsm"
)

func TestFinalState(t *testing.T) {
	ok := fsm.TargetProgress{ClusterID: "beijing", State: fsm.RunSuccess}
	failed := fsm.TargetProgress{ClusterID: "guangzhou", State: fsm.RunFailed, Error: "2 objects failed"}
	failed2 := fsm.TargetProgress{ClusterID: "chengdu", State: fsm.RunFailed, Error: "target unreachable: x"}
	cases := []struct {
		name        string
		cause, enum error
		targets     []fsm.TargetProgress
		state       fsm.RunState
		reason      string
	}{
		{name: "every target done", targets: []fsm.TargetProgress{ok, ok}, state: fsm.RunSuccess},
		{name: "no targets", state: fsm.RunSuccess},
		{name: "a user cancel", cause: errCanceled, targets: []fsm.TargetProgress{failed}, state: fsm.RunCanceled, reason: "canceled"},
		{name: "a cancel wrapped", cause: fmt.Errorf("stop: %w", errCanceled), state: fsm.RunCanceled, reason: "canceled"},
		{name: "the enumeration failed", enum: errors.New("local repository p/r: not found"), targets: []fsm.TargetProgress{ok},
			state: fsm.RunFailed, reason: "local repository p/r: not found"},
		{name: "a cancel beats the enumeration", cause: errCanceled, enum: errors.New("x"), state: fsm.RunCanceled, reason: "canceled"},
		{name: "FAST_FAIL ended the run", cause: errors.New("conflict at /a on beijing (conflictStrategy FAST_FAIL)"), targets: []fsm.TargetProgress{ok},
			state: fsm.RunFailed, reason: "conflict at /a on beijing (conflictStrategy FAST_FAIL)"},
		{name: "the run's own end is no failure", cause: context.Canceled, targets: []fsm.TargetProgress{ok}, state: fsm.RunSuccess},
		{name: "one target failed", targets: []fsm.TargetProgress{ok, failed}, state: fsm.RunFailed, reason: "guangzhou: 2 objects failed"},
		{name: "each failed target says why", targets: []fsm.TargetProgress{failed, ok, failed2}, state: fsm.RunFailed,
			reason: "guangzhou: 2 objects failed; chengdu: target unreachable: x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state, reason := finalState(c.cause, c.enum, c.targets)
			if state != c.state || reason != c.reason {
				t.Errorf("finalState = %s %q, want %s %q", state, reason, c.state, c.reason)
			}
		})
	}
}
