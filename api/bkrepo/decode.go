package bkrepo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// TimeLayout is how bk-repo shows a LocalDateTime: local time without a zone,
// to the millisecond. Times are shown in the agent's zone (api.Tasks.Location).
const TimeLayout = "2006-01-02T15:04:05.000"

// FormatTime shows t as bk-repo does; the zero time is null.
func FormatTime(t time.Time, loc *time.Location) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(loc).Format(TimeLayout)
	return &s
}

// ParseTime reads a time a request gives: a LocalDateTime
// ("2020-03-16T12:00:00", with any fraction of a second or without the
// seconds, or with a space for the T) in loc, or RFC 3339 with its own
// offset.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// When parsing, Go accepts a fraction after the seconds the layout
		// does not show.
		local := strings.Replace(s, " ", "T", 1)
		var lerr error
		t, lerr = time.ParseInLocation("2006-01-02T15:04:05", local, loc)
		if lerr != nil {
			// ISO_DATE_TIME, which bk-repo reads with, makes the seconds optional.
			t, lerr = time.ParseInLocation("2006-01-02T15:04", local, loc)
		}
		if lerr != nil {
			return time.Time{}, fmt.Errorf("%q is neither yyyy-MM-ddTHH:mm[:ss[.SSS]] nor RFC 3339", s)
		}
	}
	// Shown back in loc, the year must stay a four-digit one.
	if y := t.In(loc).Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q is out of range", s)
	}
	return t, nil
}

// maxBody bounds a request body, as the native API does.
const maxBody = 1 << 20

// Request bodies. bk-repo's ReplicaTaskCreateRequest and
// ReplicaTaskUpdateRequest carry the names of api.TaskRequest (which adds
// Ferry's sourceClusterId, replicateDeletes and runHistory), so they decode
// straight into one, over a defaults value: api.NewTaskRequest for a create,
// the task itself for an update. Unknown fields are ignored, as bk-repo's
// Jackson does. The one difference is executeTime, a LocalDateTime in the
// agent's zone (ParseTime): taskOver reads it.
type (
	// taskOver is a TaskRequest as the decoder fills it. encoding/json lets
	// a field shadow the embedded fields of the same JSON name deeper down,
	// so Setting, ExecutionPlan and ExecuteTime here take the place of the
	// request's own and everything else lands in the request as it is.
	taskOver struct {
		*api.TaskRequest
		Setting *settingOver `json:"setting"`
	}
	settingOver struct {
		*fsm.TaskSetting
		ExecutionPlan *planOver `json:"executionPlan"`
	}
	planOver struct {
		*fsm.ExecutionPlan
		ExecuteTime localTime `json:"executeTime"`
	}
	copyBody struct {
		Name        string `json:"name"`
		Key         string `json:"key"`
		Description string `json:"description"`
	}
)

// localTime reads executeTime into at: null keeps it, "" clears it, and
// anything else is a time ParseTime reads in loc.
type localTime struct {
	at  *time.Time
	loc *time.Location
}

const executeTimeField = "setting.executionPlan.executeTime"

func (l localTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return unreadable("[%s] expected a string, got JSON %s", executeTimeField, b)
	}
	if strings.TrimSpace(s) == "" {
		*l.at = time.Time{}
		return nil
	}
	t, err := ParseTime(s, l.loc)
	if err != nil {
		return unreadable("[%s] %v", executeTimeField, err)
	}
	*l.at = t
	return nil
}

// decodeTask decodes a task body over req.
func decodeTask(body []byte, req *api.TaskRequest, loc *time.Location) *Error {
	plan := &req.Setting.ExecutionPlan
	return decodeOver(body, &taskOver{TaskRequest: req, Setting: &settingOver{
		TaskSetting: &req.Setting, ExecutionPlan: &planOver{ExecutionPlan: plan, ExecuteTime: localTime{at: &plan.ExecuteTime, loc: loc}},
	}})
}

// DecodeCreate reads a create body: absent fields take the document's
// defaults (api.NewTaskRequest); executeTime is read in loc.
func DecodeCreate(body []byte, loc *time.Location) (api.TaskRequest, *Error) {
	var top object
	if e := decodeOver(body, &top); e != nil {
		return api.TaskRequest{}, e
	}
	if e := checkTaskShape(top, createRequired); e != nil {
		return api.TaskRequest{}, e
	}
	req := api.NewTaskRequest()
	if e := decodeTask(body, &req, loc); e != nil {
		return api.TaskRequest{}, e
	}
	if e := checkTaskRules(top, req); e != nil {
		return api.TaskRequest{}, e
	}
	return req, nil
}

