package tlsutil

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
)

// NewListener is tls.NewListener that gives a plain-text client no answer
// at all. net/http answers an HTTP request on a TLS port with a plain "400
// Client sent an HTTP request to an HTTPS server"; an agent that serves
// HTTPS only must not speak HTTP to anyone, so the connection is closed as
// soon as its first byte is not a TLS handshake record.
func NewListener(ln net.Listener, cfg *tls.Config) net.Listener {
	return &listener{Listener: ln, cfg: cfg}
}

type listener struct {
	net.Listener
	cfg *tls.Config
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(&tlsOnlyConn{Conn: c}, l.cfg), nil
}

// recordTypeHandshake is the first byte of every TLS client hello.
const recordTypeHandshake = 0x16

var errNotTLS = errors.New("tls: the client does not speak TLS")

// tlsOnlyConn fails its first read, and closes, unless it starts a TLS
// handshake. Reads happen in the server's goroutine for the connection, so
// a slow client holds up nothing else.
type tlsOnlyConn struct {
	net.Conn
	once sync.Once
	bad  bool
}

func (c *tlsOnlyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.once.Do(func() { c.bad = n > 0 && p[0] != recordTypeHandshake })
	if c.bad {
		c.Conn.Close()
		return 0, errNotTLS
	}
	return n, err
}
