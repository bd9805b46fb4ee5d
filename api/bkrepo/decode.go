package bkrepo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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
// ("2020-03-16T12:00:00", with any fraction of a second, or with a space for
// the T) in loc, or RFC 3339 with its own offset.
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
			return time.Time{}, fmt.Errorf("%q is neither yyyy-MM-ddTHH:mm:ss[.SSS] nor RFC 3339", s)
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

// Request bodies. They carry bk-repo's names (ReplicaTaskCreateRequest,
// ReplicaTaskUpdateRequest, ReplicaTaskCopyRequest and the setting classes)
// and Ferry's extras: sourceClusterId, replicateDeletes and runHistory.
// Unknown fields are ignored, as bk-repo's Jackson does.
type (
	taskBody struct {
		Key               string              `json:"key"`
		Name              string              `json:"name"`
		LocalProjectID    string              `json:"localProjectId"`
		SourceClusterID   string              `json:"sourceClusterId"`
		ReplicaObjectType string              `json:"replicaObjectType"`
		Objects           []fsm.ReplicaObject `json:"replicaTaskObjects"`
		ReplicaType       string              `json:"replicaType"`
		Setting           settingBody         `json:"setting"`
		RemoteClusterIDs  []string            `json:"remoteClusterIds"`
		Enabled           bool                `json:"enabled"`
		Description       string              `json:"description"`
		ReplicateDeletes  bool                `json:"replicateDeletes"`
		RunHistory        int                 `json:"runHistory"`
	}
	settingBody struct {
		RateLimit         int64    `json:"rateLimit"`
		IncludeMetadata   bool     `json:"includeMetadata"`
		ConflictStrategy  string   `json:"conflictStrategy"`
		ErrorStrategy     string   `json:"errorStrategy"`
		ExecutionStrategy string   `json:"executionStrategy"`
		ExecutionPlan     planBody `json:"executionPlan"`
	}
	planBody struct {
		ExecuteImmediately bool    `json:"executeImmediately"`
		ExecuteTime        *string `json:"executeTime"`
		CronExpression     string  `json:"cronExpression"`
	}
	copyBody struct {
		Name        string `json:"name"`
		Key         string `json:"key"`
		Description string `json:"description"`
	}
)

// defaultSetting is the document's setting defaults (api.NewTaskRequest).
func defaultSetting() settingBody {
	s := api.NewTaskRequest().Setting
	return settingBody{
		RateLimit: s.RateLimit, IncludeMetadata: s.IncludeMetadata, ConflictStrategy: s.ConflictStrategy,
		ErrorStrategy: s.ErrorStrategy, ExecutionStrategy: s.ExecutionStrategy,
		ExecutionPlan: planBody{ExecuteImmediately: s.ExecutionPlan.ExecuteImmediately},
	}
}

// bodyOf is a task as a request body, for an update to start from.
func bodyOf(t fsm.Task) taskBody {
	return taskBody{
		Key: t.Key, Name: t.Name, LocalProjectID: t.ProjectID, SourceClusterID: t.SourceCluster,
		ReplicaObjectType: t.ReplicaObjectType, Objects: t.Objects, ReplicaType: t.ReplicaType,
		Setting: settingBody{
			RateLimit: t.Setting.RateLimit, IncludeMetadata: t.Setting.IncludeMetadata,
			ConflictStrategy: t.Setting.ConflictStrategy, ErrorStrategy: t.Setting.ErrorStrategy,
			ExecutionStrategy: t.Setting.ExecutionStrategy,
			ExecutionPlan: planBody{
				ExecuteImmediately: t.Setting.ExecutionPlan.ExecuteImmediately,
				CronExpression:     t.Setting.ExecutionPlan.CronExpression,
			},
		},
		RemoteClusterIDs: t.RemoteClusterIDs, Enabled: t.Enabled, Description: t.Description,
		ReplicateDeletes: t.ReplicateDeletes, RunHistory: t.RunHistory,
	}
}

// request turns the body into the service's request. keep is the execute
// time to use when the body names none (an update keeps the task's).
func (b taskBody) request(loc *time.Location, keep time.Time) (api.TaskRequest, *Error) {
	req := api.TaskRequest{
		Name: b.Name, LocalProjectID: b.LocalProjectID, SourceClusterID: b.SourceClusterID,
		ReplicaObjectType: b.ReplicaObjectType, Objects: b.Objects, ReplicaType: b.ReplicaType,
		Setting: fsm.TaskSetting{
			ReplicaSetting: fsm.ReplicaSetting{
				RateLimit: b.Setting.RateLimit, IncludeMetadata: b.Setting.IncludeMetadata,
				ConflictStrategy: b.Setting.ConflictStrategy, ErrorStrategy: b.Setting.ErrorStrategy,
			},
			ExecutionStrategy: b.Setting.ExecutionStrategy,
			ExecutionPlan: fsm.ExecutionPlan{
				ExecuteImmediately: b.Setting.ExecutionPlan.ExecuteImmediately,
				CronExpression:     b.Setting.ExecutionPlan.CronExpression,
				ExecuteTime:        keep,
			},
		},
		RemoteClusterIDs: b.RemoteClusterIDs, Enabled: b.Enabled, Description: b.Description,
		ReplicateDeletes: b.ReplicateDeletes, RunHistory: b.RunHistory,
	}
	if p := b.Setting.ExecutionPlan.ExecuteTime; p != nil {
		req.Setting.ExecutionPlan.ExecuteTime = time.Time{}
		if strings.TrimSpace(*p) != "" {
			t, err := ParseTime(*p, loc)
			if err != nil {
				return api.TaskRequest{}, invalid("setting.executionPlan.executeTime", "%v", err)
			}
			req.Setting.ExecutionPlan.ExecuteTime = t
		}
	}
	return req, nil
}

