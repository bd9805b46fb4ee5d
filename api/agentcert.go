package api

import (
	"net/http"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/tlsutil"
	"github.com/julienschmidt/httprouter"
)

// agentsOnly guards a route only agents call, after its token check: with
// TLS the caller must also have presented a verified agent certificate, so
// that a leaked management token alone cannot drive another agent's state
// machine or transfer protocol.
func (s *Server) agentsOnly(h httprouter.Handle) httprouter.Handle {
	if !s.agentCert {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		if _, ok := tlsutil.AgentID(r.TLS); !ok {
			writeError(w, http.StatusForbidden, "%s is for agents only: it needs an agent certificate signed by the group's CA", r.URL.Path)
			return
		}
		h(w, r, ps)
	}
}

// AgentScheme is the scheme of the agents' APIs, for the dialects that show
// an agent's URL: https with TLS, else http.
func (s *Server) AgentScheme() string { return s.scheme }

// MountForAgents is Mount for a route only agents call (agentsOnly).
func (s *Server) MountForAgents(method, path string, policy fsm.Policy, h http.Handler) {
	s.Handle(method, path, policy, nil, s.agentsOnly(mounted(h)))
}