// decodeUpdate reads an update body over the task it names. The body gives
// the task's objects, clusters and names whole (bk-repo requires them); a
// setting it gives is given whole too, with the document's defaults for what
// it leaves out (and no executeTime unless it names one), and one it leaves
// out stays (the document's update sample has none). replicaType is not
// bk-repo's to update: the task keeps its own.
func decodeUpdate(body []byte, find func(key string) (fsm.Task, bool), loc *time.Location) (string, api.TaskRequest, *Error) {
	var head object
	if err := decodeOver(body, &head); err != nil {
		return "", api.TaskRequest{}, err
	}
	if e := checkTaskShape(head, updateRequired); e != nil {
		return "", api.TaskRequest{}, e
	}
	var key string
	if err := json.Unmarshal(head["key"], &key); err != nil {
		return "", api.TaskRequest{}, unreadable("[key] %s is not a string", head["key"])
	}
	t, ok := find(key)
	if !ok {
		return key, api.TaskRequest{}, taskNotFound(key)
	}
	req := api.TaskRequestOf(t)
	if head.given("setting") {
		req.Setting = api.NewTaskRequest().Setting
	}
	req.Objects, req.RemoteClusterIDs = nil, nil
	if e := decodeTask(body, &req, loc); e != nil {
		return key, api.TaskRequest{}, e
	}
	req.ReplicaType = t.ReplicaType
	if e := checkTaskRules(head, req); e != nil {
		return key, api.TaskRequest{}, e
	}
	return key, req, nil
}

// decodeCopy reads a copy body: key and name are required.
func decodeCopy(body []byte) (copyBody, *Error) {
	var head object
	if e := decodeOver(body, &head); e != nil {
		return copyBody{}, e
	}
	if e := head.require("", copyRequired...); e != nil {
		return copyBody{}, e
	}
	var c copyBody
	return c, decodeOver(body, &c)
}

// readBody reads a request body whole, within maxBody.
func readBody(r *http.Request) ([]byte, *Error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case err != nil:
		return nil, &Error{http.StatusBadRequest, CodeRequestContentInvalid, "Invalid request content: " + err.Error()}
	case len(b) > maxBody:
		return nil, &Error{http.StatusRequestEntityTooLarge, CodeRequestContentInvalid, fmt.Sprintf("Invalid request content: larger than %d bytes", maxBody)}
	}
	return b, nil
}

// decodeOver decodes one JSON object over v. A body that is not JSON is
// bk-repo's 250106 REQUEST_CONTENT_INVALID (its answer to Spring's
// HttpMessageNotReadableException), and so is a field of the wrong type,
// named.
func decodeOver(body []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var e *Error
		switch {
		case errors.As(err, &e):
			return e
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return unreadable("[%s] expected %s, got JSON %s", jsonPath(typeErr.Field), typeErr.Type, typeErr.Value)
		case errors.Is(err, io.EOF):
			return &Error{http.StatusBadRequest, CodeRequestContentInvalid, "Invalid request content: the body is empty; expected a JSON object"}
		default:
			return &Error{http.StatusBadRequest, CodeRequestContentInvalid, "Invalid request content: " + err.Error()}
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{http.StatusBadRequest, CodeRequestContentInvalid, "Invalid request content: data after the JSON object"}
	}
	return nil
}

// jsonPath is a decoding error's field path in JSON names only:
// encoding/json also names the embedded structs a field is promoted from
// ("setting.TaskSetting.ReplicaSetting.rateLimit"), by their Go names, and
// every JSON name of the bodies starts in lower case.
func jsonPath(field string) string {
	segs := strings.Split(field, ".")
	return strings.Join(slices.DeleteFunc(segs, func(s string) bool { return s != "" && unicode.IsUpper(rune(s[0])) }), ".")
}

// pageOf reads pageNumber and pageSize, within the store's page bounds.
// Pages are 1-based: a pageNumber of 0 or below is page 1, answered as 1
// (bk-repo's Pages.ofRequest). A value that is not a number, or a pageSize
// below 1, is a bad query parameter.
func pageOf(q url.Values) (store.PageRequest, *Error) {
	var page store.PageRequest
	if v := q.Get("pageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return page, badQuery("pageNumber", "%q is not a page number", v)
		}
		page.Number = max(n, 1)
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return page, badQuery("pageSize", "%q is not a positive number", v)
		}
		page.Size = n
	}
	return page.Normalize(), nil
}

// badQuery refuses a query parameter, as bk-repo's parameter validation
// does (PARAMETER_VALIDATION_FAILED).
func badQuery(field, format string, args ...any) *Error {
	return &Error{http.StatusBadRequest, CodeParameterValidationFailed, fmt.Sprintf("Parameter [%s] is invalid: ", field) + fmt.Sprintf(format, args...)}
}

// pageJSON is bk-repo's Page (common-api pojo/Page.kt), with the two
// deprecated getters it still serializes: count (totalRecords) and page
// (pageNumber).
type pageJSON[T any] struct {
	PageNumber   int   `json:"pageNumber"`
	PageSize     int   `json:"pageSize"`
	TotalRecords int64 `json:"totalRecords"`
	TotalPages   int64 `json:"totalPages"`
	Records      []T   `json:"records"`
	Count        int64 `json:"count"`
	Page         int   `json:"page"`
}

func paginate[T any](all []T, pr store.PageRequest) pageJSON[T] {
	return pageFrom(store.Paginate(all, pr))
}

// pageFrom shows a store page as bk-repo's.
func pageFrom[T any](p store.Page[T]) pageJSON[T] {
	if p.Records == nil {
		p.Records = []T{}
	}
	return pageJSON[T]{PageNumber: p.PageNumber, PageSize: p.PageSize, TotalRecords: p.TotalRecords, TotalPages: p.TotalPages, Records: p.Records, Count: p.TotalRecords, Page: p.PageNumber}
}
