package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/benchpeer"
)

// OCI replication and push/pull, beside skopeo and Debian's Distribution
// (docker-registry 2.8) on loopback, in the same run. The data set is 20
// images of 5 layers (4 KiB to 8 MiB, incompressible, deterministic; a base
// layer shared by 10 images, a runtime layer by 4, three of their own),
// written once as an OCI layout, all tags v00..v19 of bench/images.
//
//	bench/oci.sh
//	go test -run '^$' -bench BenchmarkOCI -benchtime 1x -count 3 ./integration/
//
// Each iteration, with only the tools of the step running:
//
//  1. Distribution A and B (fresh storage, kernel-chosen loopback ports):
//     push the 20 images into A (skopeo copy --preserve-digests, one after
//     another: distribution-push), skopeo sync A → B (skopeo-sync) and
//     again (skopeo-noop), every digest checked on B, then pull the 20
//     images out of A into an OCI layout (distribution-pull).
//  2. Two agents (processes of the ferry binary, shanghai and beijing):
//     push the same images into shanghai (ferry-push), a REPOSITORY run of
//     the DOCKER repository shanghai → beijing from POST /v1/runs until GET
//     /v1/runs/{id} (every 10 ms) says SUCCESS (ferry-sync) and its re-run
//     (ferry-noop, which must send 0 bytes); every image is pulled out of
//     beijing with skopeo and its digest checked, then the 20 images are
//     pulled out of shanghai (ferry-pull).
//
// Ratios are the peer's time ÷ Ferry's, as everywhere in the benchmarks
// (above 1, Ferry is faster). Targets: Ferry's run at most 0.8 × skopeo
// sync's time (x-skopeo-sync ≥ 1.25), its no-op re-run at most half of
// skopeo's (x-skopeo-noop ≥ 2), push and pull at least as fast as
// Distribution (x-distribution-push, x-distribution-pull ≥ 1).
//
// The *-cpu-s figures are CPU time used during a step: ferry-sync both
// agents; skopeo-sync skopeo and both registries; the pushes and pulls
// skopeo and the one server (registry A, or shanghai).

const (
	ociBenchImage = "bench/images"
	ociBenchTags  = 20
)

