package main

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/client"
)

func target(name, state string, bytesTotal, bytesDone, rate int64) client.RunTarget {
	return client.RunTarget{ClusterID: name, State: state, BytesTotal: bytesTotal, BytesDone: bytesDone, BytesPerSecond: rate}
}

func TestViewTarget(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    client.RunTarget
		want targetView
	}{
		{"waiting, totals unknown", target("b", "WAITING", 0, 0, 0),
			targetView{frac: 0, pct: " --%", bytes: "-- / --"}},
		{"running, listing not done", target("b", "RUNNING", 0, 0, 0),
			targetView{frac: 0, pct: " --%", bytes: "-- / --", tail: "0 B/s  ETA --"}},
		{"running", client.RunTarget{ClusterID: "b", State: "RUNNING", ObjectsTotal: 64, ObjectsDone: 10,
			BytesTotal: 1 << 30, BytesDone: 160 << 20, BytesPerSecond: 50 << 20},
			targetView{frac: 160.0 / 1024, pct: " 15%", bytes: "160.0 MiB / 1.0 GiB", tail: "50.0 MiB/s  ETA 17s  10/64 objects"}},
		{"skipped and failed bytes count as progress", client.RunTarget{ClusterID: "b", State: "RUNNING", ObjectsTotal: 4, ObjectsDone: 1, ObjectsSkipped: 1, ObjectsFailed: 1, Conflicts: 1,
			BytesTotal: 400, BytesDone: 100, BytesSkipped: 100, BytesFailed: 100, BytesPerSecond: 10},
			targetView{frac: 0.75, pct: " 75%", bytes: "300 B / 400 B", tail: "10 B/s  ETA 10s  3/4 objects, 1 skipped, 1 failed, 1 conflicts"}},
		{"stalled", target("b", "RUNNING", 100, 50, 0),
			targetView{frac: 0.5, pct: " 50%", bytes: "50 B / 100 B", tail: "0 B/s  ETA --"}},
		{"all there, still running", target("b", "RUNNING", 100, 100, 5),
			targetView{frac: 1, pct: "100%", bytes: "100 B / 100 B", tail: "5 B/s  ETA 0s"}},
		{"no bytes, objects only", client.RunTarget{ClusterID: "b", State: "RUNNING", ObjectsTotal: 8, ObjectsDone: 2},
			targetView{frac: 0.25, pct: " 25%", bytes: "0 B / 0 B", tail: "0 B/s  ETA --  2/8 objects"}},
		{"success, empty repository", target("b", "SUCCESS", 0, 0, 0),
			targetView{frac: 1, pct: "100%", bytes: "0 B / 0 B"}},
		{"success", client.RunTarget{ClusterID: "b", State: "SUCCESS", ObjectsTotal: 64, ObjectsDone: 10, ObjectsSkipped: 54,
			BytesTotal: 1 << 30, BytesDone: 1 << 29, BytesSkipped: 1 << 29, BytesPerSecond: 1 << 20},
			targetView{frac: 1, pct: "100%", bytes: "1.0 GiB / 1.0 GiB", tail: "64/64 objects, 54 skipped"}},
		{"failed", client.RunTarget{ClusterID: "b", State: "FAILED", ObjectsTotal: 4, ObjectsDone: 1, ObjectsFailed: 1,
			BytesTotal: 400, BytesDone: 100, BytesFailed: 100, Error: "dial beijing:\nconnection refused"},
			targetView{frac: 0.5, pct: " 50%", bytes: "200 B / 400 B", tail: "2/4 objects, 1 failed  error: dial beijing: connection refused"}},
		{"failed before listing", client.RunTarget{ClusterID: "b", State: "FAILED", Error: "no route"},
			targetView{frac: 0, pct: "  0%", bytes: "0 B / 0 B", tail: "error: no route"}},
		{"counters past the total", target("b", "RUNNING", 100, 150, 10),
			targetView{frac: 1, pct: "100%", bytes: "150 B / 100 B", tail: "10 B/s  ETA 0s"}},
	} {
		if got := viewTarget(tc.t); got != tc.want {
			t.Errorf("%s: viewTarget =\n%+v, want\n%+v", tc.name, got, tc.want)
		}
	}
}

