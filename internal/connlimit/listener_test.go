package connlimit

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

type counts struct{ opened, closed, overall, perClient atomic.Int64 }

func (c *counts) Opened() { c.opened.Add(1) }
func (c *counts) Closed() { c.closed.Add(1) }
func (c *counts) Refused(reason string) {
	if reason == ReasonOverall {
		c.overall.Add(1)
	} else {
		c.perClient.Add(1)
	}
}

// serve accepts on l until it is closed, handing each kept connection out.
func serve(t *testing.T, limits Limits, obs Observer) (*Listener, <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Wrap(ln, limits, obs)
	t.Cleanup(func() { l.Close() })
	kept := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(kept)
				return
			}
			kept <- c
		}
	}()
	return l, kept
}

func dial(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByPeer is whether the listener's side closed c at once.
func closedByPeer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestPerClientLimitClosesTheExtraConnection(t *testing.T) {
	obs := &counts{}
	l, kept := serve(t, Limits{PerClient: 2}, obs)
	dial(t, l)
	dial(t, l)
	a, b := <-kept, <-kept
	if !closedByPeer(dial(t, l)) {
		t.Fatal("the third connection from one address stayed open")
	}
	if obs.perClient.Load() != 1 || l.Open() != 2 {
		t.Fatalf("refused per client %d, open %d; want 1 and 2", obs.perClient.Load(), l.Open())
	}
	a.Close()
	a.Close() // twice: released once
	dial(t, l)
	<-kept
	if l.Open() != 2 || obs.closed.Load() != 1 {
		t.Fatalf("open %d closed %d after one close and one dial; want 2 and 1", l.Open(), obs.closed.Load())
	}
	b.Close()
}

func TestOverallLimit(t *testing.T) {
	obs := &counts{}
	l, kept := serve(t, Limits{Max: 1, PerClient: 10}, obs)
	dial(t, l)
	c := <-kept
	if !closedByPeer(dial(t, l)) || obs.overall.Load() != 1 {
		t.Fatalf("a second connection over Max 1 was not refused (overall %d)", obs.overall.Load())
	}
	c.Close()
	dial(t, l)
	<-kept
	if obs.opened.Load() != 2 {
		t.Fatalf("opened %d, want 2", obs.opened.Load())
	}
}

func TestNoLimits(t *testing.T) {
	l, kept := serve(t, Limits{}, nil)
	for range 20 {
		dial(t, l)
		<-kept
	}
	if l.Open() != 20 {
		t.Fatalf("open %d, want 20", l.Open())
	}
}