func BenchmarkOCI(b *testing.B) {
	skopeoBin := benchTool(b, "skopeo")
	registryBin := benchTool(b, "docker-registry")
	layout := writeOCIBenchLayout(b)
	creds := "bench:" + mgmtToken
	var ferrySync, ferryNoop, ferryPush, ferryPull, ferryCPU time.Duration
	var skopeoSync, skopeoNoop, distPush, distPull, skopeoCPU time.Duration
	var ferryPushCPU, ferryPullCPU, distPushCPU, distPullCPU time.Duration
	var noopSent int64
	for b.Loop() {
		b.StopTimer()
		it := newBenchIteration(b)

		// Distribution and skopeo.
		regA := startDistribution(b, registryBin, filepath.Join(it.dir, "distribution-a"))
		regB := startDistribution(b, registryBin, filepath.Join(it.dir, "distribution-b"))
		settle(b, layout.dir)
		distPush += withCPU(&distPushCPU, regA.cpu, func() time.Duration { return pushOCIBench(b, skopeoBin, layout, regA.host, "", &distPushCPU) })
		syncArgs := []string{"sync", "--all", "--preserve-digests", "--src", "docker", "--dest", "docker",
			"--src-tls-verify=false", "--dest-tls-verify=false", regA.host + "/" + ociBenchImage, regB.host + "/bench"}
		settle(b, regA.dir)
		took, cpu := timeRegistries(b, skopeoBin, syncArgs, regA, regB)
		skopeoSync, skopeoCPU = skopeoSync+took, skopeoCPU+cpu
		settle(b, regA.dir, regB.dir)
		took, _ = timeRegistries(b, skopeoBin, syncArgs, regA, regB)
		skopeoNoop += took
		checkOCIDigests(b, skopeoBin, layout, regB.host, "")
		settle(b, regA.dir)
		distPull += withCPU(&distPullCPU, regA.cpu, func() time.Duration {
			return pullOCIBench(b, skopeoBin, layout, regA.host, "", filepath.Join(it.dir, "pull-distribution"), &distPullCPU)
		})
		regA.stop()
		regB.stop()

		// Ferry.
		sh, bj := startBenchPair(b, it.dir)
		r := call(b, "POST", sh.url+"/v1/projects", mgmtToken, map[string]string{"name": "bench"})
		mustStatus(b, r, 201, "create project")
		shHost, bjHost := strings.TrimPrefix(sh.url, "http://"), strings.TrimPrefix(bj.url, "http://")
		settle(b, layout.dir)
		ferryPush += withCPU(&ferryPushCPU, sh.cpu, func() time.Duration { return pushOCIBench(b, skopeoBin, layout, shHost, creds, &ferryPushCPU) })
		spec := repoSpec(benchProject, "images", "DOCKER", "beijing")
		settle(b, sh.dataDir)
		var run run
		ferryCPU += cpuOf(sh, bj, func() { run, took = timeRun(b, sh, spec, 10*time.Millisecond, nil) })
		checkOCIRun(b, run)
		ferrySync += took
		settle(b, sh.dataDir, bj.dataDir)
		run, took = timeRun(b, sh, spec, 10*time.Millisecond, nil)
		checkOCIRun(b, run)
		ferryNoop += took
		noopSent += run.Targets[0].BytesSent
		checkOCIDigests(b, skopeoBin, layout, bjHost, creds)
		pullOCIBench(b, skopeoBin, layout, bjHost, creds, filepath.Join(it.dir, "pull-beijing"), new(time.Duration))
		settle(b, sh.dataDir)
		ferryPull += withCPU(&ferryPullCPU, sh.cpu, func() time.Duration {
			return pullOCIBench(b, skopeoBin, layout, shHost, creds, filepath.Join(it.dir, "pull-ferry"), &ferryPullCPU)
		})
		sh.stop()
		bj.stop()
		it.done()
		b.StartTimer()
	}
	n := time.Duration(b.N)
	benchpeer.ReportVersus(b, "ferry-sync", layout.bytes, 0, ferrySync/n, benchpeer.Peer{Name: "skopeo-sync", Time: skopeoSync / n})
	benchpeer.ReportVersus(b, "ferry-noop", 0, 0, ferryNoop/n, benchpeer.Peer{Name: "skopeo-noop", Time: skopeoNoop / n})
	benchpeer.ReportVersus(b, "ferry-push", layout.bytes, 0, ferryPush/n, benchpeer.Peer{Name: "distribution-push", Time: distPush / n})
	benchpeer.ReportVersus(b, "ferry-pull", layout.bytes, 0, ferryPull/n, benchpeer.Peer{Name: "distribution-pull", Time: distPull / n})
	b.ReportMetric((ferryCPU / n).Seconds(), "ferry-sync-cpu-s")
	b.ReportMetric((skopeoCPU / n).Seconds(), "skopeo-sync-cpu-s")
	b.ReportMetric((ferryPushCPU / n).Seconds(), "ferry-push-cpu-s")
	b.ReportMetric((distPushCPU / n).Seconds(), "distribution-push-cpu-s")
	b.ReportMetric((ferryPullCPU / n).Seconds(), "ferry-pull-cpu-s")
	b.ReportMetric((distPullCPU / n).Seconds(), "distribution-pull-cpu-s")
	b.ReportMetric(float64(noopSent)/float64(b.N), "noop-bytesSent")
}

// withCPU runs f and adds the CPU time server used during it to total.
func withCPU(total *time.Duration, server func() time.Duration, f func() time.Duration) time.Duration {
	before := server()
	took := f()
	*total += server() - before
	return took
}

// benchTool finds a program the benchmark drives; bench/oci.sh installs it.
func benchTool(b *testing.B, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		b.Skipf("%s not installed: bench/oci.sh installs it", name)
	}
	return p
}

// ociBenchLayout is the data set: an OCI layout holding every tag, and the
// manifest digest of each.
type ociBenchLayout struct {
	dir     string
	digests map[string]string // tag → manifest digest
	bytes   int64             // every distinct blob and manifest
}

func ociBenchTag(i int) string { return fmt.Sprintf("v%02d", i) }

