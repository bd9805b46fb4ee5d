package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/client"
)

func sampleTasks() []client.Task {
	ran := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	return []client.Task{
		{
			Key: "0123456789abcdef0123456789abcdef", Name: "nightly", ProjectID: "bkrepo", ReplicaType: client.TaskScheduled,
			Setting: client.TaskSetting{ExecutionStrategy: client.ExecCron, ExecutionPlan: client.ExecutionPlan{CronExpression: "0 0 2 * * ?"}},
			Enabled: true, LastExecutionStatus: "SUCCESS", LastExecutionTime: ran, NextExecutionTime: ran.Add(24 * time.Hour), ExecutionTimes: 12,
		},
		{
			Key: "fedcba9876543210fedcba9876543210", Name: "mirror\tall", ProjectID: "ops", ReplicaType: client.TaskRealTime,
			Setting: client.TaskSetting{ExecutionStrategy: client.ExecImmediately},
		},
	}
}

func TestTaskRow(t *testing.T) {
	tasks := sampleTasks()
	ran := tasks[0].LastExecutionTime
	want := "0123456789abcdef0123456789abcdef\tnightly\tbkrepo\tSCHEDULED\tCRON_EXPRESSION\tyes\tSUCCESS\t" +
		ran.Local().Format("2006-01-02 15:04") + "\t" + ran.Add(24*time.Hour).Local().Format("2006-01-02 15:04") + "\t12"
	if got := taskRow(tasks[0]); got != want {
		t.Errorf("taskRow =\n%q, want\n%q", got, want)
	}
	// A tab in a name would break the table; a REAL_TIME task has no strategy.
	if got, want := taskRow(tasks[1]), "fedcba9876543210fedcba9876543210\tmirror all\tops\tREAL_TIME\t-\tno\t-\t-\t-\t0"; got != want {
		t.Errorf("taskRow(real time) =\n%q, want\n%q", got, want)
	}
}

func TestWriteTaskTable(t *testing.T) {
	var b bytes.Buffer
	if err := writeTaskTable(&b, sampleTasks()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("table has %d lines:\n%s", len(lines), b.String())
	}
	header := strings.Fields(strings.NewReplacer("LAST STATUS", "LAST_STATUS", "LAST TIME", "LAST_TIME", "NEXT TIME", "NEXT_TIME").Replace(lines[0]))
	if want := []string{"KEY", "NAME", "PROJECT", "TYPE", "STRATEGY", "ENABLED", "LAST_STATUS", "LAST_TIME", "NEXT_TIME", "EXECUTIONS"}; !reflect.DeepEqual(header, want) {
		t.Errorf("header %q, want %q", header, want)
	}
	// The columns line up: each starts at the same offset on every line.
	for _, col := range []string{"NAME", "PROJECT", "TYPE", "STRATEGY", "ENABLED", "EXECUTIONS"} {
		at := strings.Index(lines[0], col)
		for _, l := range lines[1:] {
			if at >= len(l) || l[at-1] != ' ' || l[at-2] != ' ' || l[at] == ' ' {
				t.Errorf("column %s (at %d) does not line up in\n%s", col, at, b.String())
			}
		}
	}
	if !strings.HasSuffix(lines[1], "  12") || !strings.HasSuffix(lines[2], "  0") {
		t.Errorf("executions column:\n%s", b.String())
	}
	b.Reset()
	if err := writeTaskTable(&b, nil); err != nil || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("empty table %q, %v", b.String(), err)
	}
}

func TestPrintTask(t *testing.T) {
	no := false
	created := time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)
	task := sampleTasks()[0]
	task.SourceClusterID, task.ReplicaObjectType, task.Description = "shanghai", client.ReplicaPackage, "nightly\nbuilds"
	task.ReplicaTaskObjects = []client.ReplicaObject{
		{LocalRepoName: "maven-local", RepoType: "MAVEN", PackageConstraints: []client.PackageConstraint{{PackageKey: "gav://a:b", Versions: []string{"1", "2"}}}},
		{LocalRepoName: "npm", RemoteProjectID: "mirror", RemoteRepoName: "npm-mirror"},
	}
	task.RemoteClusterIDs = []string{"beijing", "guangzhou"}
	task.RemoteClusters = []client.ClusterRef{{ID: "beijing", Name: "Region beijing"}, {ID: "guangzhou", Name: "guangzhou"}}
	task.Setting.RunSetting = client.RunSetting{RateLimit: 20 << 20, IncludeMetadata: &no, ErrorStrategy: client.ErrorFastFail}
	task.RunHistory, task.CreatedBy, task.CreatedDate, task.LastModifiedBy, task.LastModifiedDate = 50, "admin", created, "ops", created
	var b bytes.Buffer
	if err := printTask(&b, task); err != nil {
		t.Fatal(err)
	}
	const ts = "2006-01-02 15:04:05"
	for _, want := range []string{
		"Task:        0123456789abcdef0123456789abcdef\n",
		"Name:        nightly\n",
		"Description: nightly builds\n",
		"Enabled:     yes\n",
		"Schedule:    SCHEDULED, CRON_EXPRESSION \"0 0 2 * * ?\"\n",
		"Last run:    SUCCESS at " + task.LastExecutionTime.Local().Format(ts) + " (12 executions)\n",
		"Next run:    " + task.NextExecutionTime.Local().Format(ts) + "\n",
		"Source:      project bkrepo on shanghai, PACKAGE\n",
		"Repos:       maven-local -> bkrepo/maven-local (MAVEN) package gav://a:b=1,2\n" +
			"             npm -> mirror/npm-mirror\n",
		"Targets:     beijing (Region beijing), guangzhou\n",
		"Setting:     rate 20.0 MiB/s per target, conflicts SKIP, errors FAST_FAIL, metadata no\n",
		"History:     keeps 50 ended runs\n",
		"Created:     " + created.Local().Format(ts) + " by admin\n",
		"Modified:    " + created.Local().Format(ts) + " by ops\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("printTask lacks %q:\n%s", want, b.String())
		}
	}

	rt := sampleTasks()[1]
	rt.ReplicateDeletes = true
	b.Reset()
	if err := printTask(&b, rt); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Schedule:    REAL_TIME\n", "Last run:    - (0 executions)\n", "Next run:    -\n", "Targets:     -\n", ", deletes replicated\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("printTask(real time) lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "Description:") || strings.Contains(b.String(), "Repos:") {
		t.Errorf("printTask(real time) shows empty fields:\n%s", b.String())
	}
}

func TestTaskSchedule(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		t    client.Task
		want string
	}{
		{client.Task{ReplicaType: client.TaskScheduled, Setting: client.TaskSetting{ExecutionStrategy: client.ExecImmediately}}, "SCHEDULED, IMMEDIATELY"},
		{client.Task{ReplicaType: client.TaskScheduled, Setting: client.TaskSetting{ExecutionStrategy: client.ExecSpecifiedTime, ExecutionPlan: client.ExecutionPlan{ExecuteTime: at}}},
			"SCHEDULED, SPECIFIED_TIME " + at.Local().Format("2006-01-02 15:04:05")},
		{client.Task{ReplicaType: client.TaskRealTime, Setting: client.TaskSetting{ExecutionStrategy: client.ExecCron}}, "REAL_TIME"},
		{client.Task{}, "-, -"},
	} {
		if got := taskSchedule(tc.t); got != tc.want {
			t.Errorf("taskSchedule(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
