package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/sdksign"
	"github.com/julienschmidt/httprouter"
	"github.com/prometheus/client_golang/prometheus"
)

// keyAuth is fakeAuth that also knows one access key per policy: AK the
// policy's name in capitals, SK "sk-" and the policy.
type keyAuth struct{ fakeAuth }

func (keyAuth) AuthenticateAccessKey(ak string) (Caller, string, bool) {
	p := fsm.Policy(strings.ToLower(ak))
	return Caller{Name: "ak:" + ak, Policy: p}, "sk-" + string(p), p.Valid() && ak == strings.ToUpper(ak)
}

var signedAt = time.Date(2026, 12, 2, 7, 24, 24, 0, time.UTC)

func signedServer(auth Auth, at time.Time) *Server {
	return New(Config{Auth: auth, Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()})
}

func signed(t *testing.T, method, target, body, ak, sk string, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	r.Header.Set("Content-Type", "application/json")
	if err := sdksign.Sign(r, ak, sk, at); err != nil {
		t.Fatal(err)
	}
	return r
}

// A signed request authenticates as its access key on any route, and a
// refusal goes through the route's AuthFailure so a dialect answers it.
func TestSignedRequestsAuthenticateAsTheirAccessKey(t *testing.T) {
	for name, c := range map[string]struct {
		auth   Auth
		need   fsm.Policy
		ak, sk string
		at     time.Time
		status int
		want   Caller
	}{
		"write key on a write route": {keyAuth{}, fsm.PolicyWrite, "WRITE", "sk-write", signedAt, http.StatusOK, Caller{AccessKey: "WRITE", Name: "ak:WRITE", Policy: fsm.PolicyWrite}},
		"admin key on a read route":  {keyAuth{}, fsm.PolicyRead, "ADMIN", "sk-admin", signedAt.Add(-14 * time.Minute), http.StatusOK, Caller{AccessKey: "ADMIN", Name: "ak:ADMIN", Policy: fsm.PolicyAdmin}},
		"read key on a write route":  {keyAuth{}, fsm.PolicyWrite, "READ", "sk-read", signedAt, http.StatusForbidden, Caller{}},
		"wrong SK":                   {keyAuth{}, fsm.PolicyRead, "ADMIN", "sk-read", signedAt, http.StatusUnauthorized, Caller{}},
		"unknown AK":                 {keyAuth{}, fsm.PolicyRead, "NOPE", "sk-read", signedAt, http.StatusUnauthorized, Caller{}},
		"16 minutes old":             {keyAuth{}, fsm.PolicyRead, "ADMIN", "sk-admin", signedAt.Add(-16 * time.Minute), http.StatusUnauthorized, Caller{}},
		"16 minutes ahead":           {keyAuth{}, fsm.PolicyRead, "ADMIN", "sk-admin", signedAt.Add(16 * time.Minute), http.StatusUnauthorized, Caller{}},
		"an Auth without keys":       {fakeAuth{}, fsm.PolicyRead, "ADMIN", "sk-admin", signedAt, http.StatusUnauthorized, Caller{}},
		"open route":                 {keyAuth{}, "", "NOPE", "x", signedAt, http.StatusOK, Caller{Name: "anonymous", Policy: fsm.PolicyAdmin}},
	} {
		srv := signedServer(c.auth, signedAt)
		var got Caller
		var body string
		srv.Handle(http.MethodPost, "/t/:x", c.need, dialectFailure, func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
			got = CallerOf(r.Context())
			b, _ := io.ReadAll(r.Body)
			body = string(b)
		})
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, signed(t, http.MethodPost, "http://agent/t/app$web?filter", `{"a":1}`+"\n", c.ak, c.sk, c.at))
		if w.Code != c.status || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %d %+v, want %d %+v", name, w.Code, got, c.status, c.want)
		}
		if c.status == http.StatusOK && body != `{"a":1}`+"\n" {
			t.Errorf("%s: the handler read %q", name, body)
		}
		if c.status != http.StatusOK && !strings.HasPrefix(w.Body.String(), `{"dialect":`) {
			t.Errorf("%s: refused with %s, not through the route's AuthFailure", name, w.Body.String())
		}
	}
}

