package client

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
)

// strictAgentRequest decodes req's JSON as the agent does: onto the
// document's defaults, refusing unknown fields.
func strictAgentRequest(t *testing.T, req TaskRequest) api.TaskRequest {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out := api.NewTaskRequest()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("the agent refuses %s: %v", b, err)
	}
	return out
}

func TestTaskRequestLeavesDefaultsToTheAgent(t *testing.T) {
	got := strictAgentRequest(t, TaskRequest{
		Name: "n", LocalProjectID: "p", ReplicaObjectType: ReplicaRepository,
		ReplicaTaskObjects: []ReplicaObject{{LocalRepoName: "r"}}, RemoteClusterIDs: []string{"beijing"},
	})
	want := api.NewTaskRequest()
	want.Name, want.LocalProjectID, want.ReplicaObjectType = "n", "p", fsm.ObjectRepository
	want.Objects = []fsm.ReplicaObject{{LocalRepoName: "r"}}
	want.RemoteClusterIDs = []string{"beijing"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the agent reads\n%+v\nwant\n%+v", got, want)
	}
}

func TestTaskRequestFieldsReachTheAgent(t *testing.T) {
	no := false
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	got := strictAgentRequest(t, TaskRequest{
		Name: "n", LocalProjectID: "p", SourceClusterID: "shanghai", ReplicaObjectType: ReplicaPath,
		ReplicaTaskObjects: []ReplicaObject{{LocalRepoName: "r", RemoteProjectID: "rp", RemoteRepoName: "rr", RepoType: "GENERIC",
			PathConstraints: []PathConstraint{{Path: "/a"}}}},
		ReplicaType: TaskScheduled,
		Setting: TaskSetting{
			RunSetting:        RunSetting{RateLimit: 10, IncludeMetadata: &no, ConflictStrategy: ConflictOverwrite, ErrorStrategy: ErrorFastFail},
			ExecutionStrategy: ExecSpecifiedTime, ExecutionPlan: ExecutionPlan{ExecuteTime: at},
		},
		RemoteClusterIDs: []string{"beijing", "guangzhou"}, Enabled: &no, Description: "d", ReplicateDeletes: true, RunHistory: 7,
	})
	want := api.TaskRequest{
		Name: "n", LocalProjectID: "p", SourceClusterID: "shanghai", ReplicaObjectType: fsm.ObjectPath,
		Objects: []fsm.ReplicaObject{{LocalRepoName: "r", RemoteProjectID: "rp", RemoteRepoName: "rr", RepoType: "GENERIC",
			PathConstraints: []fsm.PathConstraint{{Path: "/a"}}}},
		ReplicaType: fsm.ReplicaScheduled,
		Setting: fsm.TaskSetting{
			ReplicaSetting:    fsm.ReplicaSetting{RateLimit: 10, IncludeMetadata: false, ConflictStrategy: fsm.ConflictOverwrite, ErrorStrategy: fsm.ErrorFastFail},
			ExecutionStrategy: fsm.ExecSpecifiedTime, ExecutionPlan: fsm.ExecutionPlan{ExecuteTime: at},
		},
		RemoteClusterIDs: []string{"beijing", "guangzhou"}, Enabled: false, Description: "d", ReplicateDeletes: true, RunHistory: 7,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the agent reads\n%+v\nwant\n%+v", got, want)
	}
}

// agentTask is a task as the agent serves it.
func agentTask(t *testing.T, v api.TaskView) Task {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out Task
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // every field the agent sends has a place
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return out
}

