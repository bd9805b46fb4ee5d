package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
)

// Headers Ferry reads and writes.
const (
	HeaderTraceID     = "X-Trace-Id"
	HeaderAuthToken   = "X-Auth-Token"
	HeaderIndex       = "X-Ferry-Index"
	HeaderKnownLeader = "X-Ferry-Known-Leader"
	HeaderLastContact = "X-Ferry-Last-Contact"
	HeaderServedBy    = "X-Ferry-Served-By"
)

type ctxKey int

const (
	traceKey ctxKey = iota
	callerKey
)

// TraceID returns the request's trace id.
func TraceID(ctx context.Context) string {
	s, _ := ctx.Value(traceKey).(string)
	return s
}

var traceIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func newTraceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status a handler wrote and counts the body.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 { // 1xx (100 Continue) is not the answer
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (read deadlines).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// ReadFrom keeps net/http's zero-copy path (sendfile from an *os.File) open
// through the recorder.
func (r *statusRecorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	rf, ok := r.ResponseWriter.(io.ReaderFrom)
	if !ok {
		rf = writerOnlyReaderFrom{r.ResponseWriter}
	}
	n, err := rf.ReadFrom(src)
	r.bytes += n
	return n, err
}

// BytesWritten is the body size written so far.
func (r *statusRecorder) BytesWritten() int64 { return r.bytes }

type writerOnlyReaderFrom struct{ w io.Writer }

func (w writerOnlyReaderFrom) ReadFrom(src io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w.w}, src)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// httpMetrics are the per-route request metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ferry_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe wraps every handler: trace id, panic recovery, structured access
// log and metrics, labelled by the route pattern (bounded cardinality).
func (s *Server) observe(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		trace := r.Header.Get(HeaderTraceID)
		if !traceIDPattern.MatchString(trace) {
			trace = newTraceID()
		}
		w.Header().Set(HeaderTraceID, trace)
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), traceKey, trace))
		r, slot := withAuditSlot(r)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler { // a proxied stream cut short: net/http's to handle
					panic(p)
				}
				s.log.Error("handler panic", "route", route, "trace", trace, "panic", p)
				if rec.status == 0 {
					writeError(rec, http.StatusInternalServerError, "internal error (trace %s)", trace)
				}
			}
			code := rec.status
			if code == 0 {
				code = http.StatusOK
			}
			elapsed := time.Since(start)
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
			level := slog.LevelDebug
			if code >= 500 && route != "/v1/health" { // health answers 503 by design
				level = slog.LevelWarn
			}
			s.log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path, "route", route,
				"code", code, "duration", elapsed, "trace", trace, "remote", r.RemoteAddr)
			s.audit(r, route, code, slot)
		}()
		withBodyReadTimeout(next, s.bodyReadTimeout).ServeHTTP(rec, r)
	})
}

// ReadHeaders sets the X-Ferry-* freshness headers of a local read, or of the
// state a write left (for a dialect's answers too), like Consul's X-Consul-*
// headers.
func (s *Server) ReadHeaders(w http.ResponseWriter) {
	rs := s.status.ReadState()
	h := w.Header()
	h.Set(HeaderIndex, strconv.FormatUint(rs.Index, 10))
	h.Set(HeaderKnownLeader, strconv.FormatBool(rs.KnownLeader))
	h.Set(HeaderLastContact, strconv.FormatInt(rs.LastContact.Milliseconds(), 10))
	h.Set(HeaderServedBy, rs.ServedBy)
}

// read serves a read locally, or through the leader when ?consistent is given.
func (s *Server) read(next httprouter.Handle) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		if _, consistent := r.URL.Query()["consistent"]; consistent {
			if !s.status.IsLeader() {
				s.proxyToLeader(w, r)
				return
			}
			if err := s.status.ReadyForConsistentReads(); err != nil {
				writeError(w, StatusOf(err), "consistent read: %v", err)
				return
			}
		}
		s.ReadHeaders(w)
		next(w, r, ps)
	}
}
