package agent

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/internal/connlimit"
	"github.com/prometheus/client_golang/prometheus"
)

// readHeaderTimeout bounds how long a client may take to send its headers.
const readHeaderTimeout = 10 * time.Second

// httpServer is the API's server with the timeouts of docs/security.md
// ("Resource limits"): headers within readHeaderTimeout, idle keep-alive
// connections closed after the idle timeout. There is no whole-request
// ReadTimeout: it would cut large uploads that keep sending; the API cuts
// only bodies that stop (api/bodyread.go).
func (a *Agent) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       a.cfg.EffectiveHTTPIdleTimeout(),
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
}

// limitConns caps the API's open connections, overall and per client
// address, so that one client cannot take the descriptors the leader needs
// to serve the group.
func (a *Agent) limitConns(ln net.Listener) net.Listener {
	limits := connlimit.Limits{Max: a.cfg.EffectiveHTTPMaxConns(), PerClient: a.cfg.EffectiveHTTPMaxConnsPerClient()}
	a.log.Info("http connection limits", "max_conns", limits.Max, "max_conns_per_client", limits.PerClient,
		"idle_timeout", a.cfg.EffectiveHTTPIdleTimeout(), "body_read_timeout", a.cfg.EffectiveHTTPBodyReadTimeout())
	return connlimit.Wrap(ln, limits, newConnMetrics(a.registry, a.log))
}

// connMetrics are ferry_http_connections_open and _refused_total.
type connMetrics struct {
	open    prometheus.Gauge
	refused *prometheus.CounterVec
	log     *slog.Logger
}

func newConnMetrics(reg prometheus.Registerer, log *slog.Logger) *connMetrics {
	m := &connMetrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ferry_http_connections_open", Help: "API connections open now.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_http_connections_refused_total", Help: "API connections closed on accept, by the limit they passed (overall, per_client).",
		}, []string{"reason"}),
		log: log,
	}
	reg.MustRegister(m.open, m.refused)
	return m
}

func (m *connMetrics) Opened() { m.open.Inc() }
func (m *connMetrics) Closed() { m.open.Dec() }
func (m *connMetrics) Refused(reason string) {
	m.refused.WithLabelValues(reason).Inc()
	m.log.Debug("http connection refused", "reason", reason)
}

// Routes are the API's routes (api.Server.Routes), for the HTTP fuzzer.
func (a *Agent) Routes() []api.Route {
	if s, ok := a.http.Handler.(*api.Server); ok {
		return s.Routes()
	}
	return nil
}
