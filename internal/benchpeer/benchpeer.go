// Package benchpeer times the tools Ferry's benchmarks are compared with, on
// the same data and disk, in the same run, and reports throughput and ratios
// in one form:
//
//   - cp(1): Cp copies a file or a tree (optionally fsyncing the copy);
//   - rsync(1) against an rsync daemon on loopback: StartRsyncDaemon serves
//     one writable module, Rsync times `rsync -a` of a tree into it (or into
//     any destination rsync takes), a second identical Rsync is the no-op
//     re-run.
//
// ReportThroughput and ReportRate compare with cp; ReportVersus compares with
// any number of peers at once.
//
// It is for benchmarks only and must not be imported by Ferry's own code.
package benchpeer

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// Cp copies src to dst with cp(1), replacing dst; with fsync it also fsyncs
// the copy, the fair peer for a store that fsyncs what it writes.
func Cp(b testing.TB, src, dst string, fsync bool) time.Duration {
	b.Helper()
	os.RemoveAll(dst)
	start := time.Now()
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		b.Fatalf("cp: %v %s", err, out)
	}
	if fsync {
		f, err := os.Open(dst)
		if err != nil {
			b.Fatal(err)
		}
		f.Sync()
		f.Close()
	}
	return time.Since(start)
}

// ReportThroughput reports Ferry's and cp's MiB/s for bytes moved and the
// ratios Ferry ÷ cp and Ferry ÷ cp+fsync, as "x-cp" and "x-cp+fsync".
func ReportThroughput(b *testing.B, name string, bytes int64, ferry, cp, cpFsync time.Duration) {
	mbps := func(d time.Duration) float64 { return float64(bytes) / d.Seconds() / (1 << 20) }
	b.ReportMetric(mbps(ferry), name+"-MiB/s")
	b.ReportMetric(mbps(cp), "cp-MiB/s")
	b.ReportMetric(cp.Seconds()/ferry.Seconds(), "x-cp")
	b.ReportMetric(cpFsync.Seconds()/ferry.Seconds(), "x-cp+fsync")
}

// ReportRate reports Ferry's and cp's objects per second and Ferry ÷ cp.
func ReportRate(b *testing.B, name string, objects int, ferry, cp time.Duration) {
	b.ReportMetric(float64(objects)/ferry.Seconds(), name+"-objects/s")
	if cp > 0 {
		b.ReportMetric(float64(objects)/cp.Seconds(), "cp-files/s")
		b.ReportMetric(cp.Seconds()/ferry.Seconds(), "x-cp")
	}
}

// Peer is the time one compared tool took for the same work as Ferry.
type Peer struct {
	Name string
	Time time.Duration
}

// ReportVersus reports, for one piece of work done by Ferry and by each peer,
// the seconds each took ("<name>-s", "<peer>-s") and Ferry's speed-up over
// each peer ("x-<peer>": the peer's time ÷ Ferry's, above 1 Ferry is
// faster). With bytes > 0 it reports MiB/s too, with files > 0 files/s.
// Times are per operation: pass totals divided by b.N.
func ReportVersus(b *testing.B, name string, bytes int64, files int, ferry time.Duration, peers ...Peer) {
	report := func(who string, d time.Duration) {
		b.ReportMetric(d.Seconds(), who+"-s")
		if bytes > 0 {
			b.ReportMetric(float64(bytes)/d.Seconds()/(1<<20), who+"-MiB/s")
		}
		if files > 0 {
			b.ReportMetric(float64(files)/d.Seconds(), who+"-files/s")
		}
	}
	report(name, ferry)
	for _, p := range peers {
		report(p.Name, p.Time)
		b.ReportMetric(p.Time.Seconds()/ferry.Seconds(), "x-"+p.Name)
	}
}
