package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// withBodyReadTimeout cuts a request body that sends nothing for idle: the
// connection's read deadline is pushed forward before each read of the
// body, so a large upload that keeps sending is never cut (a whole-request
// ReadTimeout would), and a stalled one fails its read. Whatever a handler
// then answers as an error, the client is told 408 on a closed connection
// (an idle upload was a 500, issue 15 defect 7).
func withBodyReadTimeout(next http.Handler, idle time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || idle <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		body := &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: idle}
		r.Body = body
		next.ServeHTTP(&timeoutWriter{ResponseWriter: w, body: body}, r)
	})
}

// idleBody is a request body whose every read must start within idle.
type idleBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	idle     time.Duration
	timedOut atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.ReadCloser.Read(p)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut.Store(true)
		err = errBodyIdle{}
	case err != nil:
		// The body is done: net/http's background read of the connection
		// starts now, and a deadline left behind would cancel the request
		// while the handler still works (an fsync, a commit).
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// errBodyIdle is the read error of a body that sent nothing for too long.
type errBodyIdle struct{}

func (errBodyIdle) Error() string {
	return "request body sent nothing within the body read timeout"
}
func (errBodyIdle) StatusCode() int { return http.StatusRequestTimeout }
func (errBodyIdle) Timeout() bool   { return true }

// timeoutWriter answers 408 for any error status once the body timed out,
// and closes the connection after: what is left of the body is never read.
type timeoutWriter struct {
	http.ResponseWriter
	body *idleBody
}

func (w *timeoutWriter) WriteHeader(code int) {
	if code >= 400 && w.body.timedOut.Load() {
		code = http.StatusRequestTimeout
		w.Header().Set("Connection", "close")
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *timeoutWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *timeoutWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ReadFrom keeps net/http's sendfile path.
func (w *timeoutWriter) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
}
