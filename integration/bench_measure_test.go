package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// What the replication benchmarks measure besides time: the agents' CPU,
// and, with FERRY_BENCH_PROFILE, profiles of the benchmark's process or,
// with FERRY_BENCH_PERF, perf(1) recordings of the whole machine.

// profiles numbers the profiles a run writes.
var profiles atomic.Int64

// cpuProfile starts a CPU profile and an execution trace of this process
// into $FERRY_BENCH_PROFILE/<name>-<n>.pprof and .trace when that is set;
// the returned function stops them. They see the agents only with
// FERRY_BENCH_INPROCESS=1. Where the wall time goes (fsyncs, waits on the
// other side) is in the trace: go tool trace -pprof=syscall (or sync, net,
// sched) <file>.trace.
func cpuProfile(b *testing.B, name string) (stop func()) {
	b.Helper()
	if dir := os.Getenv("FERRY_BENCH_PERF"); dir != "" {
		return perfRecord(b, dir, name)
	}
	dir := os.Getenv("FERRY_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%d", name, profiles.Add(1)))
	pf, err := os.Create(base + ".pprof")
	if err != nil {
		b.Fatal(err)
	}
	tf, err := os.Create(base + ".trace")
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		b.Fatalf("cpu profile: %v (not with -cpuprofile)", err)
	}
	if err := trace.Start(tf); err != nil {
		b.Fatalf("trace: %v (not with -trace)", err)
	}
	return func() {
		trace.Stop()
		pprof.StopCPUProfile()
		pf.Close()
		tf.Close()
	}
}

// heapProfile writes this process's heap profile (live and allocated
// since the start) into $FERRY_BENCH_PROFILE, if set.
func heapProfile(b *testing.B, name string) {
	b.Helper()
	dir := os.Getenv("FERRY_BENCH_PROFILE")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.heap", name, profiles.Add(1))))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// cpuOf is the CPU time both agents used during f.
func cpuOf(sh, bj *benchAgent, f func()) time.Duration {
	before := sh.cpu() + bj.cpu()
	f()
	after := sh.cpu() + bj.cpu()
	if os.Getenv("FERRY_BENCH_INPROCESS") != "" {
		return (after - before) / 2 // both read the same process's time
	}
	return after - before
}

func processCPU(pid int) func() time.Duration {
	return func() time.Duration {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		// After the command name: state is field 3, so field k is f[k-3];
		// utime is field 14, stime field 15.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 13 {
			return 0
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		return time.Duration(u+s) * time.Second / 100 // USER_HZ
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perfRecord records every process of the machine, kernel included, with
// perf(1) into dir/<name>-<n>.perf.data until the returned function is
// called: the agents' processes as they run, which cpuProfile cannot see.
//
//	FERRY_BENCH_PERF=/tmp/perf go test -run '^$' -bench BenchmarkReplication10kFiles -benchtime 1x ./integration/
//	perf report -i /tmp/perf/10k-1.perf.data --comm ferry --sort sym
func perfRecord(b *testing.B, dir, name string) (stop func()) {
	b.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, fmt.Sprintf("%s-%d.perf.data", name, profiles.Add(1)))
	event := []string{"-e", "cpu-clock", "-F", "1999"}
	if e := os.Getenv("FERRY_BENCH_PERF_EVENT"); e != "" { // page-faults: each fault, with its stack
		event = []string{"-e", e, "-c", "1"}
	}
	cmd := exec.Command("perf", append(append([]string{"record"}, event...), "-a", "-g", "-o", out)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("perf: %v", err)
	}
	eventually(b, 10*time.Second, "perf writes its header", func() error { // its events are open by then
		if st, err := os.Stat(out); err != nil || st.Size() == 0 {
			return fmt.Errorf("no %s yet", out)
		}
		return nil
	})
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
}
