package bkrepo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ferrysync/ferry/fsm"
)

// seedCreate is the bk-repo document's create sample.
const seedCreate = `{
  "name": "计划",
  "localProjectId": "bkrepo",
  "replicaObjectType": "REPOSITORY",
  "replicaTaskObjects": [
    {
      "localRepoName": "maven-local",
      "remoteProjectId": "bkrepo",
      "remoteRepoName": "maven-local",
      "repoType": "MAVEN",
      "packageConstraints": [
        {
          "packageKey": "gav://com.alibaba:fastjson",
          "versions": ["1.2.47","1.2.48"]
        }
      ],
      "pathConstraints": []
    }
  ],
  "replicaType": "SCHEDULED",
  "setting": {
    "rateLimit": 0,
    "includeMetadata": true,
    "conflictStrategy": "SKIP",
    "errorStrategy": "CONTINUE",
    "executionStrategy": "IMMEDIATELY",
    "executionPlan": {
      "executeImmediately": true
    }
  },
  "remoteClusterIds": ["651095dfe0524ce9b3ab53d13532361c","329fbcda45944fb9ae5c2573acd7bd2a"],
  "enabled": true,
  "description": "test replica task"
}`

var shanghai = time.FixedZone("CST", 8*3600)

func TestDecodeCreateSeed(t *testing.T) {
	req, e := DecodeCreate([]byte(seedCreate), shanghai)
	if e != nil {
		t.Fatal(e)
	}
	o := req.Objects
	if req.Name != "计划" || req.LocalProjectID != "bkrepo" || req.ReplicaObjectType != "REPOSITORY" || req.ReplicaType != "SCHEDULED" ||
		!req.Enabled || req.Description != "test replica task" || len(req.RemoteClusterIDs) != 2 ||
		len(o) != 1 || o[0].RepoType != "MAVEN" || len(o[0].PackageConstraints) != 1 || len(o[0].PackageConstraints[0].Versions) != 2 ||
		req.Setting.ConflictStrategy != "SKIP" || req.Setting.ErrorStrategy != "CONTINUE" || !req.Setting.IncludeMetadata ||
		req.Setting.ExecutionStrategy != "IMMEDIATELY" || !req.Setting.ExecutionPlan.ExecuteImmediately {
		t.Fatalf("%+v", req)
	}
}

// uiCreate is the create body bk-repo's web UI builds
// (views/planManage/createPlan/index.vue) for a cron task of one GENERIC
// repository, changed by change.
func uiCreate(change func(b, setting, plan, object map[string]any)) []byte {
	object := map[string]any{"localRepoName": "generic-local", "remoteProjectId": "bkrepo", "remoteRepoName": "generic-local", "repoType": "GENERIC"}
	plan := map[string]any{"executeImmediately": false, "cronExpression": "* * * * * ? *"}
	setting := map[string]any{"rateLimit": 0, "includeMetadata": true, "conflictStrategy": "SKIP", "errorStrategy": "CONTINUE",
		"executionStrategy": "CRON_EXPRESSION", "executionPlan": plan}
	b := map[string]any{"name": "plan", "localProjectId": "bkrepo", "replicaObjectType": "REPOSITORY", "replicaType": "SCHEDULED",
		"replicaTaskObjects": []any{object}, "setting": setting, "remoteClusterIds": []string{"beijing"}, "enabled": true, "description": ""}
	if change != nil {
		change(b, setting, plan, object)
	}
	raw, err := json.Marshal(b)
	if err != nil {
		panic(err)
	}
	return raw
}