func TestTaskDecodesTheAgentsView(t *testing.T) {
	created := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ran := created.Add(time.Minute)
	next := created.Add(time.Hour)
	ft := fsm.Task{
		Key: "0123456789abcdef0123456789abcdef", ID: "abc", Name: "nightly", ProjectID: "p", SourceCluster: "shanghai",
		ReplicaObjectType: fsm.ObjectRepository, Objects: []fsm.ReplicaObject{{LocalRepoName: "r", RemoteProjectID: "p", RemoteRepoName: "r"}},
		ReplicaType: fsm.ReplicaScheduled,
		Setting: fsm.TaskSetting{
			ReplicaSetting:    fsm.ReplicaSetting{IncludeMetadata: true, ConflictStrategy: fsm.ConflictSkip, ErrorStrategy: fsm.ErrorContinue},
			ExecutionStrategy: fsm.ExecCron, ExecutionPlan: fsm.ExecutionPlan{CronExpression: "0 0 * * * ?"},
		},
		RemoteClusterIDs: []string{"beijing"}, Enabled: true, Description: "d", RunHistory: 50,
		LastExecutionStatus: "SUCCESS", LastExecutionTime: ran, ExecutionTimes: 3, LastSlot: ran,
		CreatedBy: "admin", CreatedDate: created, LastModifiedBy: "ops", LastModifiedDate: ran,
	}
	got := agentTask(t, api.TaskView{Task: ft, RemoteClusters: []api.ClusterRef{{ID: "beijing", Name: "Region beijing"}}, NextExecutionTime: next})
	yes := true
	want := Task{
		Key: ft.Key, ID: "abc", Name: "nightly", ProjectID: "p", SourceClusterID: "shanghai", ReplicaObjectType: ReplicaRepository,
		ReplicaTaskObjects: []ReplicaObject{{LocalRepoName: "r", RemoteProjectID: "p", RemoteRepoName: "r"}},
		ReplicaType:        TaskScheduled,
		Setting: TaskSetting{
			RunSetting:        RunSetting{IncludeMetadata: &yes, ConflictStrategy: ConflictSkip, ErrorStrategy: ErrorContinue},
			ExecutionStrategy: ExecCron, ExecutionPlan: ExecutionPlan{CronExpression: "0 0 * * * ?"},
		},
		RemoteClusterIDs: []string{"beijing"}, RemoteClusters: []ClusterRef{{ID: "beijing", Name: "Region beijing"}},
		Enabled: true, Description: "d", RunHistory: 50,
		LastExecutionStatus: "SUCCESS", LastExecutionTime: ran, NextExecutionTime: next, ExecutionTimes: 3, LastSlot: ran,
		CreatedBy: "admin", CreatedDate: created, LastModifiedBy: "ops", LastModifiedDate: ran,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
	}

	// A task that never ran and will not fire: the agent leaves the times out.
	ft.LastExecutionStatus, ft.LastExecutionTime, ft.LastSlot, ft.ExecutionTimes, ft.Enabled = "", time.Time{}, time.Time{}, 0, false
	b, _ := json.Marshal(api.TaskView{Task: ft, RemoteClusters: []api.ClusterRef{}})
	for _, absent := range []string{"nextExecutionTime", "lastExecutionTime", "lastExecutionStatus", "lastSlot"} {
		if strings.Contains(string(b), `"`+absent+`"`) {
			t.Fatalf("the agent sent %s: %s", absent, b)
		}
	}
	idle := agentTask(t, api.TaskView{Task: ft, RemoteClusters: []api.ClusterRef{}})
	if !idle.NextExecutionTime.IsZero() || !idle.LastExecutionTime.IsZero() || idle.LastExecutionStatus != "" || idle.Enabled {
		t.Fatalf("idle task decoded as %+v", idle)
	}
}

func TestTaskRequestOfTaskRecreatesIt(t *testing.T) {
	yes := true
	task := Task{
		Key: "k", Name: "n", ProjectID: "p", SourceClusterID: "shanghai", ReplicaObjectType: ReplicaPackage,
		ReplicaTaskObjects: []ReplicaObject{{LocalRepoName: "r", PackageConstraints: []PackageConstraint{{PackageKey: "npm://x", Versions: []string{"1"}}}}},
		ReplicaType:        TaskRealTime,
		Setting:            TaskSetting{RunSetting: RunSetting{IncludeMetadata: &yes, ConflictStrategy: ConflictSkip, ErrorStrategy: ErrorContinue}, ExecutionStrategy: ExecImmediately, ExecutionPlan: ExecutionPlan{ExecuteImmediately: true}},
		RemoteClusterIDs:   []string{"beijing"}, Enabled: false, ReplicateDeletes: true, RunHistory: 5, ExecutionTimes: 9,
	}
	got := strictAgentRequest(t, task.Request())
	if got.Enabled || got.ReplicaType != fsm.ReplicaRealTime || !got.ReplicateDeletes || got.RunHistory != 5 ||
		got.SourceClusterID != "shanghai" || got.Objects[0].PackageConstraints[0].Versions[0] != "1" || !got.Setting.IncludeMetadata {
		t.Fatalf("the agent reads %+v", got)
	}
}

func TestTaskQueryValues(t *testing.T) {
	no := false
	for _, tc := range []struct {
		q    TaskQuery
		want string
	}{
		{TaskQuery{}, ""},
		{TaskQuery{ProjectID: "p", NamePrefix: "night ly", LastExecutionStatus: "SUCCESS", Enabled: &no, SortType: SortNextExecutionTime, PageNumber: 2, PageSize: 10},
			"enabled=false&lastExecutionStatus=SUCCESS&name=night+ly&pageNumber=2&pageSize=10&projectId=p&sortType=NEXT_EXECUTION_TIME"},
	} {
		if got := tc.q.values().Encode(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.q, got, tc.want)
		}
	}
}

func TestTaskPath(t *testing.T) {
	if p, err := taskPath("0123abc"); err != nil || p != "/v1/tasks/0123abc" {
		t.Fatalf("taskPath: %q, %v", p, err)
	}
	for _, bad := range []string{"", ".", "..", "a/b"} {
		if _, err := taskPath(bad); err == nil {
			t.Errorf("taskPath(%q) accepted", bad)
		}
	}
}
