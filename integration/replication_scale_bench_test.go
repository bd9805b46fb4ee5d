package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/store"
)

// BenchmarkReplicationScale replicates one repository of 4 KiB files, in
// folders of 100,000, at each size of FERRY_BENCH_SCALE (default
// "100000,1000000"), then re-runs it unchanged and pages through one folder
// on the target. Targets (issue 16): time growing no faster than linearly
// (the largest size at most 1.1 × its share of the smallest's time, i.e.
// 1M ≤ 11 × 100k), each agent's peak RSS ≤ 512 MiB, the no-op re-run 0
// content bytes in ≤ 2 s, and a page of 1,000 of a 100,000-file folder in ≤
// 50 ms.
//
// The source's store is filled before its agent starts (store.Open and
// WriteBatch on its data dir, what an upload does without HTTP): a million
// PUTs would take longer than everything measured.
//
//	BENCH=BenchmarkReplicationScale COUNT=1 bash bench/replication.sh
func BenchmarkReplicationScale(b *testing.B) {
	sizes := scaleSizes(b)
	runs := make([]time.Duration, len(sizes))
	for b.Loop() {
		b.StopTimer()
		for i, n := range sizes {
			s := measureScale(b, n)
			runs[i] += s.run
			label := scaleLabel(n)
			b.ReportMetric(s.run.Seconds(), "run-s-"+label)
			b.ReportMetric(float64(n)/s.run.Seconds(), "objects/s-"+label)
			for side, m := range map[string]memory{"source": s.source, "target": s.target} {
				b.ReportMetric(float64(m.hwm)/(1<<20), side+"-peak-rss-MiB-"+label)
				b.ReportMetric(float64(m.anon)/(1<<20), side+"-peak-anon-MiB-"+label)
				b.ReportMetric(float64(m.file)/(1<<20), side+"-peak-file-MiB-"+label)
			}
			b.ReportMetric(s.noop.Seconds(), "noop-s-"+label)
			b.ReportMetric(float64(s.noopSent), "noop-bytesSent-"+label)
			b.ReportMetric(float64(s.page.Microseconds())/1000, "list-page-max-ms-"+label)
		}
		b.StartTimer()
	}
	if len(sizes) > 1 {
		first, last := 0, len(sizes)-1
		growth := float64(sizes[last]) / float64(sizes[first])
		b.ReportMetric(runs[last].Seconds()/runs[first].Seconds(), "time-ratio-"+scaleLabel(sizes[last])+"/"+scaleLabel(sizes[first]))
		b.ReportMetric(growth, "size-ratio")
	}
}

// scaleStats is what one size measured.
type scaleStats struct {
	run, noop, page time.Duration
	noopSent        int64
	source, target  memory
}

func measureScale(b *testing.B, n int) scaleStats {
	it := newBenchIteration(b)
	defer it.done()
	seedScaleStore(b, filepath.Join(it.dir, "shanghai", "store"), n)
	sh, bj := startBenchPair(b, it.dir)
	defer sh.stop()
	defer bj.stop()
	spec := repoSpec(benchProject, "scale", "GENERIC", "beijing")
	// As for the other runs: the source's files read back (the seeding
	// took long enough for the machine to evict its first segments).
	settle(b, filepath.Join(sh.dataDir, "store"))
	var s scaleStats
	stopSampling := sampleMemory(sh, bj)
	stopProfile := cpuProfile(b, "scale-"+scaleLabel(n))
	halfway := false
	r, took := timeRun(b, sh, spec, 100*time.Millisecond, func(_ time.Time, r run) {
		if len(r.Targets) == 1 && !halfway && r.Targets[0].BytesDone > int64(n)*scaleFileSize/2 {
			halfway = true
			heapProfile(b, "scale-"+scaleLabel(n)+"-halfway")
		}
	})
	stopProfile()
	checkRun(b, r, n, int64(n)*scaleFileSize, int64(n)*scaleFileSize)
	s.run = took

	settle(b)
	r, s.noop = timeRun(b, sh, spec, 10*time.Millisecond, nil)
	checkRun(b, r, n, int64(n)*scaleFileSize, 0)
	s.noopSent = r.Targets[0].BytesSent
	s.page = pageFolder(b, bj, "/d00", min(n, scaleFolder))
	peaks := stopSampling()
	s.source, s.target = peaks[0], peaks[1]
	return s
}

const (
	scaleFileSize = 4 << 10
	scaleFolder   = 100_000
)

func scalePath(i int) string { return fmt.Sprintf("/d%02d/f%06d", i/scaleFolder, i%scaleFolder) }

func scaleContent(i int) []byte {
	buf := make([]byte, scaleFileSize)
	if _, err := io.ReadFull(patterned(uint64(7_000_000+i), scaleFileSize), buf); err != nil {
		panic(err)
	}
	return buf
}

