package benchpeer

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RsyncModule is the name of the one module an RsyncDaemon serves.
const RsyncModule = "bench"

// RsyncDaemon is `rsync --daemon` on a free loopback port serving one
// writable module, RsyncModule, whose files go to Dir: the peer for
// replication between two agents on one machine (a network protocol, a
// sender and a receiver process, the same disk).
type RsyncDaemon struct {
	// Dir is where the module's files go.
	Dir  string
	port int
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
	once sync.Once
}

// StartRsyncDaemon starts an rsync daemon whose module writes into dir
// (created when missing), waits until it accepts connections and stops it
// when the benchmark ends. rsync(1) must be installed (bench/replication.sh
// installs it).
func StartRsyncDaemon(b testing.TB, dir string) *RsyncDaemon {
	b.Helper()
	if _, err := exec.LookPath("rsync"); err != nil {
		b.Fatalf("rsync is not installed (bench/replication.sh installs it): %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	conf := filepath.Join(b.TempDir(), "rsyncd.conf")
	// uid/gid are this process's: as root, rsync would otherwise switch to
	// nobody, who may not write dir.
	text := fmt.Sprintf("use chroot = no\nmax connections = 0\nlog file = /dev/null\n\n[%s]\n\tpath = %s\n\tread only = false\n\tuid = %d\n\tgid = %d\n",
		RsyncModule, dir, os.Getuid(), os.Getgid())
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}
	d := &RsyncDaemon{Dir: dir, port: freePort(b), out: &lockedBuffer{}, done: make(chan error, 1)}
	d.cmd = exec.Command("rsync", "--daemon", "--no-detach", "--address=127.0.0.1",
		"--port="+strconv.Itoa(d.port), "--config="+conf)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		b.Fatalf("rsync --daemon: %v", err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	b.Cleanup(d.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.addr(), time.Second)
		if err == nil {
			c.Close()
			return d
		}
		select {
		case err := <-d.done:
			d.done <- err
			b.Fatalf("rsync --daemon exited: %v\n%s", err, d.out.String())
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("rsync --daemon does not accept connections on %s: %v\n%s", d.addr(), err, d.out.String())
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

func (d *RsyncDaemon) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port)) }

// URL is the module's address for rsync, with a trailing slash: what a
// source tree's contents are copied into.
func (d *RsyncDaemon) URL() string {
	return "rsync://" + d.addr() + "/" + RsyncModule + "/"
}

// Stop stops the daemon; calling it again does nothing.
func (d *RsyncDaemon) Stop() {
	d.once.Do(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
}

// Rsync runs `rsync -a src/ dst` (dst a directory or an RsyncDaemon's URL)
// and returns how long it took. The contents of src go into dst; a second
// identical call finds nothing to send: the no-op re-run.
func Rsync(b testing.TB, src, dst string) time.Duration {
	b.Helper()
	start := time.Now()
	if out, err := exec.Command("rsync", "-a", filepath.Clean(src)+"/", dst).CombinedOutput(); err != nil {
		b.Fatalf("rsync: %v %s", err, out)
	}
	return time.Since(start)
}

func freePort(b testing.TB) int {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
