package agent

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
)

// openAudit is where the API's audit trail goes: --audit-log as JSON
// lines, each written and fsynced before the next (an audit line is not
// lost to a crash after its call answered), else this agent's own log.
func (a *Agent) openAudit() (*slog.Logger, io.Closer, error) {
	if a.cfg.AuditLog == "" {
		return a.log.With("component", "audit"), io.NopCloser(nil), nil
	}
	f, err := os.OpenFile(a.cfg.AuditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit log: %w", err)
	}
	w := &syncedFile{f: f}
	return slog.New(slog.NewJSONHandler(w, nil)).With("agent", a.cfg.ClusterID), w, nil
}

// syncedFile writes each record whole and durably.
type syncedFile struct {
	mu     sync.Mutex
	f      *os.File
	closed bool
}

func (s *syncedFile) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.f.Write(p)
	if err == nil {
		err = s.f.Sync()
	}
	return n, err
}

// Close closes the file once; a write after it fails.
func (s *syncedFile) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.f.Close()
}
