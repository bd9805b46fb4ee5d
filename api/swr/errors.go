package swr

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/registry"
	"github.com/ferrysync/ferry/store"
)

// Codes of SWR's error table (contract §1.4: opentelekomcloud-docs'
// error_codes.rst, the same numbers as Huawei's ErrorCode.html).
const (
	CodeInvalidParameter  = "SVCSTG.SWR.4000014"
	CodeInvalidPageSize   = "SVCSTG.SWR.4000056"
	CodeInvalidNamespace  = "SVCSTG.SWR.4001028"
	CodeInvalidRepo       = "SVCSTG.SWR.4001029"
	CodeInvalidFilter     = "SVCSTG.SWR.4001035"
	CodeParametersLost    = "SVCSTG.SWR.4001036"
	CodeRuleNotFound      = "SVCSTG.SWR.4001158"
	CodeAuthFailed        = "SVCSTG.SWR.4010000"
	CodeForbidden         = "SVCSTG.SWR.4039002"
	CodeNamespaceNotFound = "SVCSTG.SWR.4040058"
	CodeURLNotFound       = "SVCSTG.SWR.4040083"
	CodeRepoNotFound      = "SVCSTG.SWR.4040113"
	CodeNamespaceNotEmpty = "SVCSTG.SWR.4060074"
	CodeNamespaceExists   = "SVCSTG.SWR.4090060"
	CodeInternal          = "SVCSTG.SWR.5000007"
)

// Error is a refusal in SWR's terms.
type Error struct {
	Status  int
	Code    string
	Message string
	// Detail is Ferry's reason, where SWR's message is a fixed phrase.
	Detail string
	// Wrapped answers {"errors":[...]}: the live service's shape where
	// Terraform reads errors|[0].errorCode (contract §1.4).
	Wrapped bool
}

func (e *Error) Error() string { return e.Code + " " + e.Message + ": " + e.Detail }

// errorItem is one element of SWR's documented error body, an array.
type errorItem struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	Detail       string `json:"detail"`
}

func (e *Error) body() any {
	items := []errorItem{{ErrorCode: e.Code, ErrorMessage: e.Message, Detail: e.Detail}}
	if e.Wrapped {
		return map[string][]errorItem{"errors": items}
	}
	return items
}

func refuse(status int, code, message, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: message, Detail: fmt.Sprintf(format, args...)}
}

func invalidParameter(format string, args ...any) *Error {
	return refuse(http.StatusBadRequest, CodeInvalidParameter, "Invalid parameter", format, args...)
}

func invalidFilter(detail string) *Error {
	return refuse(http.StatusBadRequest, CodeInvalidFilter, "Invalid filtering criteria", "%s", detail)
}

func namespaceNotFound(ns string) *Error {
	return refuse(http.StatusNotFound, CodeNamespaceNotFound, "The organization was not found", "namespace %s", ns)
}

func repoNotFound(ns, repo string) *Error {
	return refuse(http.StatusNotFound, CodeRepoNotFound, "The image was not found", "repository %s in namespace %s", repo, ns)
}

// ruleNotFound is what the live service answers a delete of a missing
// rule (observed by Terraform): 400, in the wrapped shape.
func ruleNotFound(k ruleKey) *Error {
	e := refuse(http.StatusBadRequest, CodeRuleNotFound, "The sync rule was not found", "no rule of %s/%s to %s/%s", k.Namespace, k.Repo, k.Region, k.RemoteNamespace)
	e.Wrapped = true
	return e
}

func urlNotFound(r *http.Request) *Error {
	return refuse(http.StatusNotFound, CodeURLNotFound, "Url not found", "%s %s", r.Method, r.URL.Path)
}

// unknownURL answers a /v2/manage/ path (or method) no route serves, as
// APIG does for an API it does not know: 404 for both, with SWR's code.
func unknownURL(w http.ResponseWriter, r *http.Request) { writeError(w, urlNotFound(r)) }

// authFailure answers a refused credential (a Ferry token, and the SDK's
// signatures api/auth.go checks) in SWR's body.
func authFailure(w http.ResponseWriter, _ *http.Request, status int, message string) {
	switch status {
	case http.StatusForbidden:
		writeError(w, refuse(status, CodeForbidden, "Forbidden", "%s", message))
		return
	case http.StatusTooManyRequests: // too many failed authentications (api/authlimit.go)
		writeError(w, refuse(status, CodeAuthFailed, "Authentication failed", "%s", message))
		return
	}
	writeError(w, refuse(http.StatusUnauthorized, CodeAuthFailed, "Authentication failed", "%s", message))
}

// asError turns what a handler returned into SWR's terms; a handler maps
// the errors whose meaning depends on the call (which thing is missing)
// itself, so what comes here untranslated is by status only.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case registry.CodeOf(err) == registry.CodeNameInvalid:
		return refuse(http.StatusBadRequest, CodeInvalidRepo, "Invalid image name", "%v", err)
	case errors.Is(err, store.ErrInvalid):
		return invalidParameter("%v", err)
	}
	switch status := api.StatusOf(err); {
	case status == http.StatusUnauthorized:
		return refuse(status, CodeAuthFailed, "Authentication failed", "%v", err)
	case status == http.StatusForbidden:
		return refuse(status, CodeForbidden, "Forbidden", "%v", err)
	case status >= 400 && status < 500:
		return invalidParameter("%v", err)
	case status >= 500:
		return refuse(status, CodeInternal, "Internal error", "%v", err)
	}
	return refuse(http.StatusInternalServerError, CodeInternal, "Internal error", "%v", err)
}
