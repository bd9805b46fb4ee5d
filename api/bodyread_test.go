package api

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
)

// bodyServer serves POST /up, reading the whole body and answering a read
// error with 500, as a handler that does not know about timeouts does.
func bodyServer(t *testing.T, idle time.Duration) *httptest.Server {
	srv := New(Config{Auth: fakeAuth{disabled: true}, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(), BodyReadTimeout: idle})
	srv.Handle(http.MethodPost, "/up", "", nil, func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "read: %v", err)
			return
		}
		// Past the idle timeout after the body: the request must not have
		// been canceled by a read deadline left behind.
		time.Sleep(2 * idle)
		if r.Context().Err() != nil {
			writeError(w, http.StatusInternalServerError, "canceled after the body: %v", r.Context().Err())
			return
		}
		fmt.Fprint(w, n)
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func TestAnIdleBodyIs408(t *testing.T) {
	ts := bodyServer(t, 200*time.Millisecond)
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Fatalf("idle body: %d (close %v), want 408 and the connection closed", resp.StatusCode, resp.Close)
	}
}

// A body that keeps sending, slower in total than the timeout, is not cut.
func TestASlowButSteadyBodyIsRead(t *testing.T) {
	ts := bodyServer(t, 300*time.Millisecond)
	pr, pw := io.Pipe()
	go func() {
		for range 8 {
			_, _ = pw.Write([]byte("0123456789"))
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
	}()
	resp, err := http.Post(ts.URL+"/up", "application/octet-stream", pr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "80" {
		t.Fatalf("steady body: %d %s, want 200 80", resp.StatusCode, b)
	}
}
