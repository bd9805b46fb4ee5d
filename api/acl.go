package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

func tokenResponse(t fsm.Token, secret string) TokenResponse {
	return TokenResponse{AccessorID: t.AccessorID, Secret: secret, Description: t.Description, Policy: t.Policy, CreateTime: t.CreateTime}
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	var req CreateTokenRequest
	if !decodeBody(w, r, &req) {
		return
	}
	tok, secret, err := s.svc.CreateToken(r.Context(), secretOf(r), req)
	if err != nil {
		writeServiceError(w, err)
		return
	}
	s.readHeaders(w)
	writeJSON(w, http.StatusCreated, tokenResponse(tok, secret))
}

func (s *Server) listTokens(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
	out := []TokenResponse{}
	for _, t := range s.svc.ListTokens() {
		out = append(out, tokenResponse(t, ""))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	if err := s.svc.DeleteToken(r.Context(), secretOf(r), ps.ByName("accessor")); err != nil {
		writeServiceError(w, err)
		return
	}
	s.readHeaders(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) internalApply(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	var raw json.RawMessage
	if !decodeBody(w, r, &raw) {
		return
	}
	cmd, err := fsm.DecodeCommand(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if cmd.Type.InternalOnly() {
		writeError(w, http.StatusForbidden, "command %q cannot be proposed through the API", cmd.Type)
		return
	}
	if need := cmd.Type.RequiredPolicy(); !policyOf(r).Allows(need) {
		writeError(w, http.StatusForbidden, "token policy %q does not allow %s; it needs %q", policyOf(r), cmd.Type, need)
		return
	}
	res, err := s.svc.ApplyForwarded(r.Context(), cmd)
	if err != nil {
		writeServiceError(w, err)
		return
	}
	out := ForwardedResult{Index: res.Index, Duplicate: res.Duplicate}
	if res.Err != nil {
		if !errors.As(res.Err, &out.Error) {
			out.Error = &fsm.Error{Kind: fsm.KindOf(res.Err), Reason: res.Err.Error()}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
