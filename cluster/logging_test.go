package cluster

import (
	"context"
	"log/slog"
	"sync"
	"testing"
)

// recordingHandler keeps every record at or above min.
type recordingHandler struct {
	min  slog.Level
	mu   *sync.Mutex
	recs *[]slog.Record
	with []slog.Attr
}

func newRecorder(min slog.Level) (*slog.Logger, func() []slog.Record) {
	h := &recordingHandler{min: min, mu: &sync.Mutex{}, recs: &[]slog.Record{}}
	return slog.New(h), func() []slog.Record {
		h.mu.Lock()
		defer h.mu.Unlock()
		return append([]slog.Record(nil), *h.recs...)
	}
}

func (h *recordingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.with...)
	h.mu.Lock()
	*h.recs = append(*h.recs, r)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.with = append(append([]slog.Attr(nil), h.with...), as...)
	return &c
}

func (h *recordingHandler) WithGroup(string) slog.Handler { return h }

func recordAttrs(r slog.Record) map[string]any {
	out := map[string]any{}
	r.Attrs(func(a slog.Attr) bool {
		out[a.Key] = a.Value.Any()
		return true
	})
	return out
}

func TestLevelPrefixWriter(t *testing.T) {
	log, recs := newRecorder(slog.LevelDebug)
	w := &levelPrefixWriter{log: log}
	in := "[DEBUG] memberlist: x\n[ERR] memberlist: boom\n[WARN] memberlist: careful\n[INFO] memberlist: hello\nno prefix here\n"
	if n, err := w.Write([]byte(in)); err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(in))
	}
	want := []struct {
		level slog.Level
		msg   string
	}{
		{slog.LevelDebug, "memberlist: x"},
		{slog.LevelError, "memberlist: boom"},
		{slog.LevelWarn, "memberlist: careful"},
		{slog.LevelInfo, "memberlist: hello"},
		{slog.LevelInfo, "no prefix here"},
	}
	got := recs()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Level != w.level || got[i].Message != w.msg {
			t.Errorf("record %d = %s %q, want %s %q", i, got[i].Level, got[i].Message, w.level, w.msg)
		}
	}
}

func TestStdLoggerFor(t *testing.T) {
	log, recs := newRecorder(slog.LevelDebug)
	stdLoggerFor(log.With("module", "memberlist")).Printf("[DEBUG] memberlist: Stream connection from=%s", "10.0.0.1:1234")
	got := recs()
	if len(got) != 1 || got[0].Level != slog.LevelDebug || got[0].Message != "memberlist: Stream connection from=10.0.0.1:1234" {
		t.Fatalf("records = %v", got)
	}
	if recordAttrs(got[0])["module"] != "memberlist" {
		t.Errorf("attrs = %v, want module=memberlist", recordAttrs(got[0]))
	}
}

func TestHclogWriter(t *testing.T) {
	log, recs := newRecorder(slog.LevelDebug)
	w := &hclogWriter{log: log}
	line := `{"@level":"warn","@message":"m","@module":"raft","@timestamp":"2025-01-01T00:00:00Z","k":"v"}` + "\n"
	if n, err := w.Write([]byte(line)); err != nil || n != len(line) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(line))
	}
	got := recs()
	if len(got) != 1 {
		t.Fatalf("got %d records, want 1: %v", len(got), got)
	}
	r := got[0]
	if r.Level != slog.LevelWarn || r.Message != "m" {
		t.Errorf("record = %s %q, want WARN \"m\"", r.Level, r.Message)
	}
	attrs := recordAttrs(r)
	if attrs["k"] != "v" || attrs["module"] != "raft" || len(attrs) != 2 {
		t.Errorf("attrs = %v, want exactly k=v module=raft", attrs)
	}
}

func TestHclogWriterLevelsAndFiltering(t *testing.T) {
	log, recs := newRecorder(slog.LevelInfo)
	w := &hclogWriter{log: log}
	in := `{"@level":"debug","@message":"hidden","@module":"raft"}` + "\n" +
		`{"@level":"trace","@message":"hidden too","@module":"raft"}` + "\n" +
		`{"@level":"error","@message":"bad","@module":"raft-net"}` + "\n" +
		`{"@level":"info","@message":"fine","@module":"raft"}` + "\n" +
		"not json at all\n"
	w.Write([]byte(in))
	got := recs()
	want := []struct {
		level slog.Level
		msg   string
	}{
		{slog.LevelError, "bad"},
		{slog.LevelInfo, "fine"},
		{slog.LevelInfo, "not json at all"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Level != w.level || got[i].Message != w.msg {
			t.Errorf("record %d = %s %q, want %s %q", i, got[i].Level, got[i].Message, w.level, w.msg)
		}
	}
	if m := recordAttrs(got[0])["module"]; m != "raft-net" {
		t.Errorf("module = %v, want raft-net", m)
	}
}

func TestHclogFor(t *testing.T) {
	log, recs := newRecorder(slog.LevelDebug)
	hl := hclogFor(log, "raft")
	hl.Warn("m", "k", "v")
	hl.Debug("d")
	got := recs()
	if len(got) != 2 {
		t.Fatalf("got %d records, want 2: %v", len(got), got)
	}
	if got[0].Level != slog.LevelWarn || got[0].Message != "m" {
		t.Errorf("record = %s %q, want WARN \"m\"", got[0].Level, got[0].Message)
	}
	if a := recordAttrs(got[0]); a["k"] != "v" || a["module"] != "raft" {
		t.Errorf("attrs = %v, want k=v module=raft", a)
	}
	if got[1].Level != slog.LevelDebug || got[1].Message != "d" {
		t.Errorf("record = %s %q, want DEBUG \"d\"", got[1].Level, got[1].Message)
	}
}

func TestSlogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"TRACE": slog.LevelDebug, "debug": slog.LevelDebug, "WARN": slog.LevelWarn, "warning": slog.LevelWarn,
		"ERR": slog.LevelError, "error": slog.LevelError, "INFO": slog.LevelInfo, "": slog.LevelInfo, "weird": slog.LevelInfo,
	} {
		if got := slogLevel(in); got != want {
			t.Errorf("slogLevel(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestShutdownNoiseIsDebug(t *testing.T) {
	for _, line := range []string{
		`{"@level":"error","@message":"failed to decode incoming command","@module":"raft-net","error":"transport shutdown"}`,
	} {
		h := &shutdownCapture{}
		w := &hclogWriter{log: slog.New(h)}
		w.Write([]byte(line))
		if h.level != slog.LevelDebug {
			t.Fatalf("%s logged at %v, want debug", line, h.level)
		}
	}
}

type shutdownCapture struct{ level slog.Level }

func (h *shutdownCapture) Enabled(context.Context, slog.Level) bool { return true }
func (h *shutdownCapture) Handle(_ context.Context, r slog.Record) error {
	h.level = r.Level
	return nil
}
func (h *shutdownCapture) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *shutdownCapture) WithGroup(string) slog.Handler      { return h }
