package swr

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/registry"
)

func TestDecodeSyncBodies(t *testing.T) {
	for _, c := range []struct {
		body string
		code string // "" accepted
	}{
		{`{"remoteRegionId":"beijing","remoteNamespace":"ns","syncAuto":true,"override":false}` + "\n", ""},
		{`{"remoteRegionId":"beijing","remoteNamespace":"ns"}`, ""},
		{`{"remoteNamespace":"ns"}`, CodeParametersLost},
		{`{"remoteRegionId":"beijing","remoteNamespace":""}`, CodeParametersLost},
		{`{"remoteRegionId":1}`, CodeInvalidParameter},
		{`{} {}`, CodeInvalidParameter},
		{``, CodeInvalidParameter},
	} {
		_, e := decodeRule([]byte(c.body))
		if got := codeOf(e); got != c.code {
			t.Errorf("rule %s: %q, want %q", c.body, got, c.code)
		}
	}
	b, _ := decodeRule([]byte(`{"remoteRegionId":"r","remoteNamespace":"n","synAuto":true}`))
	if !b.SyncAuto {
		t.Error("the old SDKs' synAuto is not read")
	}
	for _, c := range []struct{ body, code string }{
		{`{"imageTag":["v1","v2"],"override":true,"remoteNamespace":"ns","remoteRegionId":"r"}`, ""},
		{`{"imageTag":[],"remoteNamespace":"ns","remoteRegionId":"r"}`, CodeParametersLost},
		{`{"remoteNamespace":"ns","remoteRegionId":"r"}`, CodeParametersLost},
		{`{"imageTag":["a b"],"remoteNamespace":"ns","remoteRegionId":"r"}`, CodeInvalidParameter},
	} {
		_, e := decodeSyncImages([]byte(c.body))
		if got := codeOf(e); got != c.code {
			t.Errorf("sync_images %s: %q, want %q", c.body, got, c.code)
		}
	}
}

func codeOf(e *Error) string {
	if e == nil {
		return ""
	}
	return e.Code
}