func TestDecodeCreateDefaultsAndTimes(t *testing.T) {
	req, e := DecodeCreate(uiCreate(func(b, setting, plan, _ map[string]any) {
		b["bogus"] = 1
		delete(b, "replicaType")
		delete(b, "enabled")
		setting["executionStrategy"] = "SPECIFIED_TIME"
		delete(setting, "conflictStrategy")
		delete(setting, "errorStrategy")
		delete(setting, "includeMetadata")
		setting["executionPlan"] = map[string]any{"executeTime": "2030-03-16T12:00:00.000"}
	}), shanghai)
	if e != nil {
		t.Fatal(e)
	}
	if req.ReplicaType != fsm.ReplicaScheduled || !req.Enabled || !req.Setting.IncludeMetadata || req.Setting.ConflictStrategy != fsm.ConflictSkip ||
		req.Setting.ErrorStrategy != fsm.ErrorContinue || !req.Setting.ExecutionPlan.ExecuteImmediately { // bk-repo's ExecutionPlan defaults it to true
		t.Fatalf("defaults: %+v", req)
	}
	if want := time.Date(2030, 3, 16, 12, 0, 0, 0, shanghai); !req.Setting.ExecutionPlan.ExecuteTime.Equal(want) {
		t.Fatalf("executeTime %s, want %s", req.Setting.ExecutionPlan.ExecuteTime, want)
	}
	// The UI's REAL_TIME body has neither executionStrategy nor executionPlan.
	req, e = DecodeCreate(uiCreate(func(b, setting, _, _ map[string]any) {
		b["replicaType"] = "REAL_TIME"
		delete(setting, "executionStrategy")
		delete(setting, "executionPlan")
	}), shanghai)
	if e != nil || req.ReplicaType != fsm.ReplicaRealTime {
		t.Fatalf("REAL_TIME: %+v %v", req, e)
	}
	// Without seconds, as ISO_DATE_TIME reads it.
	req, e = DecodeCreate(uiCreate(func(_, setting, _, _ map[string]any) {
		setting["executionStrategy"] = "SPECIFIED_TIME"
		setting["executionPlan"] = map[string]any{"executeTime": "2099-01-01T12:00"}
	}), shanghai)
	if want := time.Date(2099, 1, 1, 12, 0, 0, 0, shanghai); e != nil || !req.Setting.ExecutionPlan.ExecuteTime.Equal(want) {
		t.Fatalf("executeTime without seconds: %v %v", req.Setting.ExecutionPlan.ExecuteTime, e)
	}
}

