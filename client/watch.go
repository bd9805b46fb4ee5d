package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync/atomic"
	"time"
)

const (
	// watchBackoffMin and watchBackoffMax bound the pause before WatchRun
	// reconnects; it doubles from the first to the second while connections
	// deliver nothing.
	watchBackoffMin = 250 * time.Millisecond
	watchBackoffMax = 5 * time.Second
	// maxSSELine bounds one line of an event stream (a run as JSON).
	maxSSELine = 16 << 20
)

var (
	// watchIdleTimeout drops a connection that delivered nothing, not even
	// the agent's 15 s ping, for this long: it is dead without being closed.
	watchIdleTimeout = 45 * time.Second
	// watchNotFoundGrace is how long a 404 is retried before any event came:
	// the agent answering may not have applied a run that was just started.
	watchNotFoundGrace = 5 * time.Second
)

// WatchRun follows a run through the Server-Sent Events of
// GET /v1/runs/{id}/events, calling fn with the run each time it changes
// (the first time at once), until the agent sends the final run: WatchRun
// then returns it after calling fn with it too.
//
// The stream uses no overall timeout; it ends with ctx. When it breaks
// before the end, WatchRun reconnects, pausing 250 ms doubling to 5 s while
// connections deliver nothing, until ctx ends. Answers other than 5xx, 408,
// 429 and (briefly, before any event) 404 end it with an *Error. An error
// from fn ends it at once and is returned as is. With any error the run
// returned is the last one seen, if any.
func (c *Client) WatchRun(ctx context.Context, id string, fn func(Run) error) (Run, error) {
	p, err := runPath(id)
	if err != nil {
		return Run{}, err
	}
	w := &runWatch{c: c, id: id, path: p + "/events", fn: fn, start: time.Now()}
	backoff := watchBackoffMin
	for {
		ended, events, err := w.stream(ctx)
		if done, err := w.over(ctx, ended, err); done {
			return w.last, err
		}
		if events > 0 {
			backoff = watchBackoffMin
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return w.last, fmt.Errorf("watch run %s: %w (last error: %v)", id, ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(backoff*2, watchBackoffMax)
	}
}

// retryStatus reports whether WatchRun retries an answer with this status.
func retryStatus(status int, seen bool, since time.Duration) bool {
	switch {
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusNotFound:
		return !seen && since < watchNotFoundGrace
	}
	return false
}

// stopError ends WatchRun with err, without retrying.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// errEndEvent stops reading a stream at its end event.
var errEndEvent = errors.New("end event")

// runWatch is the state of one WatchRun across its connections.
type runWatch struct {
	c           *Client
	id          string
	path        string
	fn          func(Run) error
	start       time.Time
	last        Run
	seen        bool   // a run arrived on some connection
	lastEventID string // sent back as Last-Event-ID on reconnection
}

// over reports whether WatchRun ends after a connection that ended as
// stream says, and with what error.
func (w *runWatch) over(ctx context.Context, ended bool, err error) (bool, error) {
	var stop *stopError
	var e *Error
	switch {
	case ended:
		return true, nil
	case errors.As(err, &stop):
		return true, stop.err
	case ctx.Err() != nil:
		return true, fmt.Errorf("watch run %s: %w", w.id, ctx.Err())
	case w.seen && w.last.Finished():
		// The end event was lost with the connection; the run is over.
		return true, nil
	case errors.As(err, &e) && !retryStatus(e.Status, w.seen, time.Since(w.start)):
		return true, err
	}
	return false, err
}

// stream reads one connection to the event stream. It reports whether the
// end event arrived, how many runs arrived, and what ended the connection
// otherwise (a *stopError when WatchRun must not retry).
func (w *runWatch) stream(ctx context.Context) (ended bool, events int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := newIdleTimer(watchIdleTimeout, cancel)
	defer idle.t.Stop()

	resp, err := w.open(ctx)
	if err != nil {
		if idle.fired.Load() {
			return false, 0, fmt.Errorf("GET %s: no answer in %s", w.path, watchIdleTimeout)
		}
		return false, 0, err
	}
	defer resp.Body.Close()
	err = readSSE(idle.reader(resp.Body), maxSSELine, func(ev sseEvent) error {
		delivered, err := w.deliver(ev)
		if delivered {
			events++
		}
		return err
	})
	switch {
	case errors.Is(err, errEndEvent):
		return true, events, nil
	case errors.Is(err, bufio.ErrTooLong):
		return false, events, &stopError{fmt.Errorf("GET %s: a line longer than %d bytes", w.path, maxSSELine)}
	case err == nil:
		return false, events, fmt.Errorf("GET %s: stream closed before the run ended", w.path)
	case idle.fired.Load():
		return false, events, fmt.Errorf("GET %s: nothing received for %s", w.path, watchIdleTimeout)
	}
	return false, events, err
}

// open connects to the event stream, resuming after the last event seen.
func (w *runWatch) open(ctx context.Context) (*http.Response, error) {
	req, err := w.c.newRequest(ctx, http.MethodGet, w.c.base+w.path, nil)
	if err != nil {
		return nil, &stopError{err}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Accept-Encoding", "identity") // gzip would hold events back
	if w.lastEventID != "" {
		req.Header.Set("Last-Event-ID", w.lastEventID)
	}
	resp, err := w.c.streamHTTP().Do(req)
	if err != nil {
		return nil, err
	}
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		resp.Body.Close()
		return nil, &stopError{fmt.Errorf("GET %s: Content-Type %q, want text/event-stream", w.path, resp.Header.Get("Content-Type"))}
	}
	return resp, nil
}

// deliver hands a run or end event's run to fn. It reports whether ev held
// a run; errEndEvent stops the stream after the end event.
func (w *runWatch) deliver(ev sseEvent) (bool, error) {
	w.lastEventID = ev.ID
	if ev.Type != "run" && ev.Type != "end" {
		return false, nil
	}
	var r Run
	if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
		return false, &stopError{fmt.Errorf("GET %s: decode %s event: %w", w.path, ev.Type, err)}
	}
	w.last, w.seen = r, true
	if err := w.fn(r); err != nil {
		return true, &stopError{err}
	}
	if ev.Type == "end" {
		return true, errEndEvent
	}
	return true, nil
}

// idleTimer cancels a connection that received nothing for d: each read
// through its reader pushes it back.
type idleTimer struct {
	t     *time.Timer
	d     time.Duration
	fired atomic.Bool
}

func newIdleTimer(d time.Duration, cancel func()) *idleTimer {
	it := &idleTimer{d: d}
	it.t = time.AfterFunc(d, func() { it.fired.Store(true); cancel() })
	return it
}

// reader is r, pushing the timer back each time it reads something.
func (it *idleTimer) reader(r io.Reader) io.Reader { return &idleReader{r: r, it: it} }

type idleReader struct {
	r  io.Reader
	it *idleTimer
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.it.t.Reset(r.it.d)
	}
	return n, err
}