func FuzzDecodeSyncBodies(f *testing.F) {
	f.Add([]byte(`{"remoteRegionId":"beijing","remoteNamespace":"ns","syncAuto":true,"override":true}`))
	f.Add([]byte(`{"imageTag":["v1"],"remoteNamespace":"ns","remoteRegionId":"r"}`))
	f.Add([]byte(`{"synAuto":false}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, e := range []*Error{second(decodeRule(b)), second(decodeRuleKey(b)), second(decodeSyncImages(b))} {
			if e != nil && e.Status != http.StatusBadRequest {
				t.Fatalf("%q: %v", b, e)
			}
		}
		if s, e := decodeSyncImages(b); e == nil && (len(s.ImageTag) == 0 || s.RemoteNamespace == "" || s.RemoteRegionID == "") {
			t.Fatalf("%q accepted without a required field: %+v", b, s)
		}
	})
}

func second[T any](_ T, e *Error) *Error { return e }

func FuzzParseRepoPathOps(f *testing.F) {
	f.Add("app$web/sync_repo")
	f.Add("app/web/sync_job")
	f.Add("sync_images")
	f.Fuzz(func(t *testing.T, rest string) {
		p, ok := parseRepoPath(rest)
		if ok && p.Repo == "" {
			t.Fatalf("%q: ok with no repository", rest)
		}
	})
}

// A rule's task reads back as the rule; other tasks are not rules.
func TestRuleTaskRoundTrip(t *testing.T) {
	for _, repo := range []string{"app", "app/web", "app/web/x"} {
		k := ruleKey{Namespace: "ns", Repo: repo, Region: "beijing", RemoteNamespace: "other"}
		req := ruleTask(k, true, false)
		task := fsm.Task{Name: req.Name, ProjectID: req.LocalProjectID, Objects: req.Objects, RemoteClusterIDs: req.RemoteClusterIDs, Enabled: req.Enabled, Setting: req.Setting}
		got, ok := ruleOf(task)
		if !ok || got != k {
			t.Errorf("%s: %+v %v", repo, got, ok)
		}
		if task.ReplicaType = req.ReplicaType; task.ReplicaType != fsm.ReplicaRealTime || task.Setting.ConflictStrategy != fsm.ConflictSkip {
			t.Errorf("%s: %s %s", repo, task.ReplicaType, task.Setting.ConflictStrategy)
		}
		task.Name += "x"
		if _, ok := ruleOf(task); ok {
			t.Errorf("%s: a renamed task is still a rule", repo)
		}
	}
	if ruleTask(ruleKey{Repo: "a"}, false, true).Enabled || ruleTask(ruleKey{Repo: "a"}, false, true).Setting.ConflictStrategy != fsm.ConflictOverwrite {
		t.Error("syncAuto false is not a disabled task, or override is not OVERWRITE")
	}
	if scope("") != "/" || scope("web/x") != "/web/x/" {
		t.Error("scope")
	}
}

func TestRuleViewFields(t *testing.T) {
	k := ruleKey{Namespace: "ns", Repo: "app/web", Region: "beijing", RemoteNamespace: "other"}
	b, _ := json.Marshal(viewRule(k, fsm.Task{Key: "abc", CreatedBy: "me", Enabled: true}))
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, f := range []string{"id", "createdAt", "updatedAt", "domainID", "domainName", "namespace", "override", "remoteNamespace", "remoteRegionId", "repoName", "syncAuto"} {
		if _, ok := m[f]; !ok {
			t.Errorf("no %s in %s", f, b)
		}
	}
	if id := m["id"].(float64); id < 0 || id >= 1<<31 {
		t.Errorf("id %v is not an int32", id)
	}
}

func TestJobStatuses(t *testing.T) {
	for _, c := range []struct {
		rec  fsm.ObjectRecord
		want string
	}{
		{fsm.ObjectRecord{Status: fsm.ObjectSuccess}, statusSuccess},
		{fsm.ObjectRecord{Status: fsm.ObjectSuccess, Action: fsm.ActionConflict}, statusSuccess},
		{fsm.ObjectRecord{Status: fsm.ObjectSkipped, Action: "identical"}, statusSuccess},
		{fsm.ObjectRecord{Status: fsm.ObjectSkipped, Action: fsm.ActionConflict}, statusExisted},
		{fsm.ObjectRecord{Status: fsm.ObjectFailed}, statusFailed},
	} {
		if got := recordStatus(c.rec); got != c.want {
			t.Errorf("%+v: %s, want %s", c.rec, got, c.want)
		}
	}
	for s, want := range map[fsm.RunState]string{fsm.RunWaiting: statusWaiting, fsm.RunRunning: statusRunning, fsm.RunSuccess: statusSuccess, fsm.RunFailed: statusFailed, fsm.RunCanceled: statusCancel} {
		if got := stateStatus(s); got != want {
			t.Errorf("%s: %s, want %s", s, got, want)
		}
	}
}

func TestJobWindow(t *testing.T) {
	for _, c := range []struct {
		p    params
		code string
		desc bool
	}{
		{params{"limit": "10", "offset": "0"}, "", true},
		{params{"limit": "10", "offset": "5", "order": "asc"}, "", false},
		{params{"limit": "10"}, CodeParametersLost, false},
		{params{"offset": "0"}, CodeParametersLost, false},
		{params{"limit": "0", "offset": "0"}, CodeInvalidPageSize, false},
		{params{"limit": "1", "offset": "0", "order": "up"}, CodeInvalidParameter, false},
	} {
		w, desc, err := jobWindow(c.p)
		if got := codeOf(asErrorOrNil(err)); got != c.code || err == nil && (desc != c.desc || !w.ranged) {
			t.Errorf("%v: %v %v %v", c.p, w, desc, err)
		}
	}
}

func asErrorOrNil(err error) *Error {
	if err == nil {
		return nil
	}
	return asError(err)
}

func TestSplitTagsAndRunsOfRepo(t *testing.T) {
	have, missing := splitTags([]string{"v1", "nope", "v1", "v2"}, []registry.TagDetail{{Tag: "v1"}, {Tag: "v2"}})
	if len(have) != 2 || len(missing) != 1 || missing[0] != "nope" {
		t.Errorf("%v %v", have, missing)
	}
	k := ruleKey{Namespace: "ns", Repo: "app/web", Region: "beijing", RemoteNamespace: "other"}
	manual := fsm.Run{Spec: manualSpec(k, have, false)}
	if o, ok := repoObject(manual, "ns", "app/web"); !ok || o.RemoteProjectID != "other" || manual.Spec.Objects[0].PackageConstraints[0].PackageKey != "docker://web" {
		t.Errorf("manual run: %+v", manual.Spec)
	}
	req := ruleTask(k, true, false)
	rule := fsm.Run{Spec: fsm.ReplicaSpec{LocalProjectID: "ns", ReplicaObjectType: req.ReplicaObjectType, Objects: req.Objects}}
	for repo, want := range map[string]bool{"app/web": true, "app": false, "app/web/x": false} {
		if _, ok := repoObject(rule, "ns", repo); ok != want {
			t.Errorf("rule run of app/web for %s: %v", repo, ok)
		}
	}
}
