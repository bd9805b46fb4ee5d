package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// hclogFor returns an hclog.Logger (what raft wants) that writes through slog.
// hclog renders JSON lines; slogWriter turns each into one structured record.
func hclogFor(l *slog.Logger, name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclog.Debug,
		JSONFormat: true,
		Output:     &hclogWriter{log: l},
	})
}

type hclogWriter struct{ log *slog.Logger }

func (w *hclogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte("\n")) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) != nil {
			w.log.Info(string(line))
			continue
		}
		level := slogLevel(asString(rec["@level"]))
		if shutdownNoise(asString(rec["error"])) {
			level = slog.LevelDebug // raft's transport racing its own shutdown
		}
		if !w.log.Enabled(context.Background(), level) {
			continue
		}
		msg := asString(rec["@message"])
		attrs := []any{slog.String("module", asString(rec["@module"]))}
		for k, v := range rec {
			if !strings.HasPrefix(k, "@") {
				attrs = append(attrs, slog.Any(k, v))
			}
		}
		w.log.Log(context.Background(), level, msg, attrs...)
	}
	return len(p), nil
}

// stdLoggerFor returns a *log.Logger (what memberlist wants) whose "[LEVEL]"
// prefixed lines become slog records.
func stdLoggerFor(l *slog.Logger) *log.Logger {
	return log.New(&levelPrefixWriter{log: l}, "", 0)
}

type levelPrefixWriter struct{ log *slog.Logger }

func (w *levelPrefixWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		level, msg := slog.LevelInfo, line
		if strings.HasPrefix(line, "[") {
			if end := strings.Index(line, "]"); end > 0 {
				level, msg = slogLevel(line[1:end]), strings.TrimSpace(line[end+1:])
			}
		}
		if shutdownNoise(msg) {
			level = slog.LevelDebug // memberlist racing its own shutdown
		}
		w.log.Log(context.Background(), level, msg)
	}
	return len(p), nil
}

// shutdownNoise recognises errors that only say a connection or transport
// was closed under a goroutine during an orderly shutdown.
func shutdownNoise(s string) bool {
	return strings.Contains(s, "use of closed network connection") || strings.Contains(s, "transport shutdown")
}

func slogLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "trace", "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "err", "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

var _ io.Writer = (*hclogWriter)(nil)
