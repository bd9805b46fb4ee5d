package bkrepo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// Prefix is where the dialect's routes live: bk-repo's replication service
// answers under /replication, its controllers under /api.
const Prefix = "/replication/api"

// Prefixes are every path the routes answer under: the service's own, and
// the two bk-repo's gateway routes to it (/web for the web UI, /api for
// scripts), so a client pointed at either works unchanged.
var Prefixes = []string{Prefix, "/web" + Prefix, "/api" + Prefix}

// Codes of bk-repo's answers, from TencentBlueKing/bk-repo's sources (paths
// under src/backend/):
//
//   - common/common-api/.../common/api/message/MessageCode.kt: a code is 25
//     (the platform) * 10000 + module * 100 + business code;
//   - .../message/CommonMessageCode.kt: module 1, business code = ordinal+1
//     counted from SUCCESS, so SYSTEM_ERROR is 250102, PARAMETER_INVALID
//     250105, REQUEST_CONTENT_INVALID 250106, RESOURCE_EXISTED 250107,
//     RESOURCE_NOT_FOUND 250108, REQUEST_DENIED 250113,
//     REQUEST_UNAUTHENTICATED 250114; messages from common-api's
//     i18n/messages_en.properties ("Parameter [{0}] is invalid", ...);
//   - replication/api-replication/.../replication/exception/
//     ReplicationMessageCode.kt: module 3, TASK_STATUS_INVALID(3) 250303,
//     REPLICA_TASK_NOT_FOUND(10) 250310; messages from biz-replication's
//     i18n/messages_en.properties;
//   - common/common-service/.../service/exception/GlobalExceptionHandler.kt:
//     an ErrorCodeException answers HTTP 400, an unreadable body
//     (HttpMessageNotReadableException) 400 REQUEST_CONTENT_INVALID, any
//     other exception 500 SYSTEM_ERROR;
//   - common/common-security/.../security/exception/AuthenticationException.kt
//     (401 REQUEST_UNAUTHENTICATED) and PermissionException.kt (403
//     REQUEST_DENIED).
const (
	CodeSuccess                   = 0
	CodeSystemError               = 250102 // SYSTEM_ERROR
	CodeParameterMissing          = 250103 // PARAMETER_MISSING: a required value is null
	CodeParameterEmpty            = 250104 // PARAMETER_EMPTY: a required list or value is empty
	CodeParameterInvalid          = 250105 // PARAMETER_INVALID
	CodeRequestContentInvalid     = 250106 // REQUEST_CONTENT_INVALID: the body cannot be read as the request
	CodeResourceExisted           = 250107 // RESOURCE_EXISTED
	CodeMethodNotAllowed          = 250112 // METHOD_NOT_ALLOWED (405)
	CodeRequestDenied             = 250113 // REQUEST_DENIED (403)
	CodeRequestUnauthenticated    = 250114 // REQUEST_UNAUTHENTICATED (401)
	CodeMediaTypeUnsupported      = 250119 // MEDIA_TYPE_UNSUPPORTED (415)
	CodeResourceUnknown           = 250130 // "Request url[...] not found" (404): no route
	CodeParameterValidationFailed = 250131 // PARAMETER_VALIDATION_FAILED: a bad query parameter
	CodeRemoteClusterConnectError = 250301 // REMOTE_CLUSTER_CONNECT_ERROR
	CodeTaskStatusInvalid         = 250303 // TASK_STATUS_INVALID
	CodeTaskEnabledFalse          = 250304 // TASK_ENABLED_FALSE
	CodeClusterNodeNotFound       = 250306 // CLUSTER_NODE_NOT_FOUND
	CodeTaskNeverRun              = 250307 // a WAITING task that is not a cron one has not run yet
	CodeTaskDisableUpdate         = 250308 // TASK_DISABLE_UPDATE
	CodeReplicaTaskNotFound       = 250310 // REPLICA_TASK_NOT_FOUND
)

// Response is bk-repo's envelope (common-api pojo/Response.kt): message is
// null on success, data null on failure; traceId is the request's X-Trace-Id.
type Response struct {
	Code    int     `json:"code"`
	Message *string `json:"message"`
	Data    any     `json:"data"`
	TraceID string  `json:"traceId"`
}

// Error is a refusal in bk-repo's terms: an HTTP status (400 for every
// ErrorCodeException, as bk-repo's GlobalExceptionHandler answers), a code
// and bk-repo's message for it.
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

func invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf("Parameter [%s] is invalid", field)
	if format != "" {
		msg += ": " + fmt.Sprintf(format, args...)
	}
	return &Error{http.StatusBadRequest, CodeParameterInvalid, msg}
}

func taskNotFound(key string) *Error {
	return &Error{http.StatusBadRequest, CodeReplicaTaskNotFound, fmt.Sprintf("replica task [%s] not found", key)}
}

// Services are what the dialect calls: the services of the native API.
type Services struct {
	Tasks api.Tasks
	Runs  api.Runs
	// Status gives the cluster registry and each cluster's health.
	Status api.Status
}

// Register mounts the dialect on srv, over the services svc. Routes take the
// agent's tokens like the native ones: reads need policy read, writes write.
func Register(srv *api.Server, svc Services) {
	d := &dialect{srv: srv, tasks: svc.Tasks, runs: svc.Runs, status: svc.Status}
	r, w := fsm.PolicyRead, fsm.PolicyWrite

	// ReplicaTaskController: /api/task.
	d.handle(http.MethodPost, "/task/create", w, d.createTask)
	d.handle(http.MethodGet, "/task/info/:key", r, d.taskInfo)
	d.handle(http.MethodGet, "/task/detail/:key", r, d.taskDetail)
	d.handle(http.MethodGet, "/task/page/:projectId", r, d.taskPage)
	d.handle(http.MethodDelete, "/task/delete/:key", w, d.deleteTask)
	d.handle(http.MethodPost, "/task/toggle/status/:key", w, d.toggleTask)
	d.handle(http.MethodPost, "/task/copy", w, d.copyTask)
	d.handle(http.MethodPost, "/task/update", w, d.updateTask)
	d.handle(http.MethodPost, "/task/execute/:key", w, d.executeTask)

	// ReplicaRecordController: /api/task/record. Its /{recordId} sits beside
	// static segments (list, page, detail, overview), which httprouter does
	// not allow, so one route per depth dispatches on the segments.
	d.handle(http.MethodGet, "/task/record/:p1", r, d.record)
	d.handle(http.MethodGet, "/task/record/:p1/:p2", r, d.record)
	d.handle(http.MethodGet, "/task/record/:p1/:p2/:p3", r, d.record)

	d.registerClusters()

	for _, p := range Prefixes {
		srv.HandleUnmatched(api.Unmatched{Prefix: p + "/", NotFound: http.HandlerFunc(unknownURL), MethodNotAllowed: http.HandlerFunc(wrongMethod)})
	}
}

// unknownURL is bk-repo's answer to a path no controller serves
// (NoHandlerFoundException in its GlobalExceptionHandler).
func unknownURL(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, &Error{http.StatusNotFound, CodeResourceUnknown, fmt.Sprintf("Request url[%s] not found", r.URL.Path)})
}

// wrongMethod is bk-repo's answer to a method a path does not take.
func wrongMethod(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, &Error{http.StatusMethodNotAllowed, CodeMethodNotAllowed, fmt.Sprintf("Request method '%s' is not supported", r.Method)})
}

type dialect struct {
	srv    *api.Server
	tasks  api.Tasks
	runs   api.Runs
	status api.Status
}

// handler answers a request with the envelope's data, or fails.
type handler func(r *http.Request, ps httprouter.Params) (any, error)

func (d *dialect) handle(method, path string, need fsm.Policy, h handler) {
	serve := func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		loc := d.zone(r)
		w.Header().Set(ZoneHeader, loc.String())
		data, err := h(r.WithContext(withZone(r.Context(), loc)), ps)
		if err != nil {
			writeError(w, r, asError(err))
			return
		}
		d.srv.ReadHeaders(w)
		write(w, r, http.StatusOK, Response{Code: CodeSuccess, Data: data})
	}
	for _, p := range Prefixes {
		d.srv.Handle(method, p+path, need, authFailure, serve)
	}
}

// authFailure answers a refused token in the envelope, as bk-repo's
// AuthenticationException (401) and PermissionException (403) do.
func authFailure(w http.ResponseWriter, r *http.Request, status int, message string) {
	e := &Error{Status: status, Code: CodeRequestUnauthenticated, Message: "Failed to authenticate: " + message}
	if status == http.StatusForbidden {
		e.Code, e.Message = CodeRequestDenied, "Access denied: "+message
	}
	writeError(w, r, e)
}

func writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	msg := e.Message
	write(w, r, e.Status, Response{Code: e.Code, Message: &msg})
}

func write(w http.ResponseWriter, r *http.Request, status int, resp Response) {
	resp.TraceID = api.TraceID(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(resp)
}

// asError turns what a handler returned into bk-repo's terms. Errors of the
// service come here untranslated only when no operation-specific mapping
// (serviceError) applied.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return serviceError(err, "", "")
}

// serviceError maps a service error to bk-repo's code. key names the task
// the request was about; name the task name a create, copy or update asked
// for ("" for other operations).
//
//   - a refusal that names its rule (fsm.Rule) gets bk-repo's code for it:
//     a disabled task 250304 TASK_ENABLED_FALSE, a task replicating 250303
//     TASK_STATUS_INVALID, a one-shot task not fired yet 250307
//     SCHEDULED_JOB_LOADING, an update of a task that has run 250308
//     TASK_DISABLE_UPDATE, a taken name 250107 RESOURCE_EXISTED, an unknown
//     cluster 250306 CLUSTER_NODE_NOT_FOUND;
//   - other refusals by kind: KindInvalid 250105 PARAMETER_INVALID,
//     "Parameter [field] is invalid: reason"; KindNotFound 250310
//     REPLICA_TASK_NOT_FOUND; KindConflict 250303 TASK_STATUS_INVALID;
//   - a refusal by the leader the write was forwarded to: 401 and 403 as
//     authFailure answers them; another 4xx is 250105;
//   - anything else: 250102 SYSTEM_ERROR with the status the native API
//     would answer (500, or 503/504 while there is no leader).
func serviceError(err error, key, name string) *Error {
	if e := ruleError(err, key, name); e != nil {
		return e
	}
	switch fsm.KindOf(err) {
	case fsm.KindInvalid:
		return parameterError(err)
	case fsm.KindNotFound:
		return taskNotFound(key)
	case fsm.KindConflict:
		return &Error{http.StatusBadRequest, CodeTaskStatusInvalid, "task status invalid: " + err.Error()}
	}
	switch status := api.StatusOf(err); {
	case status == http.StatusUnauthorized:
		return &Error{status, CodeRequestUnauthenticated, "Failed to authenticate: " + err.Error()}
	case status == http.StatusForbidden:
		return &Error{status, CodeRequestDenied, "Access denied: " + err.Error()}
	case status >= 400 && status < 500:
		return parameterError(err)
	case status >= 500:
		return &Error{status, CodeSystemError, "System service is busy, please try again later: " + err.Error()}
	default:
		return &Error{http.StatusInternalServerError, CodeSystemError, "System service is busy, please try again later: " + err.Error()}
	}
}

// ruleError is bk-repo's answer to a refusal that names its rule, with
// bk-repo's short message and Ferry's reason after it; nil for any other
// error.
func ruleError(err error, key, name string) *Error {
	var fe *fsm.Error
	if !errors.As(err, &fe) || fe.Rule == "" {
		return nil
	}
	code, msg := 0, ""
	switch fe.Rule {
	case fsm.RuleTaskDisabled:
		code, msg = CodeTaskEnabledFalse, "task enables is false"
	case fsm.RuleTaskBusy:
		code, msg = CodeTaskStatusInvalid, "task status invalid"
	case fsm.RuleTaskNotStarted:
		code, msg = CodeTaskNeverRun, fmt.Sprintf("task [%s] has not been executed yet", key)
	case fsm.RuleTaskHasRun:
		code, msg = CodeTaskDisableUpdate, fmt.Sprintf("task [%s] has been executed and can not be updated", key)
	case fsm.RuleNameTaken:
		code, msg = CodeResourceExisted, fmt.Sprintf("Resource [%s] existed", name)
	case fsm.RuleUnknownCluster:
		code, msg = CodeClusterNodeNotFound, "cluster node is not found"
	default:
		return nil
	}
	return &Error{http.StatusBadRequest, code, msg + ": " + fe.Reason}
}

// parameterError words a refusal of the request as bk-repo's
// PARAMETER_INVALID: "Parameter [field] is invalid: reason", from the
// fsm.Error's field and reason; a refusal that names no field is about the
// request as a whole.
func parameterError(err error) *Error {
	var fe *fsm.Error
	if errors.As(err, &fe) && fe.Field != "" {
		return invalid(fe.Field, "%s", fe.Reason)
	}
	return invalid("request", "%s", err.Error())
}
