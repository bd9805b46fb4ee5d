package integration

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
	"github.com/ferrysync/ferry/internal/benchpeer"
)

// Replication between two agents on loopback (shanghai → beijing), beside cp
// and an rsync daemon on loopback copying the same files on the same disk, in
// the same run. Each iteration starts two fresh agents (processes of the
// ferry binary; data dirs in the scratch directory, see benchScratch), uploads
// the data set into shanghai through the HTTP API, and times a REPOSITORY run
// from POST /v1/runs until GET /v1/runs/{id} (polled every 10 ms) says
// SUCCESS. What arrived on beijing is checked file by file (size, sha256).
//
//	bench/replication.sh
//	go test -run '^$' -bench BenchmarkReplication -benchtime 1x -count 3 ./integration/
//
// With FERRY_BENCH_INPROCESS=1 the two agents run in the test process
// instead (agent.Start), and with FERRY_BENCH_PROFILE=dir a CPU profile and
// an execution trace of this process covering only each timed run are
// written into dir (see cpuProfile): sender and receiver, without the setup
// around them.
//
//	FERRY_BENCH_INPROCESS=1 FERRY_BENCH_PROFILE=/tmp/prof go test -run '^$' \
//	    -bench BenchmarkReplication10kFiles -benchtime 1x ./integration/
//	go tool pprof -top /tmp/prof/10k-1.pprof
//
// Every timed step starts with no dirty pages and no recently freed memory
// (see settle). ferry-cpu-s is the CPU time both agents used during a run:
// on 2 cores a run needing more than one core's worth slows down whenever
// anything else on the machine takes a core. The agents fsync what they
// store; cp and rsync leave their copies in the page cache, so cp+sync (cp,
// then sync(2)) is reported beside cp.

const benchProject = "bench"

// BenchmarkReplication1GiB replicates 64 files of 16 MiB. Targets: Ferry at
// least 0.8× cp's throughput and 1.2× rsync's.
func BenchmarkReplication1GiB(b *testing.B) {
	data := writeBenchData(b, 64, 16<<20, func(i int) string { return fmt.Sprintf("/f%02d.bin", i) })
	var ferry, ferryRun, ferryCPU, cp, cpSync, rsync time.Duration
	for b.Loop() {
		b.StopTimer()
		it := newBenchIteration(b)
		sh, bj := startBenchPair(b, it.dir)
		uploadBenchData(b, sh, "big", data, 4)
		settle(b, sh.dataDir)
		b.StartTimer()
		stopProfile := cpuProfile(b, "1GiB")
		var r run
		var took time.Duration
		ferryCPU += cpuOf(sh, bj, func() {
			r, took = timeRun(b, sh, repoSpec(benchProject, "big", "GENERIC", "beijing"), 10*time.Millisecond, nil)
		})
		stopProfile()
		b.StopTimer()
		checkRun(b, r, len(data.files), data.bytes, data.bytes)
		verifyBenchCopy(b, bj, "big", data)
		ferry += took
		ferryRun += r.FinishedAt.Sub(r.StartedAt)

		c, cs := timeCp(b, data.dir, it.dir)
		cp, cpSync = cp+c, cpSync+cs
		d := benchpeer.StartRsyncDaemon(b, filepath.Join(it.dir, "rsync"))
		settle(b, data.dir)
		rsync += benchpeer.Rsync(b, data.dir, d.URL())
		checkTree(b, d.Dir, data)
		d.Stop()
		sh.stop()
		bj.stop()
		it.done()
		b.StartTimer()
	}
	n := time.Duration(b.N)
	benchpeer.ReportVersus(b, "ferry", data.bytes, 0, ferry/n,
		benchpeer.Peer{Name: "cp", Time: cp / n}, benchpeer.Peer{Name: "cp+sync", Time: cpSync / n}, benchpeer.Peer{Name: "rsync", Time: rsync / n})
	b.ReportMetric((ferryRun / n).Seconds(), "ferry-run-s")
	b.ReportMetric((ferryCPU / n).Seconds(), "ferry-cpu-s")
}