// What bk-repo answers to a create body it cannot take (contract section
// 10): Jackson's refusals 250106, the service's Preconditions 250103 and
// 250104, and its checks 250105. Every case is the UI's body with one
// change.
func TestDecodeCreateRefusals(t *testing.T) {
	type m = map[string]any
	for _, c := range []struct {
		what   string
		change func(b, setting, plan, object m)
		code   int
		field  string
	}{
		{"missing name", func(b, _, _, _ m) { delete(b, "name") }, CodeRequestContentInvalid, "name"},
		{"null name", func(b, _, _, _ m) { b["name"] = nil }, CodeRequestContentInvalid, "name"},
		{"missing localProjectId", func(b, _, _, _ m) { delete(b, "localProjectId") }, CodeRequestContentInvalid, "localProjectId"},
		{"missing replicaObjectType", func(b, _, _, _ m) { delete(b, "replicaObjectType") }, CodeRequestContentInvalid, "replicaObjectType"},
		{"missing replicaTaskObjects", func(b, _, _, _ m) { delete(b, "replicaTaskObjects") }, CodeRequestContentInvalid, "replicaTaskObjects"},
		{"missing remoteClusterIds", func(b, _, _, _ m) { delete(b, "remoteClusterIds") }, CodeRequestContentInvalid, "remoteClusterIds"},
		{"missing setting", func(b, _, _, _ m) { delete(b, "setting") }, CodeRequestContentInvalid, "setting"},
		{"missing repoType", func(_, _, _, o m) { delete(o, "repoType") }, CodeRequestContentInvalid, "replicaTaskObjects[0].repoType"},
		{"missing localRepoName", func(_, _, _, o m) { delete(o, "localRepoName") }, CodeRequestContentInvalid, "replicaTaskObjects[0].localRepoName"},
		{"unknown repoType", func(_, _, _, o m) { o["repoType"] = "FOO" }, CodeRequestContentInvalid, "replicaTaskObjects[0].repoType"},
		{"unknown replicaObjectType", func(b, _, _, _ m) { b["replicaObjectType"] = "FOO" }, CodeRequestContentInvalid, "replicaObjectType"},
		{"lower-case replicaObjectType", func(b, _, _, _ m) { b["replicaObjectType"] = "repository" }, CodeRequestContentInvalid, "replicaObjectType"},
		{"unknown replicaType", func(b, _, _, _ m) { b["replicaType"] = "FOO" }, CodeRequestContentInvalid, "replicaType"},
		{"unknown conflictStrategy", func(_, s, _, _ m) { s["conflictStrategy"] = "FOO" }, CodeRequestContentInvalid, "setting.conflictStrategy"},
		{"unknown errorStrategy", func(_, s, _, _ m) { s["errorStrategy"] = "FOO" }, CodeRequestContentInvalid, "setting.errorStrategy"},
		{"unknown executionStrategy", func(_, s, _, _ m) { s["executionStrategy"] = "FOO" }, CodeRequestContentInvalid, "setting.executionStrategy"},
		{"enabled a string", func(b, _, _, _ m) { b["enabled"] = "yes" }, CodeRequestContentInvalid, "enabled"},
		{"name a number", func(b, _, _, _ m) { b["name"] = 123 }, CodeRequestContentInvalid, "name"},
		{"rateLimit a string", func(_, s, _, _ m) { s["rateLimit"] = "fast" }, CodeRequestContentInvalid, "setting.rateLimit"},
		{"remoteClusterIds a string", func(b, _, _, _ m) { b["remoteClusterIds"] = "beijing" }, CodeRequestContentInvalid, "remoteClusterIds"},
		{"replicaTaskObjects an object", func(b, _, _, _ m) { b["replicaTaskObjects"] = m{} }, CodeRequestContentInvalid, "replicaTaskObjects"},
		{"an object not an object", func(b, _, _, _ m) { b["replicaTaskObjects"] = []any{1} }, CodeRequestContentInvalid, "replicaTaskObjects[0]"},
		{"unreadable executeTime", func(_, s, p, _ m) { s["executionStrategy"] = "SPECIFIED_TIME"; p["executeTime"] = "tomorrow" }, CodeRequestContentInvalid, "setting.executionPlan.executeTime"},
		{"executeTime a number", func(_, s, p, _ m) { s["executionStrategy"] = "SPECIFIED_TIME"; p["executeTime"] = 5 }, CodeRequestContentInvalid, "setting.executionPlan.executeTime"},
		{"two objects for PATH", func(b, _, _, o m) {
			b["replicaObjectType"] = "PATH"
			o["pathConstraints"] = []string{"/a"}
			b["replicaTaskObjects"] = []any{o, o}
		}, CodeRequestContentInvalid, ""},
		{"no objects", func(b, _, _, _ m) { b["replicaTaskObjects"] = []any{} }, CodeParameterEmpty, "replicaTaskObjects"},
		{"no clusters", func(b, _, _, _ m) { b["remoteClusterIds"] = []string{} }, CodeParameterEmpty, "remoteClusterIds"},
		{"PACKAGE without constraints", func(b, _, _, _ m) { b["replicaObjectType"] = "PACKAGE" }, CodeParameterMissing, "replicaTaskObjects[0].packageConstraints"},
		{"PACKAGE with null constraints", func(b, _, _, o m) { b["replicaObjectType"] = "PACKAGE"; o["packageConstraints"] = nil }, CodeParameterMissing, "replicaTaskObjects[0].packageConstraints"},
		{"PACKAGE with no constraints", func(b, _, _, o m) { b["replicaObjectType"] = "PACKAGE"; o["packageConstraints"] = []any{} }, CodeParameterEmpty, "replicaTaskObjects[0].packageConstraints"},
		{"PACKAGE with an empty version", func(b, _, _, o m) {
			b["replicaObjectType"] = "PACKAGE"
			o["packageConstraints"] = []any{m{"packageKey": "npm://a", "versions": []string{""}}}
		}, CodeParameterEmpty, "replicaTaskObjects[0].packageConstraints[0].versions"},
		{"SPECIFIED_TIME without a time", func(_, s, _, _ m) { s["executionStrategy"] = "SPECIFIED_TIME" }, CodeParameterMissing, "executeTime"},
		{"IMMEDIATELY that is not immediate", func(_, s, p, _ m) { s["executionStrategy"] = "IMMEDIATELY"; p["executeImmediately"] = false }, CodeParameterInvalid, "executeImmediately"},
		{"records kept 0 days", func(b, _, _, _ m) { b["recordReserveDays"] = 0 }, CodeParameterInvalid, "recordReserveDays"},
		{"records kept 61 days", func(b, _, _, _ m) { b["recordReserveDays"] = 61 }, CodeParameterInvalid, "recordReserveDays"},
	} {
		_, e := DecodeCreate(uiCreate(c.change), shanghai)
		if e == nil || e.Code != c.code || e.Status != http.StatusBadRequest || c.field != "" && !strings.Contains(e.Message, "["+c.field+"]") {
			t.Errorf("%s: %+v, want %d naming [%s]", c.what, e, c.code, c.field)
		}
	}
	for body, code := range map[string]int{``: CodeRequestContentInvalid, `{`: CodeRequestContentInvalid, `[1]`: CodeRequestContentInvalid, `{"name":"a"} {}`: CodeRequestContentInvalid} {
		if _, e := DecodeCreate([]byte(body), shanghai); e == nil || e.Code != code {
			t.Errorf("%q: %+v, want %d", body, e, code)
		}
	}
	// What bk-repo takes: the valid replica types it has and Ferry's service
	// refuses, records kept 1 to 60 days, unknown properties.
	for _, change := range []func(b, setting, plan, object m){
		func(b, _, _, _ m) { b["replicaType"] = "RUN_ONCE" },
		func(b, _, _, _ m) { b["recordReserveDays"] = 60; b["record"] = false; b["foo"] = "bar" },
		func(_, _, _, o m) { o["repoType"] = "DOCKER"; delete(o, "remoteProjectId") },
	} {
		if _, e := DecodeCreate(uiCreate(change), shanghai); e != nil {
			t.Errorf("%s: %v", uiCreate(change), e)
		}
	}
}

