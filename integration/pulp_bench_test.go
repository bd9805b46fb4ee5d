package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/benchpeer"
)

// Pulp syncs from a feed on nginx (Debian's, on loopback, serving the data
// set's directory with its PULP_MANIFEST), beside wget --mirror and curl
// with 5 parallel connections fetching the same files from the same server,
// in the same run. Each iteration starts fresh agents, creates a Pulp
// repository with the feed and times the sync action until its task is
// finished (polled every 10 ms), then a re-sync of the unchanged feed.
//
//	bench/pulp-sync.sh
//	go test -run '^$' -bench BenchmarkPulpSync -benchtime 1x -count 3 ./integration/
//
// Targets: at least 1.0× wget's and curl's time for 1 GiB, 2× for 10,000
// files of 4 KiB, and a no-op re-sync in at most 0.1 s.

func BenchmarkPulpSync1GiB(b *testing.B) {
	benchPulpSync(b, writeBenchData(b, 64, 16<<20, func(i int) string { return fmt.Sprintf("/f%02d.iso", i) }))
}

func BenchmarkPulpSync10kFiles(b *testing.B) {
	benchPulpSync(b, writeBenchData(b, 10_000, 4<<10, func(i int) string { return fmt.Sprintf("/d%02d/f%04d.iso", i/100, i) }))
}

func benchPulpSync(b *testing.B, data benchData) {
	writePulpManifest(b, data)
	feed := startNginx(b, data.dir)
	var ferry, noop, wget, curl time.Duration
	for b.Loop() {
		b.StopTimer()
		it := newBenchIteration(b)
		sh, bj := startBenchPair(b, it.dir)
		pulpBenchCall(b, sh.url, "POST", "/repositories/", `{"id": "feed", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+feed+`/"}}`, 201)
		settle(b, data.dir)
		b.StartTimer()
		ferry += timePulpSync(b, sh.url)
		b.StopTimer()
		noop += timePulpSync(b, sh.url)
		settle(b, data.dir)
		wget += timeCommand(b, "wget", "--mirror", "--no-parent", "--no-host-directories", "-e", "robots=off", "-q", "-P", filepath.Join(it.dir, "wget"), feed+"/")
		settle(b, data.dir)
		curl += timeCurl5(b, feed, data, filepath.Join(it.dir, "curl"))
		sh.stop()
		bj.stop()
		it.done()
		b.StartTimer()
	}
	n := time.Duration(b.N)
	benchpeer.ReportVersus(b, "ferry", data.bytes, len(data.files), ferry/n, benchpeer.Peer{Name: "wget", Time: wget / n}, benchpeer.Peer{Name: "curl-5", Time: curl / n})
	b.ReportMetric((noop / n).Seconds(), "ferry-noop-s")
}

// pulpBenchCall calls the Pulp API of the agent at url.
func pulpBenchCall(b *testing.B, url, method, path, body string, status int) response {
	b.Helper()
	var payload any
	if body != "" {
		payload = json.RawMessage(body)
	}
	r := call(b, method, url+"/pulp/api/v2"+path, mgmtToken, payload)
	if r.status != status {
		b.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
	}
	return r
}

// timePulpSync syncs the repository feed and waits for its task.
func timePulpSync(b *testing.B, url string) time.Duration {
	b.Helper()
	start := time.Now()
	r := pulpBenchCall(b, url, "POST", "/repositories/feed/actions/sync/", "", 202)
	var reports []struct {
		TaskID string `json:"task_id"`
	}
	r.decode(b, &reports)
	for {
		t := pulpBenchCall(b, url, "GET", "/tasks/"+reports[0].TaskID+"/", "", 200)
		var task struct {
			State string `json:"state"`
		}
		t.decode(b, &task)
		switch task.State {
		case "finished":
			return time.Since(start)
		case "error", "canceled":
			b.Fatalf("sync %s: %s", task.State, t.body)
		}
		time.Sleep(10 * time.Millisecond) // polling, as a Pulp client does
	}
}

func writePulpManifest(b *testing.B, data benchData) {
	b.Helper()
	var m strings.Builder
	for _, f := range data.files {
		fmt.Fprintf(&m, "%s,%s,%d\n", strings.TrimPrefix(f.path, "/"), f.sha256, f.size)
	}
	if err := os.WriteFile(filepath.Join(data.dir, "PULP_MANIFEST"), []byte(m.String()), 0o644); err != nil {
		b.Fatal(err)
	}
}

// startNginx serves dir on a loopback port with Debian's nginx and answers
// its URL; without nginx the benchmark is skipped (bench/pulp-sync.sh
// installs it).
func startNginx(b *testing.B, dir string) string {
	b.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			b.Skip("nginx is not installed: bench/pulp-sync.sh installs it")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	run := b.TempDir()
	conf := fmt.Sprintf(`daemon off; master_process off; worker_processes 1; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path %[1]s/body; proxy_temp_path %[1]s/proxy; fastcgi_temp_path %[1]s/fastcgi; uwsgi_temp_path %[1]s/uwsgi; scgi_temp_path %[1]s/scgi;
  server { listen 127.0.0.1:%[2]d; root %[3]s; autoindex on; default_type application/octet-stream; }
}
`, run, port, dir)
	cfg := filepath.Join(run, "nginx.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cfg, "-p", run)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	eventually(b, 10*time.Second, "nginx answers", func() error {
		r, err := tryCall("GET", url+"/PULP_MANIFEST", func(http.Header) {}, nil)
		if err == nil && r.status != 200 {
			err = fmt.Errorf("%d", r.status)
		}
		return err
	})
	return url
}

func timeCommand(b *testing.B, name string, args ...string) time.Duration {
	b.Helper()
	start := time.Now()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s: %v: %s", name, err, out)
	}
	return time.Since(start)
}

// timeCurl5 fetches every file of data with curl, 5 transfers at a time.
func timeCurl5(b *testing.B, url string, data benchData, dst string) time.Duration {
	b.Helper()
	var cfg strings.Builder
	for _, f := range data.files {
		fmt.Fprintf(&cfg, "url = %q\noutput = %q\n", url+f.path, filepath.Join(dst, filepath.FromSlash(f.path)))
	}
	list := filepath.Join(b.TempDir(), "curl.cfg")
	if err := os.WriteFile(list, []byte(cfg.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return timeCommand(b, "curl", "-sS", "--fail", "--create-dirs", "-Z", "--parallel-max", "5", "-K", list)
}