// writeOCIBenchLayout writes 20 images of 5 layers each: layer 0 one of two
// base layers (8 MiB, 3 MiB), layer 1 one of five runtime layers (256 KiB
// to 4 MiB, each in 4 images), layers 2–4 the image's own (4 KiB to 8 MiB).
// Contents are pseudo-random from a seed per layer, so every run pushes the
// same digests and nothing compresses.
func writeOCIBenchLayout(b *testing.B) *ociBenchLayout {
	b.Helper()
	l := &ociBenchLayout{dir: filepath.Join(benchScratch(b), "layout"), digests: map[string]string{}}
	if err := os.MkdirAll(filepath.Join(l.dir, "blobs", "sha256"), 0o755); err != nil {
		b.Fatal(err)
	}
	written := map[string]bool{}
	put := func(r io.Reader) map[string]any {
		tmp, err := os.CreateTemp(l.dir, "blob-")
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(tmp, h), r)
		if err == nil {
			err = tmp.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
		d := hex.EncodeToString(h.Sum(nil))
		if err := os.Rename(tmp.Name(), filepath.Join(l.dir, "blobs", "sha256", d)); err != nil {
			b.Fatal(err)
		}
		if !written[d] {
			written[d] = true
			l.bytes += n
		}
		return map[string]any{"digest": "sha256:" + d, "size": n}
	}
	putJSON := func(mediaType string, v any) map[string]any {
		raw, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		d := put(strings.NewReader(string(raw)))
		d["mediaType"] = mediaType
		return d
	}
	layer := func(seed uint64, size int64) map[string]any {
		d := put(patterned(seed, size))
		d["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
		return d
	}
	bases := []int64{8 << 20, 3 << 20}
	runtimes := []int64{2 << 20, 1 << 20, 512 << 10, 4 << 20, 256 << 10}
	own := []int64{4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 2 << 20, 6 << 20, 8 << 20, 32 << 10, 128 << 10, 512 << 10}
	var refs []map[string]any
	for i := range ociBenchTags {
		layers := []map[string]any{
			layer(1000+uint64(i/10), bases[i/10]),
			layer(2000+uint64(i/4), runtimes[i/4]),
		}
		for j := range 3 {
			layers = append(layers, layer(3000+uint64(10*i+j), own[(3*i+j)%len(own)]))
		}
		var diffIDs []any
		for _, d := range layers {
			diffIDs = append(diffIDs, d["digest"])
		}
		config := putJSON("application/vnd.oci.image.config.v1+json", map[string]any{
			"architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
			"config": map[string]any{"Labels": map[string]string{"bench.image": ociBenchTag(i)}},
			"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
		m := putJSON(ociManifestType, map[string]any{"schemaVersion": 2, "mediaType": ociManifestType, "config": config, "layers": layers})
		l.digests[ociBenchTag(i)] = m["digest"].(string)
		m["annotations"] = map[string]string{"org.opencontainers.image.ref.name": ociBenchTag(i)}
		refs = append(refs, m)
	}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": refs})
	for name, c := range map[string][]byte{"index.json": index, "oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`)} {
		if err := os.WriteFile(filepath.Join(l.dir, name), c, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("OCI layout: %d images, %d distinct blobs and manifests, %.1f MiB", ociBenchTags, len(written), float64(l.bytes)/(1<<20))
	return l
}

// runSkopeo runs skopeo and returns its wall time and CPU time.
func runSkopeo(b *testing.B, bin string, args ...string) (took, cpu time.Duration) {
	b.Helper()
	cmd := exec.Command(bin, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took = time.Since(start)
	if err != nil {
		b.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return took, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// pushOCIBench pushes every tag of the layout to host/bench/images, one
// skopeo copy after another, and returns the time of all 20; skopeo's CPU
// time is added to cpu.
func pushOCIBench(b *testing.B, bin string, l *ociBenchLayout, host, creds string, cpu *time.Duration) time.Duration {
	b.Helper()
	start := time.Now()
	for i := range ociBenchTags {
		args := []string{"copy", "--preserve-digests", "--dest-tls-verify=false"}
		if creds != "" {
			args = append(args, "--dest-creds", creds)
		}
		tag := ociBenchTag(i)
		_, c := runSkopeo(b, bin, append(args, "oci:"+l.dir+":"+tag, "docker://"+host+"/"+ociBenchImage+":"+tag)...)
		*cpu += c
	}
	return time.Since(start)
}

// pullOCIBench copies every tag from host/bench/images into a new OCI layout
// in dst, one after another, checks the digests it wrote and returns the
// time of all 20; skopeo's CPU time is added to cpu.
func pullOCIBench(b *testing.B, bin string, l *ociBenchLayout, host, creds, dst string, cpu *time.Duration) time.Duration {
	b.Helper()
	start := time.Now()
	for i := range ociBenchTags {
		args := []string{"copy", "--preserve-digests", "--src-tls-verify=false"}
		if creds != "" {
			args = append(args, "--src-creds", creds)
		}
		tag := ociBenchTag(i)
		_, c := runSkopeo(b, bin, append(args, "docker://"+host+"/"+ociBenchImage+":"+tag, "oci:"+dst+":"+tag)...)
		*cpu += c
	}
	took := time.Since(start)
	var back struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	raw, err := os.ReadFile(filepath.Join(dst, "index.json"))
	if err != nil || json.Unmarshal(raw, &back) != nil || len(back.Manifests) != ociBenchTags {
		b.Fatalf("pulled from %s: %s %v", host, raw, err)
	}
	for _, m := range back.Manifests {
		if tag := m.Annotations["org.opencontainers.image.ref.name"]; l.digests[tag] != m.Digest {
			b.Fatalf("pulled %s:%s from %s as %s, pushed %s", ociBenchImage, tag, host, m.Digest, l.digests[tag])
		}
	}
	return took
}

// checkOCIDigests checks that host serves every tag with the manifest
// pushed (skopeo inspect --raw).
func checkOCIDigests(b *testing.B, bin string, l *ociBenchLayout, host, creds string) {
	b.Helper()
	for i := range ociBenchTags {
		args := []string{"inspect", "--raw", "--tls-verify=false"}
		if creds != "" {
			args = append(args, "--creds", creds)
		}
		tag := ociBenchTag(i)
		out, err := exec.Command(bin, append(args, "docker://"+host+"/"+ociBenchImage+":"+tag)...).Output()
		if err != nil {
			b.Fatalf("skopeo inspect %s:%s on %s: %v", ociBenchImage, tag, host, err)
		}
		if got := digestOf(out); got != l.digests[tag] {
			b.Fatalf("%s serves %s:%s as %s, pushed %s", host, ociBenchImage, tag, got, l.digests[tag])
		}
	}
}

// checkOCIRun fails unless a run succeeded on its one target with nothing
// failed.
func checkOCIRun(b *testing.B, r run) {
	b.Helper()
	if r.State != "SUCCESS" || len(r.Targets) != 1 || r.Targets[0].ObjectsFailed != 0 || r.Targets[0].Conflicts != 0 {
		b.Fatalf("run %s ended %s: %s %+v", r.ID, r.State, r.Error, r.Targets)
	}
}

// benchRegistry is a Distribution registry started for the benchmark.
type benchRegistry struct {
	host, dir string
	cpu       func() time.Duration
	stop      func()
}

var listeningOn = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// startDistribution runs Debian's docker-registry with a config of its own:
// filesystem storage under dir, deletes enabled, the in-memory blob
// descriptor cache (as Distribution's own sample config), on a loopback port
// the kernel chooses, read from its log. Never the packaged config (htpasswd
// on :5000).
func startDistribution(b *testing.B, bin, dir string) *benchRegistry {
	b.Helper()
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yml")
	conf := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:0
`, storage)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfg)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	r := &benchRegistry{dir: storage, cpu: processCPU(cmd.Process.Pid), stop: sync.OnceFunc(func() {
		_ = cmd.Process.Kill()
		<-exited
	})}
	b.Cleanup(r.stop)
	eventually(b, 20*time.Second, "docker-registry logs its address", func() error {
		select {
		case err := <-exited:
			exited <- err
			b.Fatalf("docker-registry exited: %v\n%s", err, log.String())
		default:
		}
		m := listeningOn.FindStringSubmatch(log.String())
		if m == nil {
			return fmt.Errorf("no address yet:\n%s", log.String())
		}
		r.host = m[1]
		return nil
	})
	return r
}

// timeRegistries runs skopeo and returns its wall time and the CPU time it
// and the registries used.
func timeRegistries(b *testing.B, bin string, args []string, regs ...*benchRegistry) (took, cpu time.Duration) {
	b.Helper()
	var before time.Duration
	for _, r := range regs {
		before += r.cpu()
	}
	took, cpu = runSkopeo(b, bin, args...)
	for _, r := range regs {
		cpu += r.cpu()
	}
	return took, cpu - before
}