func TestParseAndFormatTime(t *testing.T) {
	want := time.Date(2020, 3, 16, 12, 0, 0, 0, shanghai)
	for _, s := range []string{"2020-03-16T12:00:00.000", "2020-03-16T12:00:00", "2020-03-16 12:00:00", " 2020-03-16T12:00:00.0 ", "2020-03-16T04:00:00Z", "2020-03-16T12:00:00+08:00"} {
		got, err := ParseTime(s, shanghai)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %s %v", s, got, err)
		}
	}
	for _, s := range []string{"", "2020-03-16", "12:00", "2020-13-01T00:00:00", "10000-01-01T00:00:00"} {
		if _, err := ParseTime(s, shanghai); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
	if got := *FormatTime(time.Date(2020, 3, 16, 4, 0, 0, 371_999_999, time.UTC), shanghai); got != "2020-03-16T12:00:00.371" {
		t.Errorf("format: %s", got)
	}
	if FormatTime(time.Time{}, shanghai) != nil {
		t.Error("the zero time is not null")
	}
}

// A refusal's field and reason become bk-repo's PARAMETER_INVALID message;
// the native wording of the same error is fsm's, not bk-repo's.
func TestParameterMessageFromFieldAndReason(t *testing.T) {
	for _, c := range []struct {
		err         error
		want, plain string
	}{
		{fsm.FieldError("name", "it is required"), "Parameter [name] is invalid: it is required", "name is required"},
		{fsm.FieldError("remoteClusterIds", `"mars" is not a registered cluster`),
			`Parameter [remoteClusterIds] is invalid: "mars" is not a registered cluster`, `remoteClusterIds: "mars" is not a registered cluster`},
		{fsm.FieldError("replicaTaskObjects[0].packageConstraints", "it is required when replicaObjectType is PACKAGE"),
			"Parameter [replicaTaskObjects[0].packageConstraints] is invalid: it is required when replicaObjectType is PACKAGE",
			"replicaTaskObjects[0].packageConstraints is required when replicaObjectType is PACKAGE"},
		{fmt.Errorf("wrapped: %w", fsm.FieldError("sortType", `"FOO" is not CREATED_TIME`)), `Parameter [sortType] is invalid: "FOO" is not CREATED_TIME`, `wrapped: sortType: "FOO" is not CREATED_TIME`},
		{&fsm.Error{Kind: fsm.KindInvalid, Reason: "task.create: key and id are required"}, "Parameter [request] is invalid: task.create: key and id are required", "task.create: key and id are required"},
	} {
		e := serviceError(c.err, "", "")
		if e.Status != http.StatusBadRequest || e.Code != CodeParameterInvalid || e.Message != c.want {
			t.Errorf("%v: %+v, want 400 %d %q", c.err, e, CodeParameterInvalid, c.want)
		}
		if c.err.Error() != c.plain {
			t.Errorf("native wording %q, want %q", c.err.Error(), c.plain)
		}
	}
	if e := serviceError(errors.New("odd"), "", ""); e.Code != CodeSystemError {
		t.Errorf("an error that is no refusal: %+v", e)
	}
}

