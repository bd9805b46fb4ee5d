package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"
)

// Readiness says whether the agent may answer from its state. A restarted
// agent that has not caught up with the leader would refuse valid tokens
// as unknown and list old state; one whose disk or Raft log is failing
// cannot take part in writes.
type Readiness interface {
	// NotReady is why the agent is not ready, or "" when it is, with how
	// long a client should wait before it retries.
	NotReady() (reason string, retryAfter time.Duration)
}

// Leaver makes the agent leave the group gracefully and stop
// (PUT /v1/agent/leave).
type Leaver interface {
	LeaveGroup(ctx context.Context) error
}

// readyExempt are the routes a not-ready agent still serves: the agents'
// own protocol (forwarded writes reach the leader, transfers their
// target: neither reads this agent's state to authenticate) and this
// agent's own status and leave.
var readyExempt = []string{"/v1/internal/", "/v1/replica/", "/v1/agent/"}

// refuseNotReady answers 503 with a Retry-After hint, in the native
// envelope, when the agent is not ready and the route needs its state;
// it reports whether it did.
func (s *Server) refuseNotReady(w http.ResponseWriter, r *http.Request) bool {
	if s.readiness == nil {
		return false
	}
	reason, retry := s.readiness.NotReady()
	if reason == "" {
		return false
	}
	for _, p := range readyExempt {
		if strings.HasPrefix(r.URL.Path, p) {
			return false
		}
	}
	setRetryAfter(w, retry)
	closeUnread(w, r)
	writeError(w, http.StatusServiceUnavailable, "%s", reason)
	return true
}

// setRetryAfter hints a retry in whole seconds, at least one.
func setRetryAfter(w http.ResponseWriter, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(retry/time.Second))))
}

// agentLeave is PUT /v1/agent/leave: it answers once the agent is out of
// the Raft configuration; the agent stops right after.
func (s *Server) agentLeave(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	if s.leaver == nil {
		writeError(w, http.StatusNotImplemented, "this server cannot leave")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), leaveTimeout)
	defer cancel()
	if err := s.leaver.LeaveGroup(ctx); err != nil {
		writeError(w, http.StatusInternalServerError, "leave: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Left bool `json:"left"`
	}{true})
}

// leaveTimeout bounds waiting for the leader to remove this agent.
const leaveTimeout = 30 * time.Second
