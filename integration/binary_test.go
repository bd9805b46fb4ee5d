package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// ferryBinary builds cmd/ferry once per test run, with the race detector when
// the tests have it, so the real binary is what these tests drive.
func ferryBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "ferry-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "ferry")
		args := []string{"build", "-o", binPath}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "../cmd/ferry")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFerryDevStartsThreeRegionsAndStopsCleanly(t *testing.T) {
	bin := ferryBinary(t)
	tmp := t.TempDir()
	const tok = "dev-test-token-0123456789"
	cmd := exec.Command(bin, "dev")
	cmd.Env = append(os.Environ(), "FERRY_TOKEN="+tok, "TMPDIR="+tmp)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	var ms []member
	eventually(t, 60*time.Second, "ferry dev lists three alive members on 7710", func() error {
		select {
		case err := <-exited:
			t.Fatalf("ferry dev exited early: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		default:
		}
		r, err := tryCall("GET", "http://127.0.0.1:7710/v1/members", bearer(tok), nil)
		if err != nil {
			return err
		}
		ms = nil
		if err := jsonUnmarshal(r.body, &ms); err != nil || r.status != http.StatusOK {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		alive := 0
		for _, m := range ms {
			if m.Status == "alive" {
				alive++
			}
		}
		if len(ms) != 3 || alive != 3 {
			return fmt.Errorf("members %+v", ms)
		}
		return nil
	})
	for i, id := range []string{"beijing", "guangzhou", "shanghai"} {
		if ms[i].ID != id {
			t.Fatalf("members %+v, want beijing, guangzhou, shanghai", ms)
		}
	}
	eventually(t, 60*time.Second, "banner with a ready-to-paste curl line", func() error {
		if !strings.Contains(stdout.String(), "curl -s -H \"X-Auth-Token: "+tok+"\" http://127.0.0.1:7710/v1/members") {
			return fmt.Errorf("stdout so far:\n%s", stdout.String())
		}
		return nil
	})

	// The client subcommands print readable tables.
	members := runFerry(t, bin, 0, "members", "--address", "127.0.0.1:7720", "--token", tok)
	if !strings.Contains(members, "ID") || strings.Count(members, "alive") != 3 || strings.Count(members, "voter") != 3 {
		t.Fatalf("ferry members:\n%s", members)
	}
	status := runFerry(t, bin, 0, "status", "--address", "127.0.0.1:7730", "--token", tok)
	if !strings.Contains(status, "Agent:   guangzhou") || !strings.Contains(status, "Leader:  ") || strings.Count(status, "voter") != 3 {
		t.Fatalf("ferry status:\n%s", status)
	}
	if out := runFerry(t, bin, 1, "members", "--address", "127.0.0.1:7720", "--token", "wrong-token"); !strings.Contains(out, "401") {
		t.Fatalf("ferry members with a wrong token: %s", out)
	}

	// Ctrl-C stops all three cleanly and removes the temporary data.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("ferry dev exited with %v after SIGINT\nstderr:\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("ferry dev did not stop within 60s of SIGINT")
	}
	if !strings.Contains(stdout.String(), "ferry dev: stopped") {
		t.Fatalf("no clean stop message:\n%s", stdout.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "ferry-dev-*")); len(left) != 0 {
		t.Fatalf("temporary data left behind: %v", left)
	}
	if _, err := tryCall("GET", "http://127.0.0.1:7710/v1/health", func(http.Header) {}, nil); err == nil {
		t.Fatal("port 7710 still answers after ferry dev stopped")
	}
}

// runFerry runs the binary and checks its exit code; it returns stdout+stderr.
func runFerry(t *testing.T, bin string, wantCode int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "FERRY_TOKEN=", "FERRY_ADDR=")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ferry %v: %v", args, err)
	}
	if code != wantCode {
		t.Fatalf("ferry %v exited %d, want %d:\n%s", args, code, wantCode, out)
	}
	return string(out)
}

func TestAgentRefusesInvalidConfiguration(t *testing.T) {
	bin := ferryBinary(t)
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"agent", "--data-dir", dir, "--token", mgmtToken}, "--cluster-id: is required"},
		{[]string{"agent", "--cluster-id", "x", "--data-dir", dir}, "--token: is required"},
		{[]string{"agent", "--cluster-id", "x", "--data-dir", dir, "--no-auth", "--profile", "moon"}, `--profile: "moon" is not lan or wan`},
		{[]string{"agent", "--cluster-id", "x", "--data-dir", dir, "--no-auth", "--http-port", "70000"}, "--http-port: 70000 is not a port"},
		{[]string{"agent", "--cluster-id", "Bad ID", "--data-dir", dir, "--no-auth"}, "--cluster-id:"},
	}
	for _, c := range cases {
		out := strings.TrimSpace(runFerry(t, bin, 1, c.args...))
		if strings.Count(out, "\n") != 0 || !strings.Contains(out, c.want) || !strings.HasPrefix(out, "ferry: invalid configuration: ") {
			t.Errorf("ferry %v printed %q, want one line containing %q", c.args, out, c.want)
		}
	}
}

// ferry put / get / ls, through beijing into shanghai's store (--cluster).
func TestArtifactCLI(t *testing.T) {
	bin := ferryBinary(t)
	nodes := startGroup(t, regions[:2], withBootstrapExpect(2))
	sameLeader(t, 30*time.Second, nodes...)
	shanghai, beijing := nodeByID(nodes, "shanghai"), nodeByID(nodes, "beijing")
	makeRepo(t, shanghai.url(), "", "demo", "files", "GENERIC")

	dir := t.TempDir()
	src := filepath.Join(dir, "in.bin")
	content := bytes.Repeat([]byte("ferry cli "), 300_000) // 3 MB
	if err := os.WriteFile(src, content, 0o640); err != nil {
		t.Fatal(err)
	}
	via := []string{"--address", beijing.a.HTTPAddr(), "--token", mgmtToken, "--cluster", "shanghai"}
	out := runFerry(t, bin, 0, append([]string{"put", src, "demo/files/dir/in.bin", "--meta", "build=7"}, via...)...)
	if !strings.Contains(out, sha(content)) {
		t.Fatalf("ferry put did not report the sha256:\n%s", out)
	}
	r := do(t, "GET", shanghai.url()+"/generic/demo/files/dir/in.bin", nil, nil)
	if !bytes.Equal(r.body, content) || r.header.Get("X-Ferry-Meta-Build") != "7" {
		t.Fatalf("shanghai holds %d bytes, meta %q", len(r.body), r.header.Get("X-Ferry-Meta-Build"))
	}
	dst := filepath.Join(dir, "out.bin")
	runFerry(t, bin, 0, append([]string{"get", "demo/files/dir/in.bin", "-o", dst}, via...)...)
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Fatalf("ferry get wrote %d bytes, want %d identical", len(got), len(content))
	}
	ls := runFerry(t, bin, 0, append([]string{"ls", "demo/files"}, via...)...)
	if !strings.Contains(ls, "dir/") {
		t.Fatalf("ferry ls:\n%s", ls)
	}
	ls = runFerry(t, bin, 0, append([]string{"ls", "demo/files/dir"}, via...)...)
	if !strings.Contains(ls, "in.bin") || !strings.Contains(ls, sha(content)[:12]) {
		t.Fatalf("ferry ls dir:\n%s", ls)
	}
	// A missing file is an error, and leaves no output file.
	missing := filepath.Join(dir, "missing.bin")
	runFerry(t, bin, 1, append([]string{"get", "demo/files/nope", "-o", missing}, via...)...)
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("a failed get left %s", missing)
	}
}
