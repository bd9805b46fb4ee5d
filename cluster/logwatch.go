package cluster

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// watchedLogs is the Raft log store with its append failures recorded: raft
// itself only logs them and retries, so an agent whose log disk is full
// would go on looking healthy while it can take part in no commit.
type watchedLogs struct {
	raft.LogStore

	mu       sync.Mutex
	failedAt time.Time // last failed append since the last good one; zero when none
	lastErr  error
	fault    error // injected by tests: every append fails with it
}

func (w *watchedLogs) StoreLog(l *raft.Log) error { return w.StoreLogs([]*raft.Log{l}) }

func (w *watchedLogs) StoreLogs(logs []*raft.Log) error {
	w.mu.Lock()
	fault := w.fault
	w.mu.Unlock()
	err := fault
	if err == nil {
		err = w.LogStore.StoreLogs(logs)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.failedAt, w.lastErr = time.Now(), err
	} else {
		w.failedAt, w.lastErr = time.Time{}, nil
	}
	return err
}

// IsMonotonic passes the inner store's answer on (raft.MonotonicLogStore).
func (w *watchedLogs) IsMonotonic() bool {
	m, ok := w.LogStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

// LogAppendFailure is the error of the last Raft log append when it failed
// and no append has succeeded since, with when it failed.
func (n *Node) LogAppendFailure() (error, time.Time) {
	w := n.stores.logs
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr, w.failedAt
}

// InjectLogAppendFault makes every Raft log append fail with err (nil
// restores the disk): a full or broken log disk, for tests.
func (n *Node) InjectLogAppendFault(err error) {
	w := n.stores.logs
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fault = err
}
