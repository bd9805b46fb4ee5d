package bkrepo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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

func TestDecodeCreateDefaultsAndTimes(t *testing.T) {
	req, e := DecodeCreate([]byte(`{"name":"n","bogus":1,"setting":{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":"2030-03-16T12:00:00.000"}}}`), shanghai)
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
	for body, want := range map[string]struct {
		code  int
		field string
	}{
		``:                              {CodeRequestContentInvalid, ""},
		`{`:                             {CodeRequestContentInvalid, ""},
		`[1]`:                           {CodeRequestContentInvalid, ""},
		`{"name":"a"} {}`:               {CodeRequestContentInvalid, ""},
		`{"name":5}`:                    {CodeParameterInvalid, "name"},
		`{"setting":{"rateLimit":"x"}}`: {CodeParameterInvalid, "setting.rateLimit"},
		`{"setting":{"executionPlan":{"executeTime":"tomorrow"}}}`: {CodeParameterInvalid, "setting.executionPlan.executeTime"},
		`{"replicaTaskObjects":{}}`:                                {CodeParameterInvalid, "replicaTaskObjects"},
	} {
		_, e := DecodeCreate([]byte(body), shanghai)
		if e == nil || e.Code != want.code || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, "["+want.field+"]") && want.field != "" {
			t.Errorf("%s: %+v, want %d naming %q", body, e, want.code, want.field)
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

func TestDecodeUpdateKeepsWhatTheBodyLeavesOut(t *testing.T) {
	old := fsm.Task{
		Key: "k", Name: "old", ProjectID: "bkrepo", SourceCluster: "shanghai", ReplicaObjectType: "PACKAGE", ReplicaType: "SCHEDULED",
		Objects: []fsm.ReplicaObject{{LocalRepoName: "a", RemoteProjectID: "bkrepo", RemoteRepoName: "a", RepoType: "MAVEN",
			PackageConstraints: []fsm.PackageConstraint{{PackageKey: "gav://g:a"}}}},
		Setting: fsm.TaskSetting{ReplicaSetting: fsm.ReplicaSetting{RateLimit: 7, ConflictStrategy: "OVERWRITE", ErrorStrategy: "FAST_FAIL"},
			ExecutionStrategy: "CRON_EXPRESSION", ExecutionPlan: fsm.ExecutionPlan{CronExpression: "0 0 * * * ?"}},
		RemoteClusterIDs: []string{"beijing"}, Enabled: false, Description: "d", RunHistory: 9,
	}
	find := func(key string) (fsm.Task, bool) { return old, key == "k" }
	key, req, e := decodeUpdate([]byte(`{"key":"k","name":"new","replicaTaskObjects":[{"localRepoName":"b","repoType":"NPM"}]}`), find, shanghai)
	if e != nil || key != "k" {
		t.Fatal(key, e)
	}
	if req.Name != "new" || req.Setting != old.Setting || req.Enabled || req.Description != "d" || req.RunHistory != 9 || req.SourceClusterID != "shanghai" ||
		len(req.Objects) != 1 || req.Objects[0].LocalRepoName != "b" || len(req.Objects[0].PackageConstraints) != 0 || req.RemoteClusterIDs[0] != "beijing" {
		t.Fatalf("%+v", req)
	}
	// A setting given is a whole one.
	_, req, e = decodeUpdate([]byte(`{"key":"k","setting":{"rateLimit":1}}`), find, shanghai)
	if e != nil || req.Setting.RateLimit != 1 || req.Setting.ConflictStrategy != "SKIP" || req.Setting.ExecutionStrategy != "IMMEDIATELY" || req.Setting.ExecutionPlan.CronExpression != "" {
		t.Fatalf("%+v %v", req.Setting, e)
	}
	if _, _, e := decodeUpdate([]byte(`{"name":"x"}`), find, shanghai); e == nil || e.Code != CodeParameterInvalid {
		t.Fatalf("no key: %v", e)
	}
	if _, _, e := decodeUpdate([]byte(`{"key":"nope"}`), find, shanghai); e == nil || e.Code != CodeReplicaTaskNotFound {
		t.Fatalf("unknown key: %v", e)
	}
}

// FuzzDecodeCreate: no body makes the decoder panic; what it accepts is a
// request whose execute time shows back as it was read (to the millisecond),
// and what it refuses is a 400 with a bk-repo code.
func FuzzDecodeCreate(f *testing.F) {
	f.Add([]byte(seedCreate))
	f.Add([]byte(`{"setting":{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":"2030-03-16T12:00:00.000"}}}`))
	f.Add([]byte(`{"setting":{"executionPlan":{"executeTime":"2030-03-16T12:00:00+02:00"}}}`))
	f.Add([]byte(`{"replicaTaskObjects":[{"pathConstraints":["/a",{"path":"/b"}]}],"remoteClusterIds":null}`))
	f.Add([]byte(`{"name":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := DecodeCreate(body, shanghai)
		if e != nil {
			if e.Status != http.StatusBadRequest || (e.Code != CodeParameterInvalid && e.Code != CodeRequestContentInvalid) || !utf8.ValidString(e.Message) && utf8.Valid(body) {
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

// executeTime is bk-repo's LocalDateTime: an update that leaves it out, or
// gives null, keeps the task's; "" clears it; a wrong type names the field.
func TestDecodeUpdateExecuteTime(t *testing.T) {
	at := time.Date(2030, 3, 16, 12, 0, 0, 0, shanghai)
	old := fsm.Task{Key: "k", Name: "n", ReplicaType: "SCHEDULED",
		Setting: fsm.TaskSetting{ExecutionStrategy: "SPECIFIED_TIME", ExecutionPlan: fsm.ExecutionPlan{ExecuteTime: at}}}
	find := func(string) (fsm.Task, bool) { return old, true }
	for body, want := range map[string]time.Time{
		`{"key":"k","name":"m"}`: at,
		`{"key":"k","setting":{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":null}}}`: {},
		`{"key":"k","setting":{"executionStrategy":"SPECIFIED_TIME","executionPlan":{"executeTime":" "}}}`:  {},
		`{"key":"k","setting":{"executionPlan":{"executeTime":"2031-01-02 03:04:05"}}}`:                     time.Date(2031, 1, 2, 3, 4, 5, 0, shanghai),
	} {
		_, req, e := decodeUpdate([]byte(body), find, shanghai)
		if e != nil || !req.Setting.ExecutionPlan.ExecuteTime.Equal(want) {
			t.Errorf("%s: %v %v, want %v", body, req.Setting.ExecutionPlan.ExecuteTime, e, want)
		}
	}
	_, _, e := decodeUpdate([]byte(`{"key":"k","setting":{"executionPlan":{"executeTime":5}}}`), find, shanghai)
	if e == nil || e.Code != CodeParameterInvalid || !strings.Contains(e.Message, "[setting.executionPlan.executeTime]") {
		t.Errorf("a number for executeTime: %+v", e)
	}
	if old.Setting.ExecutionPlan.ExecuteTime != at {
		t.Error("decoding changed the stored task")
	}
}