// seedScaleStore writes n files into project bench, repository scale, of
// the store in dir, 1,000 a batch.
func seedScaleStore(b *testing.B, dir string, n int) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(dir, slog.Default())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateProject(ctx, store.Project{Name: benchProject, CreatedBy: "bench"}); err != nil {
		b.Fatal(err)
	}
	if _, err := st.CreateRepo(ctx, store.Repo{Project: benchProject, Name: "scale", Type: store.TypeGeneric, CreatedBy: "bench"}); err != nil {
		b.Fatal(err)
	}
	repo, err := st.Repository(ctx, benchProject, "scale")
	if err != nil {
		b.Fatal(err)
	}
	bulk, err := store.BulkOf(repo)
	if err != nil {
		b.Fatal(err)
	}
	for from := 0; from < n; from += 1000 {
		files := make([]store.BatchFile, 0, 1000)
		for i := from; i < min(n, from+1000); i++ {
			files = append(files, store.BatchFile{Path: scalePath(i), Content: scaleContent(i), Opt: store.WriteOptions{Size: scaleFileSize, By: "bench"}})
		}
		res, err := bulk.WriteBatch(ctx, files)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}

// pageFolder pages through folder on a, 1,000 files a page, checking each
// file's sha256; it returns the slowest page's time.
func pageFolder(b *testing.B, a *benchAgent, folder string, files int) time.Duration {
	b.Helper()
	var slowest time.Duration
	seen := 0
	for page := 1; ; page++ {
		var p nodePage
		url := fmt.Sprintf("%s/v1/projects/%s/repos/scale/nodes?path=%s&pageSize=1000&pageNumber=%d", a.url, benchProject, folder, page)
		start := time.Now()
		r := call(b, "GET", url, mgmtToken, nil)
		slowest = max(slowest, time.Since(start))
		mustStatus(b, r, http.StatusOK, "list "+folder)
		r.decode(b, &p)
		if page == 1 || int64(page) == p.TotalPages {
			checkScaleRecords(b, p.Records)
		}
		seen += len(p.Records)
		if int64(page) >= p.TotalPages {
			break
		}
	}
	if seen != files {
		b.Fatalf("%s lists %d files in %s, want %d", a.id, seen, folder, files)
	}
	return slowest
}

func checkScaleRecords(b *testing.B, recs []listedNode) {
	b.Helper()
	for _, rec := range recs {
		var d, f int
		if _, err := fmt.Sscanf(rec.Path, "/d%02d/f%06d", &d, &f); err != nil {
			b.Fatalf("unexpected path %q", rec.Path)
		}
		sum := sha256.Sum256(scaleContent(d*scaleFolder + f))
		if hex.EncodeToString(sum[:]) != rec.SHA256 {
			b.Fatalf("%s: sha256 %s, want %x", rec.Path, rec.SHA256, sum)
		}
	}
}

// memory is an agent process's resident memory: VmHWM is the peak of the
// whole set; anon (heap, stacks) and file (mapped files: bbolt maps its
// database, pages the kernel can drop without writing) are the largest
// samples seen.
type memory struct{ hwm, anon, file int64 }

// procStatus reads the named kB fields of /proc/pid/status, in bytes.
func procStatus(pid int, fields ...string) (map[string]int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for line := range strings.Lines(string(raw)) {
		for _, f := range fields {
			if v, ok := strings.CutPrefix(line, f+":"); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					return nil, err
				}
				out[f] = kb << 10
			}
		}
	}
	return out, nil
}

// sampleMemory samples the agents' memory every 100 ms until stop is
// called, which returns the peaks (zero for an agent in this process).
func sampleMemory(agents ...*benchAgent) (stop func() []memory) {
	peaks := make([]memory, len(agents))
	done, finished := make(chan struct{}), make(chan struct{})
	sample := func() {
		for i, a := range agents {
			if a.pid == 0 {
				continue
			}
			if st, err := procStatus(a.pid, "VmHWM", "RssAnon", "RssFile"); err == nil {
				peaks[i] = memory{st["VmHWM"], max(peaks[i].anon, st["RssAnon"]), max(peaks[i].file, st["RssFile"])}
			}
		}
	}
	go func() {
		defer close(finished)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() []memory {
		close(done)
		<-finished
		sample()
		return peaks
	}
}

func scaleSizes(b *testing.B) []int {
	spec := os.Getenv("FERRY_BENCH_SCALE")
	if spec == "" {
		spec = "100000,1000000"
	}
	var out []int
	for f := range strings.SplitSeq(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("FERRY_BENCH_SCALE=%q: %q is not a count", spec, f)
		}
		out = append(out, n)
	}
	return out
}

func scaleLabel(n int) string {
	switch {
	case n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}