func dialectFailure(w http.ResponseWriter, _ *http.Request, status int, message string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"dialect": message})
}

// A subtree (the OCI registry) takes signed requests too.
func TestSignedRequestsOnASubtree(t *testing.T) {
	srv := signedServer(keyAuth{}, signedAt)
	srv.HandleSubtree(Subtree{Prefix: "/v2/", Label: func(*http.Request) string { return "v2" },
		Need:    func(*http.Request) fsm.Policy { return fsm.PolicyRead },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, CallerOf(r.Context()).Name) })})
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, signed(t, http.MethodGet, "http://agent/v2/team/app/tags/list", "", "READ", "sk-read", signedAt))
	if w.Code != http.StatusOK || w.Body.String() != "ak:READ" {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
}

// fakeKeys is an AccessKeys over a map.
type fakeKeys struct{ keys map[string]fsm.AccessKey }

func (f *fakeKeys) CreateAccessKey(_ context.Context, req CreateAccessKeyRequest) (fsm.AccessKey, error) {
	k := fsm.AccessKey{AccessKey: "AK1", Secret: "SK1", Description: req.Description, Policy: req.Policy, CreatedAt: signedAt}
	f.keys[k.AccessKey] = k
	return k, nil
}

func (f *fakeKeys) ListAccessKeys() []fsm.AccessKey {
	var out []fsm.AccessKey
	for _, k := range f.keys {
		out = append(out, k)
	}
	return out
}

func (f *fakeKeys) DeleteAccessKey(_ context.Context, ak string) error {
	if _, ok := f.keys[ak]; !ok {
		return &fsm.Error{Kind: fsm.KindNotFound, Reason: "access key not found"}
	}
	delete(f.keys, ak)
	return nil
}

type fakeStatus struct{ Status }

func (fakeStatus) ReadState() ReadState { return ReadState{ServedBy: "here"} }
func (fakeStatus) IsLeader() bool       { return true }
func (fakeStatus) ReadyForConsistentReads() error {
	return nil
}

// The secret is in the answer to the create alone.
func TestAccessKeyRoutes(t *testing.T) {
	keys := &fakeKeys{keys: map[string]fsm.AccessKey{}}
	srv := New(Config{Auth: fakeAuth{}, Status: fakeStatus{}, AccessKeys: keys, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()})
	do := func(method, path, token, body string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set(HeaderAuthToken, token)
		srv.ServeHTTP(w, r)
		return w
	}
	w := do("POST", "/v1/acl/access-keys", "admin", `{"description":"ci","policy":"write"}`)
	var got AccessKeyResponse
	want := AccessKeyResponse{AccessKey: "AK1", SecretKey: "SK1", Description: "ci", Policy: fsm.PolicyWrite, CreatedAt: signedAt}
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &got) != nil || !reflect.DeepEqual(got, want) || !strings.Contains(w.Body.String(), `"secretKey"`) {
		t.Fatalf("create: %d %s", w.Code, w.Body.String())
	}
	if w := do("GET", "/v1/acl/access-keys", "admin", ""); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "SK1") || !strings.Contains(w.Body.String(), `"AK1"`) {
		t.Fatalf("list: %d %s", w.Code, w.Body.String())
	}
	for _, c := range []struct {
		method, path, token string
		status              int
	}{
		{"POST", "/v1/acl/access-keys", "write", http.StatusForbidden},
		{"GET", "/v1/acl/access-keys", "write", http.StatusForbidden},
		{"DELETE", "/v1/acl/access-keys/AK1", "write", http.StatusForbidden},
		{"DELETE", "/v1/acl/access-keys/AK1", "admin", http.StatusNoContent},
		{"DELETE", "/v1/acl/access-keys/AK1", "admin", http.StatusNotFound},
		{"POST", "/v1/acl/access-keys", "admin", http.StatusBadRequest}, // no body
	} {
		if w := do(c.method, c.path, c.token, ""); w.Code != c.status {
			t.Errorf("%s %s as %s: %d %s, want %d", c.method, c.path, c.token, w.Code, w.Body.String(), c.status)
		}
	}
}
