package scheduler

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/hashicorp/raft"
)

func realTimeTask(key string, enabled bool) fsm.Task {
	return fsm.Task{Key: key, SourceCluster: "shanghai", ReplicaType: fsm.ReplicaRealTime, Enabled: enabled}
}

// run is a run of task k fired at t0+fired, ended after lasted (0: not ended).
func run(k string, state fsm.RunState, fired, lasted time.Duration) fsm.Run {
	r := fsm.Run{TaskKey: k, State: state, CreatedAt: t0.Add(fired), StartedAt: t0.Add(fired)}
	if lasted > 0 {
		r.FinishedAt = r.CreatedAt.Add(lasted)
	}
	return r
}

func TestStandingDue(t *testing.T) {
	now := t0.Add(time.Hour)
	cases := []struct {
		name  string
		tasks []fsm.Task
		runs  []fsm.Run // newest first
		want  map[string]time.Time
	}{
		{name: "a new task starts at once", tasks: []fsm.Task{realTimeTask("k", true)}, want: map[string]time.Time{"k": now}},
		{name: "a disabled task has none", tasks: []fsm.Task{realTimeTask("k", false)}, want: map[string]time.Time{}},
		{name: "a scheduled task has none", tasks: []fsm.Task{{Key: "k", ReplicaType: fsm.ReplicaScheduled, Enabled: true}}, want: map[string]time.Time{}},
		{name: "a running one is left alone", tasks: []fsm.Task{realTimeTask("k", true)},
			runs: []fsm.Run{run("k", fsm.RunRunning, 0, 0)}, want: map[string]time.Time{}},
		{name: "a waiting one is left alone", tasks: []fsm.Task{realTimeTask("k", true)},
			runs: []fsm.Run{run("k", fsm.RunWaiting, 0, 0), run("k", fsm.RunFailed, -time.Minute, time.Second)}, want: map[string]time.Time{}},
		{name: "a run that lasted restarts after the first pause", tasks: []fsm.Task{realTimeTask("k", true)},
			runs: []fsm.Run{run("k", fsm.RunFailed, 50*time.Minute, 9*time.Minute)}, want: map[string]time.Time{"k": t0.Add(50*time.Minute + standingPause)}},
		{name: "failures in a row double the pause", tasks: []fsm.Task{realTimeTask("k", true)},
			runs: []fsm.Run{run("k", fsm.RunFailed, 59*time.Minute, time.Second), run("k", fsm.RunFailed, 58*time.Minute, time.Second), run("k", fsm.RunCanceled, 0, time.Hour)},
			want: map[string]time.Time{"k": t0.Add(59*time.Minute + 4*standingPause)}},
		{name: "a run that never started counts as failing soon", tasks: []fsm.Task{realTimeTask("k", true)},
			runs: []fsm.Run{{TaskKey: "k", State: fsm.RunFailed, CreatedAt: now.Add(-time.Second), FinishedAt: now}},
			want: map[string]time.Time{"k": now.Add(-time.Second + 2*standingPause)}},
		{name: "the pause is capped", tasks: []fsm.Task{realTimeTask("k", true)},
			runs: repeat(run("k", fsm.RunFailed, 59*time.Minute, time.Second), 10), want: map[string]time.Time{"k": t0.Add(59*time.Minute + standingMaxPause)}},
		{name: "each task by its own runs", tasks: []fsm.Task{realTimeTask("a", true), realTimeTask("b", true)},
			runs: []fsm.Run{run("a", fsm.RunRunning, 0, 0)}, want: map[string]time.Time{"b": now}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]time.Time{}
			for _, d := range standingDue(c.tasks, c.runs, now) {
				got[d.key] = d.at
				if d.source != "shanghai" {
					t.Errorf("task %s: source %q", d.key, d.source)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("due %v, want %v", got, c.want)
			}
			for k, at := range c.want {
				if !got[k].Equal(at) {
					t.Errorf("task %s due at %s, want %s", k, got[k], at)
				}
			}
		})
	}
}

// createRealTime creates an enabled REAL_TIME review task.
func createRealTime(t *testing.T, a *rv, key string) fsm.Task {
	t.Helper()
	tk := reviewTask(key, "live")
	tk.ReplicaType = fsm.ReplicaRealTime
	if err := a.do(t, fsm.CmdCreateTask, t0, tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

func repeat(r fsm.Run, n int) []fsm.Run {
	out := make([]fsm.Run, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// The loop fires the standing run of an enabled REAL_TIME task, once, and
// stops with its context.
func TestStandingFiresOneRunPerTask(t *testing.T) {
	a := reviewFSM(t)
	createRealTime(t, a, "live")
	var mu sync.Mutex
	fires := 0
	s := &Standing{State: a.f, Log: slog.New(slog.DiscardHandler), Fire: func(cmd fsm.Command) (fsm.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		fires++
		cmd.Time = time.Now().UTC()
		b, _ := cmd.Encode()
		a.i++
		return a.f.Apply(&raft.Log{Index: a.i, Type: raft.LogCommand, Data: b}).(fsm.Result), nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	deadline := time.After(10 * time.Second)
	for {
		changed := a.f.Changed()
		if rs := a.f.Runs(fsm.RunFilter{TaskKey: "live"}); len(rs) > 0 {
			if rs[0].State != fsm.RunWaiting || rs[0].Trigger != fsm.TriggerRealTime || rs[0].CreatedBy != "realtime:shanghai" {
				t.Errorf("standing run %+v", rs[0])
			}
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("no standing run fired")
		}
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if n := len(a.f.Runs(fsm.RunFilter{TaskKey: "live"})); n != 1 || fires != 1 {
		t.Errorf("%d runs after %d fires, want one", n, fires)
	}
}

// A task whose source agent is absent gets no standing run (the leader would
// only fail it again); once the source is back, the next wake fires it.
func TestStandingWaitsForAnAbsentSource(t *testing.T) {
	a := reviewFSM(t)
	createRealTime(t, a, "live")
	var mu sync.Mutex // a.do and Fire both apply to the FSM
	var present bool
	asked := make(chan string, 16)
	s := &Standing{State: a.f, Log: slog.New(slog.DiscardHandler),
		Executable: func(c string) bool {
			mu.Lock()
			defer mu.Unlock()
			select {
			case asked <- c:
			default:
			}
			return present
		},
		Fire: func(cmd fsm.Command) (fsm.Result, error) {
			mu.Lock()
			defer mu.Unlock()
			cmd.Time = time.Now().UTC()
			b, _ := cmd.Encode()
			a.i++
			return a.f.Apply(&raft.Log{Index: a.i, Type: raft.LogCommand, Data: b}).(fsm.Result), nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	select {
	case c := <-asked:
		if c != "shanghai" {
			t.Fatalf("asked about %q, want the task's source", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the loop never asked whether the source is there")
	}
	mu.Lock()
	if n := len(a.f.Runs(fsm.RunFilter{TaskKey: "live"})); n != 0 {
		t.Fatalf("%d standing runs fired for an absent source", n)
	}
	present = true
	tk := reviewTask("wake", "wake") // any applied change wakes the loop
	err := a.do(t, fsm.CmdCreateTask, t0, tk)
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		changed := a.f.Changed()
		if len(a.f.Runs(fsm.RunFilter{TaskKey: "live"})) == 1 {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("no standing run once the source was back")
		}
	}
	cancel()
	<-done
}
