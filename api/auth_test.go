package api

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
)

func TestSecretFrom(t *testing.T) {
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	cases := []struct {
		name   string
		header map[string]string
		want   string
	}{
		{"x-auth-token", map[string]string{"X-Auth-Token": "s1"}, "s1"},
		{"bearer", map[string]string{"Authorization": "Bearer s2"}, "s2"},
		{"bearer any case", map[string]string{"Authorization": "bearer  s3 "}, "s3"},
		{"basic password", map[string]string{"Authorization": basic("admin", "s4")}, "s4"},
		{"basic password with colon", map[string]string{"Authorization": basic("u", "a:b")}, "a:b"},
		{"x-auth-token wins", map[string]string{"X-Auth-Token": "s5", "Authorization": "Bearer other"}, "s5"},
		{"basic not base64", map[string]string{"Authorization": "Basic !!!"}, ""},
		{"basic without colon", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon"))}, ""},
		{"unknown scheme", map[string]string{"Authorization": "Digest x"}, ""},
		{"nothing", nil, ""},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		if got := secretFrom(r); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func FuzzSecretFrom(f *testing.F) {
	f.Add("Bearer abc", "")
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("u:p")), "")
	f.Add("", "tok")
	f.Fuzz(func(t *testing.T, authorization, xauth string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", authorization)
		r.Header.Set("X-Auth-Token", xauth)
		got := secretFrom(r)
		if xauth != "" && r.Header.Get("X-Auth-Token") != "" && got != r.Header.Get("X-Auth-Token") {
			t.Fatalf("X-Auth-Token %q present but got %q", xauth, got)
		}
		if got != "" && !strings.Contains(r.Header.Get("X-Auth-Token")+authorization, got) &&
			!strings.HasPrefix(strings.ToLower(authorization), "basic") {
			t.Fatalf("secret %q appears nowhere in the request", got)
		}
	})
}

func FuzzDecodeBody(f *testing.F) {
	f.Add(`{"description":"d","policy":"read"}`)
	f.Add(`{"policy":"read"} {}`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		var req CreateTokenRequest
		ok := decodeBody(w, r, &req)
		if !ok && ((w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge) || !strings.Contains(w.Body.String(), `"error"`)) {
			t.Fatalf("refused body answered %d %s", w.Code, w.Body.String())
		}
		if ok && w.Code != http.StatusOK {
			t.Fatalf("accepted body but wrote %d", w.Code)
		}
	})
}

// fakeAuth knows one token per policy: the secret is the policy's name.
type fakeAuth struct{ disabled bool }

func (f fakeAuth) Authenticate(secret string) (Caller, bool) {
	p := fsm.Policy(secret)
	return Caller{Name: "token:" + secret, Policy: p}, p.Valid()
}

func (f fakeAuth) AuthDisabled() bool { return f.disabled }

// The token check puts the caller, with the secret it sent, on the request's
// context, and refuses what its policy does not allow.
func TestTheTokenCheckPutsTheCallerOnTheContext(t *testing.T) {
	for name, c := range map[string]struct {
		disabled bool
		need     fsm.Policy
		secret   string
		status   int
		want     Caller
	}{
		"write token on a write route": {false, fsm.PolicyWrite, "write", http.StatusOK, Caller{Secret: "write", Name: "token:write", Policy: fsm.PolicyWrite}},
		"admin token on a read route":  {false, fsm.PolicyRead, "admin", http.StatusOK, Caller{Secret: "admin", Name: "token:admin", Policy: fsm.PolicyAdmin}},
		"read token on a write route":  {false, fsm.PolicyWrite, "read", http.StatusForbidden, Caller{}},
		"unknown token":                {false, fsm.PolicyRead, "nope", http.StatusUnauthorized, Caller{}},
		"no token":                     {false, fsm.PolicyRead, "", http.StatusUnauthorized, Caller{}},
		"open route":                   {false, "", "read", http.StatusOK, Caller{Secret: "read", Name: "anonymous", Policy: fsm.PolicyAdmin}},
		"auth disabled":                {true, fsm.PolicyAdmin, "", http.StatusOK, Caller{Name: "anonymous", Policy: fsm.PolicyAdmin, Agent: true}},
	} {
		srv := New(Config{Auth: fakeAuth{c.disabled}, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()})
		var got Caller
		srv.Handle(http.MethodGet, "/t/:x", c.need, nil, func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
			got = CallerOf(r.Context())
		})
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/t/1", nil)
		if c.secret != "" {
			r.Header.Set(HeaderAuthToken, c.secret)
		}
		srv.ServeHTTP(w, r)
		if w.Code != c.status || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %d %+v, want %d %+v", name, w.Code, got, c.status, c.want)
		}
	}
}

// A mounted handler sits behind the same token check, and finds its path
// parameters and its caller in the request's context.
func TestMountedHandlersGetParamsAndCaller(t *testing.T) {
	srv := New(Config{Auth: fakeAuth{}, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()})
	srv.Mount(http.MethodPatch, "/v1/replica/uploads/:sha256", fsm.PolicyAdmin, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(httprouter.ParamsFromContext(r.Context()).ByName("sha256") + " " + CallerOf(r.Context()).Name))
	}))
	for secret, want := range map[string]string{"admin": "abc token:admin", "write": "does not allow this"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPatch, "/v1/replica/uploads/abc", nil)
		r.Header.Set(HeaderAuthToken, secret)
		srv.ServeHTTP(w, r)
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s, want %q", secret, w.Code, w.Body, want)
		}
	}
}
