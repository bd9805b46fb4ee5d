package api

import (
	"net/http"

	"github.com/julienschmidt/httprouter"
)

// HealthResponse is GET /v1/health.
type HealthResponse struct {
	Status      string `json:"status"`
	KnownLeader bool   `json:"knownLeader"`
	Index       uint64 `json:"index"`
	// Reason is why the agent is not ready (status "not ready", 503).
	Reason string `json:"reason,omitempty"`
}

func (s *Server) health(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	rs := s.status.ReadState()
	body := HealthResponse{Status: "ok", KnownLeader: rs.KnownLeader, Index: rs.Index}
	if s.readiness != nil {
		if reason, retry := s.readiness.NotReady(); reason != "" {
			// The index goes out too: a restarting follower learns from
			// its leader's health how far it has to catch up.
			body.Status, body.Reason = "not ready", reason
			setRetryAfter(w, retry)
			writeJSON(w, http.StatusServiceUnavailable, body)
			return
		}
	}
	if _, wantLeader := r.URL.Query()["leader"]; wantLeader && !rs.KnownLeader {
		body.Status = "no leader"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) statusLeader(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
	l, ok := s.status.Leader()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "no cluster leader is known")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		APIAddr string `json:"apiAddr"`
	}{l.ID, l.Name, l.APIAddr})
}

func (s *Server) statusPeers(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
	peers, err := s.status.Peers()
	if err != nil {
		writeServiceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, peers)
}

func (s *Server) members(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
	writeJSON(w, http.StatusOK, s.status.Members())
}

func (s *Server) clusters(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
	writeJSON(w, http.StatusOK, s.status.Clusters())
}

func (s *Server) agentSelf(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
	writeJSON(w, http.StatusOK, s.status.Self())
}