// BenchmarkReplication10kFiles replicates 10,000 files of 4 KiB (100
// directories of 100), then runs the same replication again: nothing has
// changed, so no content may be sent. Targets: Ferry at least 1.5× rsync's
// files/s, and the re-run in at most half of rsync's no-op time.
func BenchmarkReplication10kFiles(b *testing.B) {
	const count = 10_000
	data := writeBenchData(b, count, 4<<10, func(i int) string { return fmt.Sprintf("/d%02d/f%04d", i/100, i) })
	var ferry, ferryRun, ferryCPU, noop, noopRun, noopCPU, cp, cpSync, rsync, rsyncNoop time.Duration
	var noopSent int64
	for b.Loop() {
		b.StopTimer()
		it := newBenchIteration(b)
		sh, bj := startBenchPair(b, it.dir)
		uploadBenchData(b, sh, "small", data, 16)
		spec := repoSpec(benchProject, "small", "GENERIC", "beijing")
		settle(b, sh.dataDir)
		b.StartTimer()
		stopProfile := cpuProfile(b, "10k")
		var r run
		var took time.Duration
		ferryCPU += cpuOf(sh, bj, func() { r, took = timeRun(b, sh, spec, 10*time.Millisecond, nil) })
		stopProfile()
		b.StopTimer()
		checkRun(b, r, count, data.bytes, data.bytes)
		verifyBenchCopy(b, bj, "small", data)
		ferry += took
		ferryRun += r.FinishedAt.Sub(r.StartedAt)

		settle(b, sh.dataDir, bj.dataDir)
		stopProfile = cpuProfile(b, "10k-noop")
		noopCPU += cpuOf(sh, bj, func() { r, took = timeRun(b, sh, spec, 10*time.Millisecond, nil) })
		stopProfile()
		checkRun(b, r, count, data.bytes, 0)
		if tg := r.Targets[0]; tg.ObjectsSkipped != count {
			b.Fatalf("re-run of an unchanged repository: %+v", tg)
		}
		noop += took
		noopRun += r.FinishedAt.Sub(r.StartedAt)
		noopSent += r.Targets[0].BytesSent

		c, cs := timeCp(b, data.dir, it.dir)
		cp, cpSync = cp+c, cpSync+cs
		d := benchpeer.StartRsyncDaemon(b, filepath.Join(it.dir, "rsync"))
		settle(b, data.dir)
		rsync += benchpeer.Rsync(b, data.dir, d.URL())
		checkTree(b, d.Dir, data)
		settle(b, data.dir, d.Dir)
		rsyncNoop += benchpeer.Rsync(b, data.dir, d.URL())
		d.Stop()
		sh.stop()
		bj.stop()
		it.done()
		b.StartTimer()
	}
	n := time.Duration(b.N)
	benchpeer.ReportVersus(b, "ferry", 0, count, ferry/n,
		benchpeer.Peer{Name: "cp", Time: cp / n}, benchpeer.Peer{Name: "cp+sync", Time: cpSync / n}, benchpeer.Peer{Name: "rsync", Time: rsync / n})
	benchpeer.ReportVersus(b, "ferry-noop", 0, 0, noop/n, benchpeer.Peer{Name: "rsync-noop", Time: rsyncNoop / n})
	b.ReportMetric((ferryRun / n).Seconds(), "ferry-run-s")
	b.ReportMetric((noopRun / n).Seconds(), "ferry-noop-run-s")
	b.ReportMetric((ferryCPU / n).Seconds(), "ferry-cpu-s")
	b.ReportMetric((noopCPU / n).Seconds(), "ferry-noop-cpu-s")
	b.ReportMetric(float64(noopSent)/float64(b.N), "noop-bytesSent")
}

