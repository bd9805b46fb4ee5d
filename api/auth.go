package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/sdksign"
)

// Caller is who made a request, as the token check found it. The check puts
// it on the request's context; the service's writes read it from there.
type Caller struct {
	// Secret is the token the request carried: a follower forwards the
	// caller's writes to the leader with it, and the leader checks it again.
	Secret string
	// AccessKey is set instead of Secret when the request was signed with
	// an access key: a follower signs the writes it forwards with it.
	AccessKey string
	// Name is the caller in audit fields (createdBy, the change log's by).
	Name   string
	Policy fsm.Policy
	// Projects, when set, are the only projects the caller may read or
	// write (its credential's limits).
	Projects []string
	// Agent is set for an agent of the group (the management token the
	// agents share): it may propose the agents' own commands
	// (fsm.ForClient says which are not a client's).
	Agent bool
}

// CallerOf is the caller of the request whose context ctx is; the zero
// Caller when the request went through no token check.
func CallerOf(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey).(Caller)
	return c
}

// WithCaller is ctx carrying c, for a write made on c's behalf outside a
// request (the agent's own proposals, tests).
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey, c)
}

// callerName names the request's caller for audit fields.
func callerName(r *http.Request) string { return CallerOf(r.Context()).Name }

// secretFrom finds the caller's token: X-Auth-Token, Authorization: Bearer,
// or Basic auth with the token as the password. A request signed with an
// access key (Authorization: SDK-HMAC-SHA256) has none; X-Auth-Token beside
// a signature wins, as it does beside any Authorization.
func secretFrom(r *http.Request) string {
	if t := r.Header.Get(HeaderAuthToken); t != "" {
		return t
	}
	auth := r.Header.Get("Authorization")
	if scheme, rest, ok := strings.Cut(auth, " "); ok {
		switch strings.ToLower(scheme) {
		case "bearer":
			return strings.TrimSpace(rest)
		case "basic":
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
			if err == nil {
				if _, pass, ok := strings.Cut(string(b), ":"); ok {
					return pass
				}
			}
		}
	}
	return ""
}

// authorizeSigned is authorizeWith for a request signed with an access
// key; a bad signature is answered as an unknown token is, through fail, so
// that a dialect answers it in its own body.
func (s *Server) authorizeSigned(need fsm.Policy, fail AuthFailure, next http.Handler, w http.ResponseWriter, r *http.Request) {
	ak, err := s.verifier.Verify(r)
	if err != nil {
		fail(w, r, http.StatusUnauthorized, "invalid "+sdksign.Algorithm+" signature: "+err.Error())
		return
	}
	c, _, ok := s.accessKey(ak)
	if !ok { // deleted between the two look-ups
		fail(w, r, http.StatusUnauthorized, "unknown access key")
		return
	}
	c.AccessKey = ak
	admit(c, "access key", need, fail, next, w, r)
}

// admit lets an authenticated caller through when its policy allows need
// (403 through fail otherwise); what names the credential in the refusal.
func admit(c Caller, what string, need fsm.Policy, fail AuthFailure, next http.Handler, w http.ResponseWriter, r *http.Request) {
	noteCaller(r.Context(), c)
	if !c.Policy.Allows(need) {
		fail(w, r, http.StatusForbidden, fmt.Sprintf("%s policy %q does not allow this; it needs %q", what, c.Policy, need))
		return
	}
	next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
}

// accessKey is who holds ak and its secret, through Auth when it knows
// access keys.
func (s *Server) accessKey(ak string) (Caller, string, bool) {
	a, ok := s.auth.(AccessKeyAuth)
	if !ok {
		return Caller{}, "", false
	}
	return a.AuthenticateAccessKey(ak)
}

// accessKeySecret is the verifier's look-up.
func (s *Server) accessKeySecret(ak string) (string, bool) {
	_, secret, ok := s.accessKey(ak)
	return secret, ok
}

// AuthFailure writes the answer to a request the token check refused: status
// is 401 (no or an unknown token) or 403 (the token's policy is too weak).
// A dialect passes one to Server.Handle to answer in its own envelope.
type AuthFailure func(w http.ResponseWriter, r *http.Request, status int, message string)

// nativeAuthFailure answers as every native route does: {"error": "..."}.
func nativeAuthFailure(w http.ResponseWriter, _ *http.Request, status int, message string) {
	writeError(w, status, "%s", message)
}

// authorizeWith lets the request through, with its Caller on the context,
// when its token allows need; a need of "" means the route is open to
// anyone. fail writes the refusals.
func (s *Server) authorizeWith(need fsm.Policy, fail AuthFailure, next http.Handler) http.Handler {
	fail = s.authFailures.guard(fail) // 429 after repeated failures, no body drained (api/authlimit.go)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if need != "" && s.refuseNotReady(w, r) {
			return // before the token check: a behind agent may not know a valid token yet
		}
		secret := secretFrom(r)
		if need == "" || s.auth.AuthDisabled() {
			// Without auth every caller could be an agent of the group.
			anonymous := Caller{Secret: secret, Name: "anonymous", Policy: fsm.PolicyAdmin, Agent: s.auth.AuthDisabled()}
			noteCaller(r.Context(), anonymous)
			next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), anonymous)))
			return
		}
		if secret == "" && sdksign.IsSigned(r) {
			s.authorizeSigned(need, fail, next, w, r)
			return
		}
		if secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ferry"`)
			fail(w, r, http.StatusUnauthorized, "missing token: send it as X-Auth-Token, Authorization: Bearer, or the Basic auth password")
			return
		}
		c, ok := s.auth.Authenticate(secret)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ferry"`)
			fail(w, r, http.StatusUnauthorized, "invalid token")
			return
		}
		c.Secret = secret
		admit(c, "token", need, fail, next, w, r)
	})
}
