package api

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ferrysync/ferry/internal/sdksign"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// AuthFailureLimit bounds the failed authentications from one address: a
// client that presented Failures wrong credentials within Window is
// answered 429 with Retry-After until the window has room again. A valid
// credential is never refused by it: a brute force against 128-bit tokens
// is hopeless anyway, the limit bounds what failures cost the agent (and
// its logs), and a good client behind the same NAT is not locked out.
type AuthFailureLimit struct {
	Failures int           // default 30
	Window   time.Duration // default a minute
	// Addresses bounds the addresses remembered (default 10,000): the
	// quietest are forgotten first.
	Addresses int
}

func (l AuthFailureLimit) withDefaults() AuthFailureLimit {
	if l.Failures <= 0 {
		l.Failures = 30
	}
	if l.Window <= 0 {
		l.Window = time.Minute
	}
	if l.Addresses <= 0 {
		l.Addresses = 10_000
	}
	return l
}

// authLimiter counts failed authentications by client address.
type authLimiter struct {
	cfg     AuthFailureLimit
	now     func() time.Time
	limited prometheus.Counter

	mu   sync.Mutex
	byIP map[string]*failures
}

type failures struct {
	lim  *rate.Limiter
	last time.Time
}

func newAuthLimiter(c AuthFailureLimit, reg prometheus.Registerer) *authLimiter {
	l := &authLimiter{cfg: c.withDefaults(), now: time.Now, byIP: map[string]*failures{},
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ferry_http_auth_limited_total", Help: "Requests answered 429 for too many failed authentications from their address.",
		})}
	if reg != nil {
		reg.MustRegister(l.limited)
	}
	return l
}

// guard wraps a route's refusals: a 401 to a request that presented a
// credential counts against its address, and is a 429 once the address is
// over the limit. A refused request's body is never read, so the connection
// is closed after the answer: net/http would otherwise wait to drain a body
// the client may never send (a 401 held ≥ 144 s, issue 15 defect 1).
func (l *authLimiter) guard(fail AuthFailure) AuthFailure {
	return func(w http.ResponseWriter, r *http.Request, status int, message string) {
		closeUnread(w, r)
		if status == http.StatusUnauthorized && (secretFrom(r) != "" || sdksign.IsSigned(r)) {
			if wait, over := l.failed(clientAddr(r)); over {
				secs := int(math.Ceil(wait.Seconds()))
				w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
				l.limited.Inc()
				fail(w, r, http.StatusTooManyRequests, fmt.Sprintf("too many failed authentications from this address; retry after %ds", max(secs, 1)))
				return
			}
		}
		fail(w, r, status, message)
	}
}

// failed counts one failure from ip: over is set when the address has no
// room left, with how long until it has.
func (l *authLimiter) failed(ip string) (wait time.Duration, over bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.byIP[ip]
	if !ok {
		l.makeRoom(now)
		every := l.cfg.Window / time.Duration(l.cfg.Failures)
		f = &failures{lim: rate.NewLimiter(rate.Every(every), l.cfg.Failures)}
		l.byIP[ip] = f
	}
	f.last = now
	if f.lim.AllowN(now, 1) {
		return 0, false
	}
	res := f.lim.ReserveN(now, 1)
	defer res.CancelAt(now)
	return res.DelayFrom(now), true
}

// makeRoom keeps the map within Addresses: addresses quiet for a window
// have a full allowance again and are forgotten; if all are recent, one
// is dropped.
func (l *authLimiter) makeRoom(now time.Time) {
	if len(l.byIP) < l.cfg.Addresses {
		return
	}
	for ip, f := range l.byIP {
		if now.Sub(f.last) > l.cfg.Window {
			delete(l.byIP, ip)
		}
	}
	for ip := range l.byIP {
		if len(l.byIP) < l.cfg.Addresses {
			return
		}
		delete(l.byIP, ip)
	}
}

// clientAddr is the address failures are counted against: the peer's IP.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