// BenchmarkReplicationRateLimit replicates 220 MiB (11 files of 20 MiB) with
// setting.rateLimit 20 MiB/s: 11 s at the limit. Target: the rate held
// within ±5 % over 10 s. Reported: bytesSent ÷ (finishedAt − startedAt) ÷
// the limit, and the largest deviation from the limit over any window of at
// least 2 s between two changes of bytesSent seen by polling the run every
// 50 ms (progress goes through Raft about once a second, so a 250 ms poll
// would blur each window by up to an eighth).
func BenchmarkReplicationRateLimit(b *testing.B) {
	const limit = 20 << 20
	data := writeBenchData(b, 11, 20<<20, func(i int) string { return fmt.Sprintf("/r%02d.bin", i) })
	var ratio, worst, seconds float64
	for b.Loop() {
		b.StopTimer()
		it := newBenchIteration(b)
		sh, _ := startBenchPair(b, it.dir)
		uploadBenchData(b, sh, "limited", data, 4)
		spec := repoSpec(benchProject, "limited", "GENERIC", "beijing")
		spec["setting"].(map[string]any)["rateLimit"] = limit
		settle(b, sh.dataDir)
		b.StartTimer()
		var points []sentAt
		r, _ := timeRun(b, sh, spec, 50*time.Millisecond, func(at time.Time, r run) {
			if len(r.Targets) == 0 {
				return
			}
			if s := r.Targets[0].BytesSent; s > 0 && (len(points) == 0 || s != points[len(points)-1].sent) {
				points = append(points, sentAt{at, s})
			}
		})
		b.StopTimer()
		checkRun(b, r, len(data.files), data.bytes, data.bytes)
		took := r.FinishedAt.Sub(r.StartedAt).Seconds()
		ratio += float64(data.bytes) / took / limit
		seconds += took
		points = append([]sentAt{{r.StartedAt, 0}}, append(points, sentAt{r.FinishedAt, data.bytes})...)
		dev := maxWindowDeviation(points, 2*time.Second, limit)
		worst = max(worst, dev)
		b.Logf("%d bytes in %.2fs: %.4f of the limit; largest deviation over ≥2s windows %.2f%% (%d progress points)",
			data.bytes, took, float64(data.bytes)/took/limit, 100*dev, len(points))
		sh.stop()
		it.done()
		b.StartTimer()
	}
	b.ReportMetric(ratio/float64(b.N), "rate/limit")
	b.ReportMetric(100*worst, "max-dev-2s-%")
	b.ReportMetric(seconds/float64(b.N), "ferry-run-s")
}

type sentAt struct {
	at   time.Time
	sent int64
}

// maxWindowDeviation is the largest |rate ÷ limit − 1| over windows from each
// point to the first point at least span later.
func maxWindowDeviation(points []sentAt, span time.Duration, limit float64) float64 {
	worst := 0.0
	for i := range points {
		for j := i + 1; j < len(points); j++ {
			dt := points[j].at.Sub(points[i].at)
			if dt < span {
				continue
			}
			rate := float64(points[j].sent-points[i].sent) / dt.Seconds()
			worst = max(worst, math.Abs(rate/limit-1))
			break
		}
	}
	return worst
}

// benchData is a tree of generated files on disk, as cp and rsync copy it
// and as it is uploaded into the source agent.
type benchData struct {
	dir   string
	files []benchFile
	bytes int64
}

type benchFile struct {
	path   string // in the repository, with a leading slash; the same under dir
	size   int64
	sha256 string
}