func TestTargetETA(t *testing.T) {
	for _, tc := range []struct {
		t    client.RunTarget
		want string
	}{
		{target("b", "RUNNING", 100<<20, 0, 1<<20), "ETA 1m40s"},
		{target("b", "RUNNING", 10<<30, 1<<30, 1<<20), "ETA 2h33m"},
		{client.RunTarget{BytesTotal: 100, BytesDone: 40, BytesSkipped: 40, BytesPerSecond: 10}, "ETA 2s"},
		{target("b", "RUNNING", 0, 0, 100), "ETA --"},
		{target("b", "RUNNING", 100, 10, 0), "ETA --"},
		{target("b", "RUNNING", 1<<62, 0, 1), "ETA --"},
	} {
		if got := targetETA(tc.t); got != tc.want {
			t.Errorf("targetETA(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		frac float64
		want string
	}{
		{0, "                    "},
		{-1, "                    "},
		{0.5, "=========>          "},
		{0.99, "==================> "},
		{1, "===================="},
		{2, "===================="},
	} {
		if got := progressBar(tc.frac); got != tc.want {
			t.Errorf("progressBar(%v) = %q, want %q", tc.frac, got, tc.want)
		}
	}
}

func sampleRun() client.Run {
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	return client.Run{
		ID: "7d0c", State: "RUNNING", ExecutorClusterID: "shanghai", CreatedAt: start, StartedAt: start,
		Spec: client.RunSpec{RemoteClusterIDs: []string{"beijing", "guangzhou"}},
		Targets: []client.RunTarget{
			{ClusterID: "beijing", State: "RUNNING", ObjectsTotal: 64, ObjectsDone: 10,
				BytesTotal: 1 << 30, BytesDone: 160 << 20, BytesSent: 160 << 20, BytesPerSecond: 50 << 20},
			{ClusterID: "guangzhou", State: "SUCCESS", ObjectsTotal: 64, ObjectsDone: 10, ObjectsSkipped: 54,
				BytesTotal: 1 << 30, BytesDone: 1 << 29, BytesSkipped: 1 << 29},
		},
	}
}

func TestRenderRun(t *testing.T) {
	r := sampleRun()
	want := []string{
		"run 7d0c RUNNING  executor shanghai",
		"  beijing    RUNNING  [==>                 ]  15%   160.0 MiB / 1.0 GiB  50.0 MiB/s  ETA 17s  10/64 objects",
		"  guangzhou  SUCCESS  [====================] 100%     1.0 GiB / 1.0 GiB  64/64 objects, 54 skipped",
	}
	if got := renderRun(r, 0); !reflect.DeepEqual(got, want) {
		t.Errorf("renderRun =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range renderRun(r, 40) {
		if n := len([]rune(l)); n > 40 {
			t.Errorf("line of %d runes at width 40: %q", n, l)
		}
	}
	if got := renderRun(r, 40)[1]; got != "  beijing    RUNNING  [==>             …" {
		t.Errorf("cut line = %q", got)
	}

	r.State, r.FinishedAt, r.Error = "FAILED", r.StartedAt.Add(65*time.Second), "target beijing:\nboom"
	r.Targets[0].State = "FAILED"
	got := renderRun(r, 0)
	if got[0] != "run 7d0c FAILED  executor shanghai  in 1m05s" || got[len(got)-1] != "error: target beijing: boom" {
		t.Errorf("finished run renders as\n%s", strings.Join(got, "\n"))
	}

	waiting := client.Run{ID: "w", State: "WAITING", CancelRequested: true}
	if got := renderRun(waiting, 0); !reflect.DeepEqual(got, []string{"run w WAITING  cancel requested"}) {
		t.Errorf("waiting run renders as %q", got)
	}
}

func TestRunLine(t *testing.T) {
	want := "run 7d0c RUNNING  executor shanghai: beijing RUNNING 15% 160.0 MiB/1.0 GiB 50.0 MiB/s  ETA 17s  10/64 objects; " +
		"guangzhou SUCCESS 100% 1.0 GiB/1.0 GiB 64/64 objects, 54 skipped"
	if got := runLine(sampleRun()); got != want {
		t.Errorf("runLine =\n%q, want\n%q", got, want)
	}
}

func TestRunDisplay(t *testing.T) {
	r := sampleRun()
	var b bytes.Buffer
	d := &runDisplay{out: &b, tty: false}
	d.show(r)
	d.show(r)
	if lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); len(lines) != 2 || lines[0] != runLine(r) {
		t.Errorf("not a terminal: %q", b.String())
	}

	b.Reset()
	d = &runDisplay{out: &b, tty: true, width: 200}
	d.show(r)
	first := b.String()
	if strings.Contains(first, "\x1b[3A") || strings.Count(first, "\n") != 3 {
		t.Errorf("first draw %q", first)
	}
	b.Reset()
	d.show(r)
	if !strings.HasPrefix(b.String(), "\x1b[3A\r\x1b[2K") || !strings.HasSuffix(b.String(), "\n\x1b[J") {
		t.Errorf("redraw %q does not go back over the 3 lines", b.String())
	}
}

func TestRunRowAndDuration(t *testing.T) {
	r := sampleRun()
	now := r.StartedAt.Add(90 * time.Second)
	want := "7d0c\tRUNNING\tshanghai\tbeijing,guangzhou\t74/128\t1.2 GiB/2.0 GiB\t" +
		r.CreatedAt.Local().Format("2006-01-02 15:04") + "\t1m30s"
	if got := runRow(r, now); got != want {
		t.Errorf("runRow =\n%q, want\n%q", got, want)
	}
	waiting := client.Run{ID: "w", State: "WAITING", Spec: client.RunSpec{RemoteClusterIDs: []string{"beijing"}}}
	if got, want := runRow(waiting, now), "w\tWAITING\t-\tbeijing\t0/0\t0 B/0 B\t-\t-"; got != want {
		t.Errorf("runRow(waiting) = %q, want %q", got, want)
	}
	r.State, r.FinishedAt = "SUCCESS", r.StartedAt.Add(3*time.Hour)
	if got := runDuration(r, now); got != "3h00m" {
		t.Errorf("runDuration(finished) = %q", got)
	}
}

func TestRunOutcome(t *testing.T) {
	for _, tc := range []struct {
		r    client.Run
		want string
	}{
		{client.Run{ID: "a", State: "SUCCESS"}, ""},
		{client.Run{ID: "a", State: "FAILED", Error: "boom"}, "run a FAILED: boom"},
		{client.Run{ID: "a", State: "FAILED", Targets: []client.RunTarget{{ClusterID: "b", Error: "x"}, {ClusterID: "c"}, {ClusterID: "d", Error: "y\nz"}}}, "run a FAILED: b: x; d: y z"},
		{client.Run{ID: "a", State: "CANCELED"}, "run a CANCELED"},
	} {
		err := runOutcome(tc.r)
		if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("runOutcome(%+v) = %v, want %q", tc.r, err, tc.want)
		}
	}
}
