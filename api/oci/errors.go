package oci

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/registry"
	"github.com/ferrysync/ferry/store"
)

// codeTagInvalid is Distribution's code for a malformed tag (the spec has
// none of its own).
const codeTagInvalid = "TAG_INVALID"

// statusOf is each code's status, as Distribution answers them.
var statusOf = map[string]int{
	registry.CodeBlobUnknown:         http.StatusNotFound,
	registry.CodeBlobUploadInvalid:   http.StatusBadRequest,
	registry.CodeBlobUploadUnknown:   http.StatusNotFound,
	registry.CodeDigestInvalid:       http.StatusBadRequest,
	registry.CodeManifestBlobUnknown: http.StatusBadRequest,
	registry.CodeManifestInvalid:     http.StatusBadRequest,
	registry.CodeManifestUnknown:     http.StatusNotFound,
	registry.CodeNameInvalid:         http.StatusBadRequest,
	registry.CodeNameUnknown:         http.StatusNotFound,
	registry.CodeSizeInvalid:         http.StatusBadRequest,
	registry.CodeDenied:              http.StatusForbidden,
	registry.CodeUnsupported:         http.StatusMethodNotAllowed,
	codeTagInvalid:                   http.StatusBadRequest,
	"UNAUTHORIZED":                   http.StatusUnauthorized,
	"TOOMANYREQUESTS":                http.StatusTooManyRequests,
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// writeError writes err as the spec's body; what is no refusal of the
// registry is the store's failure (507 for a full disk) or a 500.
func writeError(w http.ResponseWriter, err error) {
	var e *registry.Error
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &e):
		status = statusOf[e.Code]
	case errors.Is(err, store.ErrInsufficientSpace):
		status, e = http.StatusInsufficientStorage, &registry.Error{Code: "UNKNOWN", Message: err.Error()}
	case errors.Is(err, store.ErrInvalid):
		status, e = http.StatusBadRequest, &registry.Error{Code: registry.CodeNameInvalid, Message: err.Error()}
	case api.StatusOf(err) == http.StatusForbidden: // a credential limited to other projects
		status, e = http.StatusForbidden, &registry.Error{Code: "DENIED", Message: err.Error()}
	default:
		e = &registry.Error{Code: "UNKNOWN", Message: err.Error()}
	}
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, "application/json", errorBody{[]errorEntry{{e.Code, e.Message, e.Detail}}})
}

// authFailure is the registry's 401 (with the Basic challenge docker,
// skopeo and the conformance suite answer), 403 and 429.
func authFailure(w http.ResponseWriter, _ *http.Request, status int, message string) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	code := "DENIED"
	switch status {
	case http.StatusUnauthorized:
		code = "UNAUTHORIZED"
		w.Header().Set("WWW-Authenticate", `Basic realm="ferry"`)
	case http.StatusTooManyRequests: // too many failed authentications (api/authlimit.go)
		code = "TOOMANYREQUESTS"
	}
	writeJSON(w, status, "application/json", errorBody{[]errorEntry{{Code: code, Message: message}}})
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
