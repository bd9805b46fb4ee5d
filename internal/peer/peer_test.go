package peer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDoDecodesAnswersAndErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get(HeaderAuthToken) != "tok":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"bad token"}`))
		case r.URL.Path == "/ok":
			w.Write([]byte(`{"n":3,"trace":"` + r.Header.Get(HeaderTraceID) + `","q":"` + r.URL.Query().Get("q") + `"}`))
		case r.URL.Path == "/plain":
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("  upstream down \n"))
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := &Client{HTTP: srv.Client(), Token: "tok"}
	ctx := context.Background()

	var out struct {
		N     int
		Trace string
		Q     string
	}
	if err := c.Do(ctx, Request{Method: "GET", Addr: addr, Path: "/ok", Query: map[string][]string{"q": {"a b"}}, TraceID: "t1"}, &out); err != nil || out.N != 3 || out.Trace != "t1" || out.Q != "a b" {
		t.Fatalf("ok: %+v %v", out, err)
	}
	var se *StatusError
	err := c.Do(ctx, Request{Method: "GET", Addr: addr, Path: "/ok", Token: "other"}, nil)
	if !errors.As(err, &se) || se.Code != 401 || se.Message != "bad token" || se.Temporary() {
		t.Fatalf("a refusal is a StatusError with the agent's message, not temporary: %v", err)
	}
	err = c.Do(ctx, Request{Method: "GET", Addr: addr, Path: "/plain"}, nil)
	if !errors.As(err, &se) || se.Code != 502 || se.Message != "upstream down" || !se.Temporary() {
		t.Fatalf("a body that is not Ferry's shape is its text, and 5xx is temporary: %v", err)
	}
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"error":"x"}`))
	f.Add([]byte(`{"error":""}`))
	f.Add([]byte("plain"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m := ErrorMessage(b); len(m) > len(b) {
			t.Fatalf("message %q longer than its body", m)
		}
	})
}
