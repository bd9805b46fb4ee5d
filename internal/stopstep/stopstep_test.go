package stopstep

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncWriter is a log sink the background goroutine may write to while the
// test reads it.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestRunReturnsTheStepsError(t *testing.T) {
	want := errors.New("close failed")
	var out syncWriter
	err := Run(slog.New(slog.NewTextHandler(&out, nil)), "store", time.Minute, func() error { return want })
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	if out.String() != "" {
		t.Fatalf("a step in time logs nothing, got %q", out.String())
	}
}

func TestRunGivesUpOnAStepThatHangs(t *testing.T) {
	var out syncWriter
	log := slog.New(slog.NewTextHandler(&out, nil))
	release := make(chan struct{})
	start := time.Now()
	err := Run(log, "raft shutdown", 50*time.Millisecond, func() error {
		<-release // a raft goroutine that never ends, until the test lets it
		return nil
	})
	if !errors.Is(err, ErrTimedOut) || !strings.Contains(err.Error(), "raft shutdown") {
		t.Fatalf("got %v, want a timeout naming the step", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Run waited %s for a 50ms step", d)
	}
	if s := out.String(); !strings.Contains(s, "shutdown step timed out") || !strings.Contains(s, `step="raft shutdown"`) {
		t.Fatalf("log does not say which step timed out: %q", s)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "shutdown step finished late") {
		if time.Now().After(deadline) {
			t.Fatalf("the late end of the step was not logged: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}
