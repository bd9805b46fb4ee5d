package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/replicator"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// The agent-to-agent transfer protocol (replicator/wire.go), target side.
// Only the agents of the group call it, with their shared management token.

func (s *Server) replicaRoutes() {
	a := fsm.PolicyAdmin
	s.Handle(http.MethodPost, "/v1/replica/plan", a, nil, s.replicaPlan)
	s.Handle(http.MethodPost, "/v1/replica/batch", a, nil, s.replicaBatch)
	s.Handle(http.MethodGet, "/v1/replica/uploads/:sha256", a, nil, s.replicaUploadStatus)
	s.Handle(http.MethodPatch, "/v1/replica/uploads/:sha256", a, nil, s.replicaAppend)
	s.Handle(http.MethodPost, "/v1/replica/commit", a, nil, s.replicaCommit)
	s.Handle(http.MethodPost, "/v1/replica/versions", a, nil, s.replicaVersions)
	s.Handle(http.MethodPost, "/v1/replica/delete", a, nil, s.replicaDelete)
	s.Handle(http.MethodGet, "/v1/replica/head", a, nil, s.replicaHead)
}

func (s *Server) replicaHead(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	q := r.URL.Query()
	if !required(w, q.Get("project"), "project") || !required(w, q.Get("repo"), "repo") {
		return
	}
	var since uint64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since=%q is not a change-log sequence", v)
			return
		}
		since = n
	}
	out, err := s.receiver.Head(r.Context(), q.Get("project"), q.Get("repo"), since, q.Get("by"))
	respond(w, out, err)
}

func (s *Server) replicaDelete(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	var req replicator.DeleteRequest
	if !decodeReplica(w, r, &req) {
		return
	}
	out, err := s.receiver.Delete(r.Context(), req)
	respond(w, out, err)
}

// maxReplicaJSON bounds a plan, commit or versions body (a plan of 1,000
// objects with metadata is well under it).
const maxReplicaJSON = 32 << 20

func decodeReplica(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxReplicaJSON)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: %v", err)
		return false
	}
	return true
}

func (s *Server) replicaPlan(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	var req replicator.PlanRequest
	if !decodeReplica(w, r, &req) {
		return
	}
	out, err := s.receiver.Plan(r.Context(), req)
	respond(w, out, err)
}

func (s *Server) replicaBatch(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	q := r.URL.Query()
	if !required(w, q.Get("project"), "project") || !required(w, q.Get("repo"), "repo") {
		return
	}
	// by names the writer in the change log (the sending run); the caller's
	// identity when it does not say.
	by := q.Get("by")
	if by == "" {
		by = callerName(r)
	}
	out, err := s.receiver.Batch(r.Context(), q.Get("project"), q.Get("repo"), by, r.Body)
	respond(w, out, err)
}

// uploadParams reads ?size= (and ?offset= when wanted).
func uploadParams(w http.ResponseWriter, r *http.Request, withOffset bool) (size, offset int64, ok bool) {
	q := r.URL.Query()
	size, err := strconv.ParseInt(q.Get("size"), 10, 64)
	if err != nil || size < 0 {
		writeError(w, http.StatusBadRequest, "size=%q is not a byte count", q.Get("size"))
		return 0, 0, false
	}
	if withOffset {
		if offset, err = strconv.ParseInt(q.Get("offset"), 10, 64); err != nil || offset < 0 {
			writeError(w, http.StatusBadRequest, "offset=%q is not a byte offset", q.Get("offset"))
			return 0, 0, false
		}
	}
	return size, offset, true
}

func (s *Server) replicaUploadStatus(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	size, _, ok := uploadParams(w, r, false)
	if !ok {
		return
	}
	out, err := s.receiver.UploadStatus(ps.ByName("sha256"), size)
	respond(w, out, err)
}

// replicaAppend answers 409 with the current offset when the sender is not
// where the target is, so that it resumes from there.
func (s *Server) replicaAppend(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	size, offset, ok := uploadParams(w, r, true)
	if !ok {
		return
	}
	out, err := s.receiver.Append(r.Context(), ps.ByName("sha256"), r.URL.Query().Get("md5"), size, offset, r.Body)
	var oe *store.OffsetError
	if errors.As(err, &oe) {
		writeJSON(w, http.StatusConflict, replicator.UploadStatus{Offset: oe.Offset, Error: err.Error()})
		return
	}
	if err != nil {
		writeError(w, StatusOf(err), "%s", fmt.Sprint(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) replicaCommit(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	var req replicator.CommitRequest
	if !decodeReplica(w, r, &req) {
		return
	}
	out, err := s.receiver.Commit(r.Context(), req)
	respond(w, out, err)
}

func (s *Server) replicaVersions(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	var req replicator.VersionsRequest
	if !decodeReplica(w, r, &req) {
		return
	}
	out, err := s.receiver.Versions(r.Context(), req)
	respond(w, out, err)
}
