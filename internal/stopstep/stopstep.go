// Package stopstep bounds the steps of an agent's stop, so that one that
// hangs (a raft goroutine that never ends, a store transaction still open)
// cannot keep the process from exiting, and the log says which it was.
package stopstep

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrTimedOut is wrapped by the error of a step that did not finish in time.
var ErrTimedOut = errors.New("timed out")

// Run runs f and waits at most timeout for it. When f returns in time, Run
// returns its error. Otherwise Run logs (at Warn, with the step's name) that
// the step timed out and returns an error that names it and wraps
// ErrTimedOut; f goes on in the background, and when it does end, that is
// logged too. A step that cannot be interrupted can only be given up on:
// the caller goes on with the next one.
func Run(log *slog.Logger, step string, timeout time.Duration, f func() error) error {
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
	}
	log.Warn("shutdown step timed out; going on without it", "step", step, "timeout", timeout)
	go func() {
		err := <-done
		log.Info("shutdown step finished late", "step", step, "after", time.Since(start).Round(time.Millisecond), "err", err)
	}()
	return fmt.Errorf("stop: %s did not finish within %s: %w", step, timeout, ErrTimedOut)
}
