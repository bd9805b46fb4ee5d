package connlimit

import (
	"net"
	"sync"
)

// Reasons a connection is refused, as Observer.Refused is told.
const (
	ReasonOverall   = "overall"
	ReasonPerClient = "per_client"
)

// Observer is told of every connection the listener keeps or refuses (the
// agent's metrics). Its methods must not block.
type Observer interface {
	Opened()
	Closed()
	Refused(reason string)
}

// Limits are the caps; 0 means no cap.
type Limits struct {
	Max       int
	PerClient int
}

// Listener is a net.Listener whose Accept hands out only the connections
// within its Limits.
type Listener struct {
	net.Listener
	limits Limits
	obs    Observer

	mu    sync.Mutex
	open  int
	perIP map[string]int
}

// Wrap caps ln's connections at limits; obs may be nil.
func Wrap(ln net.Listener, limits Limits, obs Observer) *Listener {
	if obs == nil {
		obs = nopObserver{}
	}
	return &Listener{Listener: ln, limits: limits, obs: obs, perIP: map[string]int{}}
}

// Accept waits for the next connection within the limits; those over a
// limit are closed here and never reach the caller.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := clientIP(c.RemoteAddr())
		if reason := l.admit(ip); reason != "" {
			// Counted before the close: whoever sees the connection
			// refused sees it counted too.
			l.obs.Refused(reason)
			_ = c.Close()
			continue
		}
		l.obs.Opened()
		return &conn{Conn: c, release: func() { l.release(ip) }}, nil
	}
}

// admit counts a connection from ip, or names the limit it would pass.
func (l *Listener) admit(ip string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.limits.Max > 0 && l.open >= l.limits.Max:
		return ReasonOverall
	case l.limits.PerClient > 0 && l.perIP[ip] >= l.limits.PerClient:
		return ReasonPerClient
	}
	l.open++
	l.perIP[ip]++
	return ""
}

func (l *Listener) release(ip string) {
	l.mu.Lock()
	l.open--
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip) // the map holds only addresses with open connections
	}
	l.mu.Unlock()
	l.obs.Closed()
}

// Open is the number of connections open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// clientIP is the address a connection is counted against: its IP without
// the port (every connection of one client has a port of its own).
func clientIP(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// conn releases its place once, however often it is closed.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

type nopObserver struct{}

func (nopObserver) Opened()        {}
func (nopObserver) Closed()        {}
func (nopObserver) Refused(string) {}