// seedUpdate is the document's update sample, over task k.
const seedUpdate = `{
  "key": "k",
  "name": "更新后的名称",
  "localProjectId": "bkrepo",
  "replicaObjectType": "REPOSITORY",
  "replicaTaskObjects": [{"localRepoName": "maven-local", "remoteProjectId": "bkrepo", "remoteRepoName": "maven-local", "repoType": "MAVEN",
    "packageConstraints": [{"packageKey": "gav://com.alibaba:fastjson", "versions": ["1.2.47","1.2.48"]}], "pathConstraints": []}],
  "remoteClusterIds": ["beijing","guangzhou"],
  "description": "test replica task"
}`

func TestDecodeUpdateKeepsWhatTheBodyLeavesOut(t *testing.T) {
	old := fsm.Task{
		Key: "k", Name: "old", ProjectID: "bkrepo", SourceCluster: "shanghai", ReplicaObjectType: "PACKAGE", ReplicaType: "REAL_TIME",
		Objects: []fsm.ReplicaObject{{LocalRepoName: "a", RemoteProjectID: "bkrepo", RemoteRepoName: "a", RepoType: "MAVEN",
			PackageConstraints: []fsm.PackageConstraint{{PackageKey: "gav://g:a"}}}},
		Setting: fsm.TaskSetting{ReplicaSetting: fsm.ReplicaSetting{RateLimit: 7, ConflictStrategy: "OVERWRITE", ErrorStrategy: "FAST_FAIL"},
			ExecutionStrategy: "CRON_EXPRESSION", ExecutionPlan: fsm.ExecutionPlan{CronExpression: "0 0 * * * ?"}},
		RemoteClusterIDs: []string{"beijing"}, Enabled: false, Description: "d", RunHistory: 9,
	}
	find := func(key string) (fsm.Task, bool) { return old, key == "k" }
	// The document's sample: no setting, no replicaType, no enabled.
	key, req, e := decodeUpdate([]byte(seedUpdate), find, shanghai)
	if e != nil || key != "k" {
		t.Fatal(key, e)
	}
	if req.Name != "更新后的名称" || req.Setting != old.Setting || req.Enabled || req.ReplicaType != "REAL_TIME" || req.ReplicaObjectType != "REPOSITORY" ||
		req.Description != "test replica task" || req.RunHistory != 9 || req.SourceClusterID != "shanghai" ||
		len(req.Objects) != 1 || req.Objects[0].LocalRepoName != "maven-local" || fmt.Sprint(req.RemoteClusterIDs) != "[beijing guangzhou]" {
		t.Fatalf("%+v", req)
	}
	// A setting given is a whole one; replicaType is never bk-repo's to change.
	body := strings.Replace(seedUpdate, `"description"`, `"replicaType": "SCHEDULED", "setting": {"rateLimit": 1}, "description"`, 1)
	_, req, e = decodeUpdate([]byte(body), find, shanghai)
	if e != nil || req.Setting.RateLimit != 1 || req.Setting.ConflictStrategy != "SKIP" || req.Setting.ExecutionStrategy != "IMMEDIATELY" ||
		req.Setting.ExecutionPlan.CronExpression != "" || req.ReplicaType != "REAL_TIME" {
		t.Fatalf("%+v %v", req, e)
	}
	for _, c := range []struct {
		body string
		code int
	}{
		{strings.Replace(seedUpdate, `"key": "k",`, ``, 1), CodeRequestContentInvalid},
		{strings.Replace(seedUpdate, `"key": "k",`, `"key": 5,`, 1), CodeRequestContentInvalid},
		{strings.Replace(seedUpdate, `"name": "更新后的名称",`, ``, 1), CodeRequestContentInvalid},
		{strings.Replace(seedUpdate, `"MAVEN"`, `"FOO"`, 1), CodeRequestContentInvalid},
		{strings.Replace(seedUpdate, `["beijing","guangzhou"]`, `[]`, 1), CodeParameterEmpty},
		{strings.Replace(seedUpdate, `"key": "k"`, `"key": "nope"`, 1), CodeReplicaTaskNotFound},
	} {
		if _, _, e := decodeUpdate([]byte(c.body), find, shanghai); e == nil || e.Code != c.code {
			t.Errorf("%s: %v, want %d", c.body, e, c.code)
		}
	}
}

