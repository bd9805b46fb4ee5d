package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ferrysync/ferry/client"
)

// writeTaskTable writes the table of ferry task ls.
func writeTaskTable(out io.Writer, tasks []client.Task) error {
	rows := make([]string, len(tasks))
	for i, t := range tasks {
		rows[i] = taskRow(t)
	}
	return writeTable(out, "KEY\tNAME\tPROJECT\tTYPE\tSTRATEGY\tENABLED\tLAST STATUS\tLAST TIME\tNEXT TIME\tEXECUTIONS", rows)
}

// taskRow is one tab-separated line of ferry task ls.
func taskRow(t client.Task) string {
	const ts = "2006-01-02 15:04"
	return strings.Join([]string{
		t.Key, orDash(oneLine(t.Name)), orDash(t.ProjectID), orDash(t.ReplicaType), taskStrategy(t), yesNo(t.Enabled),
		orDash(t.LastExecutionStatus), formatTime(t.LastExecutionTime, ts), formatTime(t.NextExecutionTime, ts),
		strconv.FormatInt(t.ExecutionTimes, 10),
	}, "\t")
}

// taskStrategy is a SCHEDULED task's execution strategy, "-" for others.
func taskStrategy(t client.Task) string {
	if t.ReplicaType == client.TaskRealTime {
		return "-"
	}
	return orDash(t.Setting.ExecutionStrategy)
}

// printTask prints a task's details.
func printTask(out io.Writer, t client.Task) error {
	const ts = "2006-01-02 15:04:05"
	d := &details{width: 12}
	d.line("Task", t.Key)
	d.line("Name", t.Name)
	if t.Description != "" {
		d.line("Description", oneLine(t.Description))
	}
	d.line("Enabled", yesNo(t.Enabled))
	d.line("Schedule", taskSchedule(t))
	d.line("Last run", lastRunText(t))
	d.line("Next run", formatTime(t.NextExecutionTime, ts))
	d.line("Source", sourceText(t.ProjectID, t.SourceClusterID, t.ReplicaObjectType))
	d.repos(t.ProjectID, t.ReplicaTaskObjects)
	d.line("Targets", taskTargets(t))
	setting := settingText(t.Setting.RunSetting)
	if t.ReplicaType == client.TaskRealTime {
		if t.ReplicateDeletes {
			setting += ", deletes replicated"
		} else {
			setting += ", deletes not replicated"
		}
		if t.KeepDifferingOnTarget {
			setting += ", differing target paths kept"
		}
	}
	d.line("Setting", setting)
	if t.RunHistory > 0 {
		d.line("History", fmt.Sprintf("keeps %d ended runs", t.RunHistory))
	}
	d.line("Created", formatTime(t.CreatedDate, ts)+" by "+orDash(t.CreatedBy))
	d.line("Modified", formatTime(t.LastModifiedDate, ts)+" by "+orDash(t.LastModifiedBy))
	return d.writeTo(out)
}

// lastRunText is "SUCCESS at TIME (12 executions)".
func lastRunText(t client.Task) string {
	last := orDash(t.LastExecutionStatus)
	if !t.LastExecutionTime.IsZero() {
		last += " at " + formatTime(t.LastExecutionTime, "2006-01-02 15:04:05")
	}
	executions := "executions"
	if t.ExecutionTimes == 1 {
		executions = "execution"
	}
	return fmt.Sprintf("%s (%d %s)", last, t.ExecutionTimes, executions)
}

// taskSchedule is when a task runs: "REAL_TIME", "SCHEDULED, IMMEDIATELY",
// "SCHEDULED, SPECIFIED_TIME 2030-01-02 03:04:05",
// `SCHEDULED, CRON_EXPRESSION "0 0 2 * * ?"`.
func taskSchedule(t client.Task) string {
	s := orDash(t.ReplicaType)
	if t.ReplicaType == client.TaskRealTime {
		return s
	}
	s += ", " + orDash(t.Setting.ExecutionStrategy)
	switch p := t.Setting.ExecutionPlan; t.Setting.ExecutionStrategy {
	case client.ExecSpecifiedTime:
		s += " " + formatTime(p.ExecuteTime, "2006-01-02 15:04:05")
	case client.ExecCron:
		s += " " + strconv.Quote(p.CronExpression)
	}
	return s
}

// taskTargets lists a task's remote clusters, with their names when they
// differ from their ids.
func taskTargets(t client.Task) string {
	names := map[string]string{}
	for _, c := range t.RemoteClusters {
		names[c.ID] = c.Name
	}
	var out []string
	for _, id := range t.RemoteClusterIDs {
		if n := names[id]; n != "" && n != id {
			id += " (" + n + ")"
		}
		out = append(out, id)
	}
	return orDash(strings.Join(out, ", "))
}
