package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
)

// The audit trail: every state-changing call (any method but GET, HEAD
// and OPTIONS) is one structured line — who (the caller its credential
// names, or "unauthenticated"), what (method, route, the path it names),
// how it ended (the status, and "ok", "refused" or "failed") and its trace
// id — on Config.Audit. The agents' own calls (/v1/replica/*,
// /v1/internal/*) are left out: a forwarded write is audited where its
// caller made it, and replication is the runs' record.

// auditSlot is where the token check leaves the caller for the audit line
// of the request it is in.
type auditSlot struct{ caller *Caller }

type auditKey struct{}

func withAuditSlot(r *http.Request) (*http.Request, *auditSlot) {
	slot := &auditSlot{}
	return r.WithContext(context.WithValue(r.Context(), auditKey{}, slot)), slot
}

// noteCaller records the authenticated caller for the audit line.
func noteCaller(ctx context.Context, c Caller) {
	if slot, ok := ctx.Value(auditKey{}).(*auditSlot); ok {
		slot.caller = &c
	}
}

// audited reports whether a call is one the audit trail records.
func audited(method, path string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return !strings.HasPrefix(path, "/v1/replica/") && !strings.HasPrefix(path, "/v1/internal/")
}

func (s *Server) audit(r *http.Request, route string, code int, slot *auditSlot) {
	if s.auditLog == nil || !audited(r.Method, r.URL.Path) {
		return
	}
	caller, policy := "unauthenticated", ""
	if slot.caller != nil {
		caller, policy = slot.caller.Name, string(slot.caller.Policy)
	}
	result := "ok"
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusTooManyRequests:
		result = "refused"
	case code >= 400:
		result = "failed"
	}
	s.auditLog.LogAttrs(r.Context(), slog.LevelInfo, "audit",
		slog.String("caller", caller), slog.String("policy", policy), slog.String("method", r.Method),
		slog.String("route", route), slog.String("object", r.URL.Path), slog.Int("code", code),
		slog.String("result", result), slog.String("trace", TraceID(r.Context())), slog.String("remote", r.RemoteAddr))
}