func TestDecodeCopy(t *testing.T) {
	c, e := decodeCopy([]byte(`{"name":"task_copy","key":"k","description":"copy replica task"}`))
	if e != nil || c != (copyBody{Name: "task_copy", Key: "k", Description: "copy replica task"}) {
		t.Fatalf("%+v %v", c, e)
	}
	for _, body := range []string{`{"key":"k"}`, `{"name":"n"}`, `{"key":"k","name":null}`, `{"key":1,"name":"n"}`, `[]`} {
		if _, e := decodeCopy([]byte(body)); e == nil || e.Code != CodeRequestContentInvalid {
			t.Errorf("%s: %v", body, e)
		}
	}
}

// FuzzDecodeCreate: no body makes the decoder panic; what it accepts is a
// request whose execute time shows back as it was read (to the millisecond),
// and what it refuses is a 400 with a bk-repo code.
func FuzzDecodeCreate(f *testing.F) {
	f.Add([]byte(seedCreate))
	f.Add(uiCreate(nil))
	f.Add(uiCreate(func(_, s, _, _ map[string]any) {
		s["executionStrategy"] = "SPECIFIED_TIME"
		s["executionPlan"] = map[string]any{"executeTime": "2030-03-16T12:00:00.000"}
	}))
	f.Add([]byte(`{"setting":{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":"2030-03-16T12:00:00.000"}}}`))
	f.Add([]byte(`{"setting":{"executionPlan":{"executeTime":"2030-03-16T12:00:00+02:00"}}}`))
	f.Add([]byte(`{"replicaTaskObjects":[{"pathConstraints":["/a",{"path":"/b"}]}],"remoteClusterIds":null}`))
	f.Add([]byte(`{"name":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := DecodeCreate(body, shanghai)
		if e != nil {
			if e.Status != http.StatusBadRequest || !slices.Contains([]int{CodeParameterMissing, CodeParameterEmpty, CodeParameterInvalid, CodeRequestContentInvalid}, e.Code) ||
				!utf8.ValidString(e.Message) && utf8.Valid(body) {
				t.Fatalf("refusal %+v", e)
			}
			return
		}
		if at := req.Setting.ExecutionPlan.ExecuteTime; !at.IsZero() {
			s := FormatTime(at, shanghai)
			back, err := ParseTime(*s, shanghai)
			if err != nil || !back.Equal(at.Truncate(time.Millisecond)) {
				t.Fatalf("%s shows as %s, read back as %s (%v)", at, *s, back, err)
			}
		}
		if _, err := json.Marshal(req); err != nil {
			t.Fatalf("accepted request does not encode: %v", err)
		}
	})
}

// FuzzParseTime: a time read shows back as itself to the millisecond.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2020-03-16T12:00:00.000", "2020-03-16 12:00:00", "2020-03-16T12:00:00.123456789Z", "0001-01-01T00:00:00-08:00", "9999-12-31T23:59:59.999-01:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := ParseTime(s, shanghai)
		if err != nil {
			return
		}
		shown := FormatTime(at, shanghai)
		if at.IsZero() {
			return // the zero instant shows as null
		}
		back, err := ParseTime(*shown, shanghai)
		if err != nil || !back.Equal(at.Truncate(time.Millisecond)) {
			t.Fatalf("%q read as %s shows as %s, read back as %s (%v)", s, at, *shown, back, err)
		}
	})
}

// executeTime is bk-repo's LocalDateTime: an update that leaves the
// setting out keeps the task's; a setting that gives the time gives it in
// the request's zone; a SPECIFIED_TIME setting without one is 250103; a
// wrong type names the field.
func TestDecodeUpdateExecuteTime(t *testing.T) {
	at := time.Date(2030, 3, 16, 12, 0, 0, 0, shanghai)
	old := fsm.Task{Key: "k", Name: "n", ReplicaType: "SCHEDULED",
		Setting: fsm.TaskSetting{ExecutionStrategy: "SPECIFIED_TIME", ExecutionPlan: fsm.ExecutionPlan{ExecuteTime: at}}}
	find := func(string) (fsm.Task, bool) { return old, true }
	with := func(setting string) string {
		return strings.Replace(seedUpdate, `"description"`, `"setting": `+setting+`, "description"`, 1)
	}
	for body, want := range map[string]time.Time{
		seedUpdate: at,
		with(`{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":"2031-01-02 03:04:05"}}`): time.Date(2031, 1, 2, 3, 4, 5, 0, shanghai),
		with(`{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":"2031-01-02T03:04"}}`):    time.Date(2031, 1, 2, 3, 4, 0, 0, shanghai),
	} {
		_, req, e := decodeUpdate([]byte(body), find, shanghai)
		if e != nil || !req.Setting.ExecutionPlan.ExecuteTime.Equal(want) {
			t.Errorf("%s: %v %v, want %v", body, req.Setting.ExecutionPlan.ExecuteTime, e, want)
		}
	}
	for body, code := range map[string]int{
		with(`{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":null}}`): CodeParameterMissing,
		with(`{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":" "}}`):  CodeParameterMissing,
		with(`{"executionPlan":{"executeTime":5}}`):                                         CodeRequestContentInvalid,
	} {
		if _, _, e := decodeUpdate([]byte(body), find, shanghai); e == nil || e.Code != code {
			t.Errorf("%s: %+v, want %d", body, e, code)
		}
	}
	if old.Setting.ExecutionPlan.ExecuteTime != at {
		t.Error("decoding changed the stored task")
	}
}

// A refusal that names its rule gets bk-repo's code for it, forwarded from
// the leader (decoded from the wire) too.
func TestRuleCodes(t *testing.T) {
	for rule, code := range map[fsm.Rule]int{
		fsm.RuleTaskDisabled: CodeTaskEnabledFalse, fsm.RuleTaskBusy: CodeTaskStatusInvalid, fsm.RuleTaskNotStarted: CodeTaskNeverRun,
		fsm.RuleTaskHasRun: CodeTaskDisableUpdate, fsm.RuleNameTaken: CodeResourceExisted, fsm.RuleUnknownCluster: CodeClusterNodeNotFound,
	} {
		raw, err := json.Marshal(&fsm.Error{Kind: fsm.KindConflict, Rule: rule, Reason: "why"})
		if err != nil {
			t.Fatal(err)
		}
		var forwarded fsm.Error
		if err := json.Unmarshal(raw, &forwarded); err != nil {
			t.Fatal(err)
		}
		if e := serviceError(fmt.Errorf("forwarded: %w", &forwarded), "k", "n"); e.Status != http.StatusBadRequest || e.Code != code || !strings.HasSuffix(e.Message, ": why") {
			t.Errorf("%s: %+v, want 400 %d", rule, e, code)
		}
	}
	if e := serviceError(&fsm.Error{Kind: fsm.KindConflict, Reason: "a run is going"}, "k", ""); e.Code != CodeTaskStatusInvalid {
		t.Errorf("a conflict without a rule: %+v", e)
	}
}

// FuzzDecodeUpdate: an update or copy body either reads or is refused with
// a 400 bk-repo code; the task it reads over is never changed, and a read
// update keeps the task's replicaType.
func FuzzDecodeUpdate(f *testing.F) {
	f.Add([]byte(seedUpdate))
	f.Add([]byte(`{"key":"k","name":"n","setting":{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":"2099-01-01T12:00"}}}`))
	f.Add([]byte(`{"key":"k","name":"task_copy","description":"copy replica task"}`))
	old := fsm.Task{Key: "k", Name: "old", ReplicaType: "REAL_TIME", RemoteClusterIDs: []string{"beijing"},
		Objects: []fsm.ReplicaObject{{LocalRepoName: "a", RepoType: "MAVEN"}}}
	find := func(key string) (fsm.Task, bool) { return old, key == "k" }
	codes := []int{CodeParameterMissing, CodeParameterEmpty, CodeParameterInvalid, CodeRequestContentInvalid, CodeReplicaTaskNotFound}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, req, e := decodeUpdate(body, find, shanghai)
		switch {
		case e != nil && (e.Status != http.StatusBadRequest || !slices.Contains(codes, e.Code)):
			t.Fatalf("update refusal %+v", e)
		case e == nil && req.ReplicaType != "REAL_TIME":
			t.Fatalf("the update changed replicaType to %q", req.ReplicaType)
		}
		if old.Name != "old" || old.RemoteClusterIDs[0] != "beijing" || old.Objects[0].LocalRepoName != "a" {
			t.Fatalf("decoding changed the task: %+v", old)
		}
		if _, e := decodeCopy(body); e != nil && (e.Status != http.StatusBadRequest || !slices.Contains(codes, e.Code)) {
			t.Fatalf("copy refusal %+v", e)
		}
	})
}
