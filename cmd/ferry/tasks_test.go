package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/client"
)

func TestDecodeTaskRequest(t *testing.T) {
	no := false
	want := client.TaskRequest{
		Name: "nightly", LocalProjectID: "bkrepo", SourceClusterID: "shanghai", ReplicaObjectType: "PATH",
		ReplicaTaskObjects: []client.ReplicaObject{{LocalRepoName: "generic", RepoType: "GENERIC",
			PathConstraints: []client.PathConstraint{{Path: "/a/b"}, {Path: "/c"}}}},
		ReplicaType: "SCHEDULED",
		Setting: client.TaskSetting{
			RunSetting:        client.RunSetting{RateLimit: 1024, ConflictStrategy: "OVERWRITE"},
			ExecutionStrategy: "SPECIFIED_TIME",
			ExecutionPlan:     client.ExecutionPlan{ExecuteTime: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
		},
		RemoteClusterIDs: []string{"beijing", "guangzhou"}, Enabled: &no, Description: "every night", RunHistory: 20,
	}
	yamlTask := `
name: nightly
description: every night
localProjectId: bkrepo
sourceClusterId: shanghai
replicaObjectType: PATH
replicaTaskObjects:
  - localRepoName: generic
    repoType: GENERIC
    pathConstraints: ["/a/b", {path: /c}]
replicaType: SCHEDULED
remoteClusterIds: [beijing, guangzhou]
enabled: false
runHistory: 20
setting:
  rateLimit: 1024
  conflictStrategy: OVERWRITE
  executionStrategy: SPECIFIED_TIME
  executionPlan: {executeTime: 2030-01-02T03:04:05Z}
`
	jsonTask := `{"name": "nightly", "description": "every night", "localProjectId": "bkrepo", "sourceClusterId": "shanghai",
  "replicaObjectType": "PATH", "replicaType": "SCHEDULED", "enabled": false, "runHistory": 20,
  "replicaTaskObjects": [{"localRepoName": "generic", "repoType": "GENERIC", "pathConstraints": ["/a/b", {"path": "/c"}]}],
  "remoteClusterIds": ["beijing", "guangzhou"],
  "setting": {"rateLimit": 1024, "conflictStrategy": "OVERWRITE", "executionStrategy": "SPECIFIED_TIME",
    "executionPlan": {"executeTime": "2030-01-02T03:04:05Z"}}}`
	for _, tc := range []struct{ data, name string }{
		{yamlTask, "task.yaml"}, {yamlTask, "task.yml"}, {yamlTask, "-"},
		{jsonTask, "task.json"}, {jsonTask, "-"}, {jsonTask, "task.yaml"}, // JSON is YAML too
	} {
		got, err := decodeStrict[client.TaskRequest]([]byte(tc.data), tc.name, "task")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeTaskRequest(%s) = %+v, %v\nwant %+v", tc.name, got, err, want)
		}
	}

	// What a file leaves out stays unset, for the agent's defaults.
	got, err := decodeStrict[client.TaskRequest]([]byte("name: n\nlocalProjectId: p\nsetting: {executionStrategy: CRON_EXPRESSION, executionPlan: {cronExpression: '0 0 2 * * ?'}}\n"), "t.yaml", "task")
	if err != nil || got.Enabled != nil || got.ReplicaType != "" || got.Setting.IncludeMetadata != nil ||
		got.Setting.ExecutionPlan.CronExpression != "0 0 2 * * ?" || got.Setting.ConflictStrategy != "" {
		t.Errorf("sparse task = %+v, %v", got, err)
	}

	for _, tc := range []struct{ data, name, err string }{
		{"", "task.yaml", "empty task"},
		{"", "task.json", "empty task"},
		{"name: n\nremoteClusterIDz: [a]\n", "task.yaml", `unknown field "remoteClusterIDz"`},
		{"name: n\nsetting: {executionPlan: {cron: x}}\n", "task.yaml", `unknown field "cron"`},
		{`{"name": "n", "projectId": "p"}`, "task.json", `unknown field "projectId"`},
		{`{"name": "n"} {}`, "task.json", "data after the task"},
		{"name: [unclosed\n", "task.yaml", "yaml"},
		{"enabled: maybe\n", "task.yaml", "enabled"},
		{"setting: {executionPlan: {executeTime: tomorrow}}\n", "task.yaml", "tomorrow"},
	} {
		if _, err := decodeStrict[client.TaskRequest]([]byte(tc.data), tc.name, "task"); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("decodeTaskRequest(%q, %s) = %v, want %q", tc.data, tc.name, err, tc.err)
		}
	}
}

func TestReadTaskRequest(t *testing.T) {
	file := filepath.Join(t.TempDir(), "task.yaml")
	if err := os.WriteFile(file, []byte("name: n\nlocalProjectId: p\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if got, err := readStrict[client.TaskRequest](file, nil, "task"); err != nil || got.Name != "n" || got.LocalProjectID != "p" {
		t.Errorf("readTaskRequest(file) = %+v, %v", got, err)
	}
	if got, err := readStrict[client.TaskRequest]("-", strings.NewReader(`{"name": "s"}`), "task"); err != nil || got.Name != "s" {
		t.Errorf("readTaskRequest(stdin) = %+v, %v", got, err)
	}
	if _, err := readStrict[client.TaskRequest]("-", strings.NewReader("nope: 1\n"), "task"); err == nil || !strings.Contains(err.Error(), "task -: ") {
		t.Errorf("readTaskRequest(bad stdin) = %v, want it named", err)
	}
}

// sampleTasks are a cron task that ran and a REAL_TIME task that never did.

func TestTaskArgumentErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "task.yaml")
	if err := os.WriteFile(file, []byte("nope: 1\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"task", "create"}, "-f FILE is required"},
		{[]string{"task", "create", "-f", file}, `unknown field "nope"`},
		{[]string{"task", "create", "-f", file + ".missing"}, "no such file"},
		{[]string{"task", "ls", "--enabled", "maybe"}, `--enabled "maybe": want true or false`},
		{[]string{"task", "ls", "--status", "done"}, "--status \"done\": want RUNNING, SUCCESS, FAILED"},
		{[]string{"task", "ls", "--sort", "name"}, "--sort \"name\": want CREATED_TIME"},
		{[]string{"task", "show"}, "accepts 1 arg"},
		{[]string{"task", "copy", "k"}, "--name is required"},
		{[]string{"task", "run", "a/b"}, `invalid task key "a/b"`},
		{[]string{"task", "enable", ".."}, `invalid task key ".."`},
		{[]string{"task", "rm"}, "accepts 1 arg"},
	} {
		// The address is never dialed: each fails before any request.
		_, _, err := runFerry(t, append(tc.args, "--address", "127.0.0.1:1")...)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ferry %s = %v, want %q", strings.Join(tc.args, " "), err, tc.err)
		}
	}
	if _, _, err := runFerry(t, "task", "frobnicate"); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("ferry task frobnicate = %v", err)
	}
}
