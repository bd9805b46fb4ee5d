package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

func tokenResponse(t fsm.Token, secret string) TokenResponse {
	return TokenResponse{AccessorID: t.AccessorID, Secret: secret, Description: t.Description, Policy: t.Policy, CreateTime: t.CreateTime, CredentialView: viewLimits(t.Limits)}
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	var req CreateTokenRequest
	if !decodeBody(w, r, &req) {
		return
	}
	tok, secret, err := s.tokens.CreateToken(r.Context(), req)
	if err != nil {
		writeServiceError(w, err)
		return
	}
	s.ReadHeaders(w)
	writeJSON(w, http.StatusCreated, tokenResponse(tok, secret))
}

func (s *Server) listTokens(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
	out := []TokenResponse{}
	for _, t := range s.tokens.ListTokens() {
		out = append(out, tokenResponse(t, ""))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	if err := s.tokens.DeleteToken(r.Context(), ps.ByName("accessor")); err != nil {
		writeServiceError(w, err)
		return
	}
	s.ReadHeaders(w)
	w.WriteHeader(http.StatusNoContent)
}

func accessKeyResponse(k fsm.AccessKey, withSecret bool) AccessKeyResponse {
	out := AccessKeyResponse{AccessKey: k.AccessKey, Description: k.Description, Policy: k.Policy, CreatedAt: k.CreatedAt, CredentialView: viewLimits(k.Limits)}
	if withSecret {
		out.SecretKey = k.Secret
	}
	return out
}

func (s *Server) createAccessKey(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	var req CreateAccessKeyRequest
	if !decodeBody(w, r, &req) {
		return
	}
	k, err := s.accessKeys.CreateAccessKey(r.Context(), req)
	if err != nil {
		writeServiceError(w, err)
		return
	}
	s.ReadHeaders(w)
	writeJSON(w, http.StatusCreated, accessKeyResponse(k, true))
}

func (s *Server) listAccessKeys(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
	out := []AccessKeyResponse{}
	for _, k := range s.accessKeys.ListAccessKeys() {
		out = append(out, accessKeyResponse(k, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteAccessKey(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	if err := s.accessKeys.DeleteAccessKey(r.Context(), ps.ByName("accessKey")); err != nil {
		writeServiceError(w, err)
		return
	}
	s.ReadHeaders(w)
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
	caller := CallerOf(r.Context())
	if need := cmd.Type.RequiredPolicy(); !caller.Policy.Allows(need) {
		writeError(w, http.StatusForbidden, "token policy %q does not allow %s; it needs %q", caller.Policy, cmd.Type, need)
		return
	}
	if !caller.Agent {
		if cmd, err = fsm.ForClient(cmd, caller.Name); err != nil {
			writeError(w, http.StatusForbidden, "%v", err)
			return
		}
	}
	res, err := s.forwarder.ApplyForwarded(r.Context(), cmd)
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
