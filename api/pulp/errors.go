package pulp

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Error is a refusal in Pulp's terms (server/pulp/server/exceptions.py and
// common/pulp/common/error_codes.py): an HTTP status, a PLP code, the
// message, the exception's data and the keys Pulp also puts at the top of
// the body (data_dict()).
type Error struct {
	Status  int
	Code    string
	Message string
	Data    map[string]any
	Top     map[string]any
	// SubErrors are the wrapped exceptions' to_dict() (child_exceptions).
	SubErrors []map[string]any
}

func (e *Error) Error() string { return fmt.Sprintf("%s %s", e.Code, e.Message) }

// errorBody is Pulp's error body (middleware/exception.py,
// serializers/error.py). exception and traceback are null: every refusal
// here is a Pulp exception, not a crash.
func (e *Error) body(r *http.Request) map[string]any {
	data := e.Data
	if data == nil {
		data = map[string]any{}
	}
	subs := []map[string]any{}
	if e.SubErrors != nil {
		subs = e.SubErrors
	}
	b := map[string]any{
		"_href": r.URL.RequestURI(), "http_status": e.Status, "http_request_method": r.Method,
		"error_message": e.Message, "exception": nil, "traceback": nil,
		"error": map[string]any{"code": e.Code, "description": e.Message, "data": data, "sub_errors": subs},
	}
	for k, v := range e.Top {
		b[k] = v
	}
	return b
}

// pyList shows names as Python's str() of a list does: ['a', 'b'].
func pyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// missingResource is PLP0009: resources names what is missing, by kind
// (Pulp's keys are not uniform: repository, importer_id, schedule_id,
// resource_id, consumer_id).
func missingResource(kind, id string) *Error { return missingResources(kind, id) }

// missingResources is PLP0009 naming several resources: kind, id, kind, id...
func missingResources(kindIDs ...string) *Error {
	res := map[string]any{}
	var named []string
	for i := 0; i+1 < len(kindIDs); i += 2 {
		res[kindIDs[i]] = kindIDs[i+1]
		named = append(named, kindIDs[i]+"="+kindIDs[i+1])
	}
	return &Error{Status: http.StatusNotFound, Code: "PLP0009", Message: "Missing resource(s): " + strings.Join(named, ", "),
		Data: map[string]any{"resources": res}, Top: map[string]any{"resources": res}}
}

// invalidValue is PLP0015: the properties named are invalid.
func invalidValue(names ...string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "PLP0015", Message: "Invalid properties: " + pyList(names),
		Data: map[string]any{"property_names": names, "properties": pyList(names)}, Top: map[string]any{"property_names": names}}
}

// missingValue is PLP0016: the properties named are required.
func missingValue(names ...string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "PLP0016", Message: "Missing values for: " + pyList(names),
		Data: map[string]any{"property_names": names, "properties": pyList(names)}, Top: map[string]any{"missing_property_names": names}}
}

// unsupportedValue is PLP0017: the properties named are not taken.
func unsupportedValue(names ...string) *Error {
	names = slices.Sorted(slices.Values(names))
	return &Error{Status: http.StatusBadRequest, Code: "PLP0017", Message: "Unsupported properties: " + pyList(names),
		Data: map[string]any{"property_names": names, "properties": pyList(names)}, Top: map[string]any{"unsupported_property_names": names}}
}

// duplicateResource is PLP0018 (409): the id is taken.
func duplicateResource(id string) *Error {
	return &Error{Status: http.StatusConflict, Code: "PLP0018", Message: "Duplicate resource: " + id,
		Data: map[string]any{"resource_id": id}, Top: map[string]any{"resource_id": id}}
}

// notJSON is PLP1009: the body is not JSON.
func notJSON() *Error {
	return &Error{Status: http.StatusBadRequest, Code: "PLP1009", Message: "The request body does not contain valid JSON", Top: map[string]any{"args": []any{}}}
}

// notObject is PLP1015: the body is JSON, but not the object asked for.
func notObject() *Error {
	return &Error{Status: http.StatusBadRequest, Code: "PLP1015", Message: "The JSON data must be of type 'dict'.",
		Data: map[string]any{"data_type": "dict"}, Top: map[string]any{"args": []any{}}}
}

// Authentication refusals are 401 with auth_error_code (views/decorators.py):
// no credentials PLP0025, credentials that are no token PLP0030, a token
// whose policy does not allow the call PLP0026 (401 too, as Pulp answers).
func authenticationFailed() *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "PLP0025", Message: "Authentication failed.",
		Top: map[string]any{"auth_error_code": "authentication_failed"}}
}

func invalidCredentials(user string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "PLP0030",
		Message: fmt.Sprintf("Authentication with username %s failed: invalid username or password", user),
		Data:    map[string]any{"user": user}, Top: map[string]any{"auth_error_code": "invalid_username_or_password"}}
}

func permissionDenied(user, operation string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "PLP0026",
		Message: fmt.Sprintf("Permission denied: user %s cannot perform %s.", user, operation),
		Data:    map[string]any{"user": user, "operation": operation}, Top: map[string]any{"auth_error_code": "permission_denied"}}
}