func writeBenchData(b *testing.B, count int, size int64, name func(int) string) benchData {
	b.Helper()
	d := benchData{dir: filepath.Join(benchScratch(b), "src")}
	for i := range count {
		p := name(i)
		full := filepath.Join(d.dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(full)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		bw := bufio.NewWriterSize(f, 1<<20)
		if _, err := io.Copy(io.MultiWriter(bw, h), patterned(uint64(1000+i), size)); err != nil {
			b.Fatal(err)
		}
		if err := errors.Join(bw.Flush(), f.Close()); err != nil {
			b.Fatal(err)
		}
		d.files = append(d.files, benchFile{p, size, hex.EncodeToString(h.Sum(nil))})
		d.bytes += size
	}
	return d
}

// benchScratch is a new directory for a benchmark's files. Under
// $FERRY_BENCH_DIR (bench/replication.sh sets it, and removes it when the
// benchmarks are over) nothing is deleted while benchmarks run: on ext4 the
// first files created after a large deletion cost far more CPU (cp -r of
// 10,000 small files: ~0.3 s normally, 2.5–7 s after deleting a few GiB), a
// cost that would land on whichever tool is timed next. Without it, a
// TempDir of the benchmark.
func benchScratch(b *testing.B) string {
	b.Helper()
	root := os.Getenv("FERRY_BENCH_DIR")
	if root == "" {
		return b.TempDir()
	}
	d, err := os.MkdirTemp(root, "scratch-")
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// benchIteration is the scratch space of one iteration.
type benchIteration struct {
	b   *testing.B
	dir string
}

func newBenchIteration(b *testing.B) benchIteration {
	return benchIteration{b, benchScratch(b)}
}

// done removes the iteration's files at once when they are in a TempDir
// (which would otherwise pile up until the benchmark returns, b.N times
// several GiB); under $FERRY_BENCH_DIR they stay until the script ends.
func (it benchIteration) done() {
	if os.Getenv("FERRY_BENCH_DIR") != "" {
		return
	}
	if err := os.RemoveAll(it.dir); err != nil {
		it.b.Fatal(err)
	}
}

// settle readies the machine for the next timed step, so that each starts
// from the same state whatever ran before it:
//   - it writes back dirty pages, so that no step pays for the previous
//     one's writes;
//   - it waits for memory freed before it to go back to the hypervisor. On a
//     VM with free page reporting (virtio_balloon, as on the machine in
//     docs/performance.md) writing into the page cache costs ~2.3 s per GiB
//     of first touches, except into pages freed a moment ago (cp -r of 1 GiB:
//     ~2.8 s, but ~0.4 s right after rm of an earlier copy). Every timed step
//     therefore starts cold, and nothing is deleted between timed steps;
//   - it reads the files under warm (the source of the step), which a
//     proactive reclaimer (DAMON pageout of page cache unused for ~60 s, on
//     that machine) may have evicted: cp -r of 10,000 small files evicted
//     takes ~2.5 s instead of ~0.3 s.
func settle(b *testing.B, warm ...string) {
	b.Helper()
	syscall.Sync()
	time.Sleep(settleTime)
	buf := make([]byte, 1<<20)
	for _, dir := range warm {
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.CopyBuffer(io.Discard, f, buf)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

var settleTime = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("FERRY_BENCH_SETTLE")); err == nil {
		return d
	}
	return 3 * time.Second
}()

// benchAgent is an agent the replication benchmarks reach over HTTP only.
type benchAgent struct {
	id, url string
	dataDir string
	stop    func()
	// cpu is the CPU time (user and system) the agent has used so far; in
	// one process with the benchmark, the whole process's.
	cpu func() time.Duration
	// pid is the agent's process (0 in the benchmark's process).
	pid int
}

// startBenchPair starts shanghai (bootstrap-expect 2) and beijing joining it,
// with data dirs under dir, and waits until both name the same leader and
// both clusters are in each one's registry.
func startBenchPair(b *testing.B, dir string) (sh, bj *benchAgent) {
	b.Helper()
	if os.Getenv("FERRY_BENCH_INPROCESS") != "" {
		inDir := func(id string) nodeOption {
			return configure(func(c *config.Config) { c.DataDir = filepath.Join(dir, id) })
		}
		first := startNode(b, "shanghai", withBootstrapExpect(2), inDir("shanghai"))
		nodes := []*node{first, startNode(b, "beijing", withBootstrapExpect(2), inDir("beijing"), withJoin(first))}
		waitReady(b, 30*time.Second, nodes...)
		wrap := func(n *node) *benchAgent { return &benchAgent{n.id(), n.url(), n.cfg.DataDir, n.stop, selfCPU, 0} }
		sh, bj = wrap(nodes[0]), wrap(nodes[1])
	} else {
		bin := ferryBinary(b)
		var gossip string
		sh, gossip = startBenchProcess(b, bin, "shanghai", filepath.Join(dir, "shanghai"))
		bj, _ = startBenchProcess(b, bin, "beijing", filepath.Join(dir, "beijing"), gossip)
	}
	eventually(b, 30*time.Second, "both agents name one leader", func() error {
		l1, err := leaderAt(sh.url)
		if err != nil {
			return err
		}
		l2, err := leaderAt(bj.url)
		if err != nil {
			return err
		}
		if l1.ID == "" || l1 != l2 {
			return fmt.Errorf("shanghai says %+v, beijing %+v", l1, l2)
		}
		return nil
	})
	for _, a := range []*benchAgent{sh, bj} {
		eventually(b, 30*time.Second, a.id+" registry has both clusters", func() error {
			r := call(b, "GET", a.url+"/v1/clusters", mgmtToken, nil)
			var cs []struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(r.body, &cs); err != nil || r.status != http.StatusOK {
				return fmt.Errorf("%d %s", r.status, r.body)
			}
			if len(cs) != 2 {
				return fmt.Errorf("%d clusters", len(cs))
			}
			return nil
		})
	}
	return sh, bj
}

// startBenchProcess starts `ferry agent` as a process and returns it with
// its gossip address.
func startBenchProcess(b testing.TB, bin, id, dataDir string, join ...string) (*benchAgent, string) {
	b.Helper()
	args := []string{"agent", "--cluster-id", id, "--data-dir", dataDir,
		"--http-port", "0", "--gossip-port", "0", "--raft-port", "0", "--bootstrap-expect", "2",
		"--log-format", "json", "--server-stabilization-time", "1s", "--reconcile-interval", "500ms"}
	for _, j := range join {
		args = append(args, "--join", j)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FERRY_TOKEN="+mgmtToken)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	a := &benchAgent{id: id, dataDir: dataDir, cpu: processCPU(cmd.Process.Pid), pid: cmd.Process.Pid, stop: sync.OnceFunc(func() {
		_ = cmd.Process.Kill()
		<-exited
	})}
	b.Cleanup(a.stop)
	var gossip string
	eventually(b, 30*time.Second, id+" logs its addresses", func() error {
		sc := bufio.NewScanner(strings.NewReader(log.String()))
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "agent started" {
				addr, _ := rec["http"].(string)
				a.url = "http://" + addr
				gossip, _ = rec["gossip"].(string)
				return nil
			}
		}
		select {
		case err := <-exited:
			exited <- err
			b.Fatalf("%s exited: %v\n%s", id, err, log.String())
		default:
		}
		return fmt.Errorf("no start line yet:\n%s", log.String())
	})
	return a, gossip
}