// DecodeCreate reads a create body: absent fields take the document's
// defaults (api.NewTaskRequest); executeTime is read in loc.
func DecodeCreate(body []byte, loc *time.Location) (api.TaskRequest, *Error) {
	d := api.NewTaskRequest()
	b := taskBody{ReplicaType: d.ReplicaType, Enabled: d.Enabled, Setting: defaultSetting()}
	if err := decodeOver(body, &b); err != nil {
		return api.TaskRequest{}, err
	}
	return b.request(loc, time.Time{})
}

// decodeUpdate reads an update body over the task it names. bk-repo's update
// replaces what the body gives and keeps the rest (the document's update
// body has no replicaType, setting or enabled). A field given is given
// whole: a setting with the document's defaults for what it leaves out (and
// no executeTime unless it names one), lists as they are.
func decodeUpdate(body []byte, find func(key string) (fsm.Task, bool), loc *time.Location) (string, api.TaskRequest, *Error) {
	var head map[string]json.RawMessage
	if err := decodeOver(body, &head); err != nil {
		return "", api.TaskRequest{}, err
	}
	var key string
	if raw, ok := head["key"]; ok {
		if err := decodeOver(raw, &key); err != nil {
			return "", api.TaskRequest{}, invalid("key", "it is not a string")
		}
	}
	if key == "" {
		return "", api.TaskRequest{}, invalid("key", "it is required")
	}
	t, ok := find(key)
	if !ok {
		return key, api.TaskRequest{}, taskNotFound(key)
	}
	b, keep := bodyOf(t), t.Setting.ExecutionPlan.ExecuteTime
	given := func(k string) bool { raw, ok := head[k]; return ok && string(raw) != "null" }
	if given("setting") {
		b.Setting, keep = defaultSetting(), time.Time{}
	}
	if given("replicaTaskObjects") {
		b.Objects = nil
	}
	if given("remoteClusterIds") {
		b.RemoteClusterIDs = nil
	}
	if err := decodeOver(body, &b); err != nil {
		return key, api.TaskRequest{}, err
	}
	req, err := b.request(loc, keep)
	return key, req, err
}

// readBody reads a request body whole, within maxBody.
func readBody(r *http.Request) ([]byte, *Error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case err != nil:
		return nil, &Error{http.StatusBadRequest, CodeRequestContentInvalid, "Invalid request content: " + err.Error()}
	case len(b) > maxBody:
		return nil, &Error{http.StatusBadRequest, CodeRequestContentInvalid, fmt.Sprintf("Invalid request content: larger than %d bytes", maxBody)}
	}
	return b, nil
}

// decodeOver decodes one JSON object over v. A body that is not JSON is
// bk-repo's 250106 REQUEST_CONTENT_INVALID (its answer to Spring's
// HttpMessageNotReadableException); a field of the wrong type is 250105
// naming the field.
func decodeOver(body []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return invalid(typeErr.Field, "expected %s, got JSON %s", typeErr.Type, typeErr.Value)
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

// pageOf reads pageNumber and pageSize, within the store's page bounds.
// bk-repo's first page is 1 (its DEFAULT_PAGE_NUMBER) but its document shows
// pageNumber=0: 0 and 1 are both the first page, and the answer echoes the
// number asked.
func pageOf(q url.Values) (asked int, page store.PageRequest, e *Error) {
	asked = 1
	if v := q.Get("pageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, page, invalid("pageNumber", "%q is not a page number", v)
		}
		asked, page.Number = n, n
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, page, invalid("pageSize", "%q is not a positive number", v)
		}
		page.Size = n
	}
	return asked, page.Normalize(), nil
}

// pageJSON is bk-repo's Page (common-api pojo/Page.kt).
type pageJSON[T any] struct {
	PageNumber   int   `json:"pageNumber"`
	PageSize     int   `json:"pageSize"`
	TotalRecords int64 `json:"totalRecords"`
	TotalPages   int64 `json:"totalPages"`
	Records      []T   `json:"records"`
}

func paginate[T any](all []T, asked int, pr store.PageRequest) pageJSON[T] {
	p := store.Paginate(all, pr)
	return pageJSON[T]{PageNumber: asked, PageSize: p.PageSize, TotalRecords: p.TotalRecords, TotalPages: p.TotalPages, Records: p.Records}
}