// benchClient keeps enough idle connections for concurrent uploads and reads
// with large buffers.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, ReadBufferSize: 1 << 20, WriteBufferSize: 1 << 20}}

// uploadBenchData creates the repository on a and PUTs every file into it
// with its sha256, workers at a time.
func uploadBenchData(b *testing.B, a *benchAgent, repo string, d benchData, workers int) {
	b.Helper()
	makeRepo(b, a.url, "", benchProject, repo, "GENERIC")
	jobs := make(chan benchFile)
	var failed atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range jobs {
				if err := putBenchFile(a.url+"/generic/"+benchProject+"/"+repo+f.path, filepath.Join(d.dir, filepath.FromSlash(f.path)), f); err != nil {
					failed.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	for _, f := range d.files {
		if failed.Load() != nil {
			break
		}
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("upload into %s: %v", a.id, err)
	}
}

func putBenchFile(url, file string, f benchFile) error {
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	req, err := http.NewRequest("PUT", url, in)
	if err != nil {
		return err
	}
	req.ContentLength = f.size
	req.Header.Set("X-Auth-Token", mgmtToken)
	req.Header.Set("X-Checksum-Sha256", f.sha256)
	resp, err := benchClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("PUT %s: %d %s", f.path, resp.StatusCode, body)
	}
	return nil
}

// timeRun starts a run on a and polls it every interval until it ends; it
// returns the ended run and the time from the POST until the poll that saw
// it end. onPoll, if set, sees every poll.
func timeRun(b *testing.B, a *benchAgent, spec map[string]any, interval time.Duration, onPoll func(time.Time, run)) (run, time.Duration) {
	b.Helper()
	start := time.Now()
	r := call(b, "POST", a.url+"/v1/runs", mgmtToken, spec)
	mustStatus(b, r, http.StatusAccepted, "start run")
	var out run
	r.decode(b, &out)
	deadline := start.Add(10 * time.Minute)
	for !terminal(out.State) {
		if time.Now().After(deadline) {
			b.Fatalf("run %s has not ended after 10 minutes: %s %+v", out.ID, out.State, out.Targets)
		}
		time.Sleep(interval) // polling interval
		g := call(b, "GET", a.url+"/v1/runs/"+out.ID, mgmtToken, nil)
		at := time.Now()
		mustStatus(b, g, http.StatusOK, "get run")
		out = run{}
		g.decode(b, &out)
		if onPoll != nil {
			onPoll(at, out)
		}
	}
	return out, time.Since(start)
}

// checkRun fails unless the run succeeded with every object accounted for
// and sent content bytes sent.
func checkRun(b *testing.B, r run, objects int, bytes, sent int64) {
	b.Helper()
	if r.State != "SUCCESS" || len(r.Targets) != 1 {
		b.Fatalf("run %s ended %s: %s %+v", r.ID, r.State, r.Error, r.Targets)
	}
	tg := r.Targets[0]
	if tg.ObjectsTotal != int64(objects) || tg.ObjectsDone+tg.ObjectsSkipped != int64(objects) || tg.ObjectsFailed != 0 ||
		tg.BytesTotal != bytes || tg.BytesSent != sent {
		b.Fatalf("run %s: %+v; want %d objects, %d bytes, %d sent", r.ID, tg, objects, bytes, sent)
	}
}

// verifyBenchCopy checks that every file arrived on a with its size and
// sha256, and nothing else.
func verifyBenchCopy(b *testing.B, a *benchAgent, repo string, d benchData) {
	b.Helper()
	got := map[string]benchFile{}
	for page := 1; ; page++ {
		var p nodePage
		r := call(b, "GET", fmt.Sprintf("%s/v1/projects/%s/repos/%s/nodes?recursive=true&pageSize=1000&pageNumber=%d", a.url, benchProject, repo, page), mgmtToken, nil)
		mustStatus(b, r, http.StatusOK, "list "+repo+" on "+a.id)
		r.decode(b, &p)
		for _, f := range p.Records {
			if !f.Folder {
				got[f.Path] = benchFile{f.Path, f.Size, f.SHA256}
			}
		}
		if int64(page) >= p.TotalPages {
			break
		}
	}
	if len(got) != len(d.files) {
		b.Fatalf("%s holds %d files of %s, want %d", a.id, len(got), repo, len(d.files))
	}
	for _, f := range d.files {
		if got[f.path] != f {
			b.Fatalf("%s holds %+v, want %+v", a.id, got[f.path], f)
		}
	}
}

// nodePage is a page of GET /v1/projects/:p/repos/:r/nodes.
type nodePage struct {
	TotalPages int64        `json:"totalPages"`
	Records    []listedNode `json:"records"`
}

type listedNode struct {
	Path   string `json:"fullPath"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Folder bool   `json:"folder"`
}

// checkTree checks that a peer's copy has every file at its size.
func checkTree(b *testing.B, dir string, d benchData) {
	b.Helper()
	files, bytes := 0, int64(0)
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		files, bytes = files+1, bytes+info.Size()
		return nil
	})
	if err != nil || files != len(d.files) || bytes != d.bytes {
		b.Fatalf("copy in %s: %d files, %d bytes (%v); want %d, %d", dir, files, bytes, err, len(d.files), d.bytes)
	}
}

// timeCp times cp -r of src into dir/cp, and into dir/cp+sync followed by
// sync(2). The copies stay until the iteration ends (see settle).
func timeCp(b *testing.B, src, dir string) (cp, cpSync time.Duration) {
	b.Helper()
	settle(b, src)
	cp = benchpeer.Cp(b, src, filepath.Join(dir, "cp"), false)
	settle(b, src)
	start := time.Now()
	benchpeer.Cp(b, src, filepath.Join(dir, "cp+sync"), false)
	syscall.Sync()
	return cp, time.Since(start)
}
