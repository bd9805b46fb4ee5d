package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferrysync/ferry/client"
)

// processed is what a target is through with: arrived, skipped or failed.
func processed(t client.RunTarget) (objects, bytes int64) {
	return t.ObjectsDone + t.ObjectsSkipped + t.ObjectsFailed, t.BytesDone + t.BytesSkipped + t.BytesFailed
}

// writeRunTable writes the table of ferry run ls (first is the name of the
// id column); now is the clock for the duration of runs still going.
func writeRunTable(out io.Writer, first string, runs []client.Run, now time.Time) error {
	rows := make([]string, len(runs))
	for i, r := range runs {
		rows[i] = runRow(r, now)
	}
	return writeTable(out, first+"\tSTATE\tEXECUTOR\tTARGETS\tOBJECTS\tBYTES\tCREATED\tDURATION", rows)
}

// runRow is one tab-separated line of ferry run ls; now is the clock for
// the duration of runs still going.
func runRow(r client.Run, now time.Time) string {
	var targets []string
	var objDone, objTotal, bDone, bTotal int64
	for _, t := range r.Targets {
		targets = append(targets, t.ClusterID)
		o, b := processed(t)
		objDone, objTotal, bDone, bTotal = objDone+o, objTotal+t.ObjectsTotal, bDone+b, bTotal+t.BytesTotal
	}
	if len(targets) == 0 {
		targets = r.Spec.RemoteClusterIDs
	}
	return strings.Join([]string{
		r.ID, r.State, orDash(r.ExecutorClusterID), orDash(strings.Join(targets, ",")),
		fmt.Sprintf("%d/%d", objDone, objTotal), formatSize(bDone) + "/" + formatSize(bTotal),
		formatTime(r.CreatedAt, "2006-01-02 15:04"), runDuration(r, now),
	}, "\t")
}

// runDuration is how long the run took, or has been going at now; "-"
// before it started.
func runDuration(r client.Run, now time.Time) string {
	if r.StartedAt.IsZero() {
		return "-"
	}
	end := r.FinishedAt
	if end.IsZero() {
		if r.Finished() {
			return "-"
		}
		end = now
	}
	return formatDuration(max(end.Sub(r.StartedAt), 0))
}

// printRun prints a run's details and a table of its targets.
func printRun(out io.Writer, r client.Run, now time.Time) error {
	const ts = "2006-01-02 15:04:05"
	d := &details{width: 10}
	state := r.State
	if r.CancelRequested && !r.Finished() {
		state += " (cancel requested)"
	}
	trigger := orDash(r.Trigger)
	if r.TaskKey != "" {
		trigger += " (task " + r.TaskKey + ")"
	}
	d.line("Run", r.ID)
	d.line("State", state)
	d.line("Trigger", trigger)
	d.line("Created", formatTime(r.CreatedAt, ts)+" by "+orDash(r.CreatedBy))
	d.line("Started", formatTime(r.StartedAt, ts))
	d.line("Finished", formatTime(r.FinishedAt, ts))
	d.line("Duration", runDuration(r, now))
	d.line("Executor", orDash(r.ExecutorClusterID))
	s := r.Spec
	d.line("Source", sourceText(s.LocalProjectID, s.SourceClusterID, s.ReplicaObjectType))
	d.repos(s.LocalProjectID, s.ReplicaTaskObjects)
	d.line("Targets", orDash(strings.Join(s.RemoteClusterIDs, ", ")))
	d.line("Setting", settingText(s.Setting))
	if r.Error != "" {
		d.line("Error", oneLine(r.Error))
	}
	if err := d.writeTo(out); err != nil || len(r.Targets) == 0 {
		return err
	}
	fmt.Fprintln(out)
	rows := make([]string, len(r.Targets))
	for i, t := range r.Targets {
		rows[i] = targetRow(t)
	}
	return writeTable(out, "TARGET\tSTATE\tPROGRESS\tOBJECTS\tDONE\tSKIPPED\tFAILED\tCONFLICTS\tBYTES\tSENT\tRATE\tERROR", rows)
}

// targetRow is one tab-separated line of the targets of ferry run show.
func targetRow(t client.RunTarget) string {
	v := viewTarget(t)
	rate := "-"
	if t.State == client.RunRunning {
		rate = formatSize(t.BytesPerSecond) + "/s"
	}
	return fmt.Sprintf("%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s", t.ClusterID, t.State, strings.TrimSpace(v.pct),
		t.ObjectsTotal, t.ObjectsDone, t.ObjectsSkipped, t.ObjectsFailed, t.Conflicts,
		v.bytes, formatSize(t.BytesSent), rate, orDash(oneLine(t.Error)))
}

// writeObjectTable writes the objects of ferry run show --objects.
func writeObjectTable(out io.Writer, objects []client.RunObject) error {
	rows := make([]string, len(objects))
	for i, o := range objects {
		pkg := o.PackageKey
		if pkg != "" && o.Version != "" {
			pkg += "@" + o.Version
		}
		rows[i] = strings.Join([]string{o.Target, o.Status, orDash(o.Action), o.Path, orDash(pkg), formatSize(o.Size),
			formatTime(o.Time, "2006-01-02 15:04:05"), orDash(oneLine(o.Error))}, "\t")
	}
	return writeTable(out, "TARGET\tSTATUS\tACTION\tPATH\tPACKAGE\tSIZE\tTIME\tERROR", rows)
}

// sourceText is "project P on C, TYPE": where a spec's objects come from.
func sourceText(project, cluster, objectType string) string {
	source := "project " + project
	if cluster != "" {
		source += " on " + cluster
	}
	return source + ", " + orDash(objectType)
}

// settingText is "rate R, conflicts C, errors E, metadata yes|no", with the
// agent's defaults for what the setting leaves out.
func settingText(s client.RunSetting) string {
	rate := "unlimited"
	if s.RateLimit > 0 {
		rate = formatSize(s.RateLimit) + "/s per target"
	}
	return fmt.Sprintf("rate %s, conflicts %s, errors %s, metadata %s", rate,
		orDefault(s.ConflictStrategy, client.ConflictSkip), orDefault(s.ErrorStrategy, client.ErrorContinue), yesNo(s.Metadata()))
}

// replicaObjectText is "repo -> project/repo (TYPE) path /a package k=1,2":
// what a repository of a spec replicates where. The remote names default to
// the local ones.
func replicaObjectText(project string, o client.ReplicaObject) string {
	text := o.LocalRepoName + " -> " + orDefault(o.RemoteProjectID, project) + "/" + orDefault(o.RemoteRepoName, o.LocalRepoName)
	if o.RepoType != "" {
		text += " (" + o.RepoType + ")"
	}
	for _, p := range o.PathConstraints {
		text += " path " + p.Path
	}
	for _, p := range o.PackageConstraints {
		text += " package " + p.PackageKey
		if len(p.Versions) > 0 {
			text += "=" + strings.Join(p.Versions, ",")
		}
	}
	return text
}

// runOutcome is nil for a run that succeeded, otherwise an error saying how
// it ended and why.
func runOutcome(r client.Run) error {
	if r.State == client.RunSuccess {
		return nil
	}
	msg := oneLine(r.Error)
	if msg == "" {
		var errs []string
		for _, t := range r.Targets {
			if t.Error != "" {
				errs = append(errs, t.ClusterID+": "+oneLine(t.Error))
			}
		}
		msg = strings.Join(errs, "; ")
	}
	if msg == "" {
		return fmt.Errorf("run %s %s", r.ID, r.State)
	}
	return fmt.Errorf("run %s %s: %s", r.ID, r.State, msg)
}

// termWidth is the terminal's width from $COLUMNS, 80 without it.
func termWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

// runDisplay draws a run's progress: on a terminal redrawn in place (the
// header and a line per target), otherwise one line per update.
type runDisplay struct {
	out   io.Writer
	tty   bool
	width int
	lines int // lines drawn last on the terminal, to move back over
}

func (d *runDisplay) show(r client.Run) {
	if !d.tty {
		fmt.Fprintln(d.out, runLine(r))
		return
	}
	var b strings.Builder
	if d.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", d.lines) // back to the first line drawn
	}
	lines := renderRun(r, d.width)
	for _, l := range lines {
		b.WriteString("\r\x1b[2K" + l + "\n")
	}
	b.WriteString("\x1b[J") // clear below, should there have been more lines
	io.WriteString(d.out, b.String())
	d.lines = len(lines)
}

// renderRun is a run's progress for a terminal: a header, one line per
// target and the run's error if any, each cut to width columns (0: no limit)
// so that none wraps.
//
//	run 7d0c RUNNING  executor shanghai
//	  beijing    RUNNING  [==>                 ]  15%   160.0 MiB / 1.0 GiB  50.0 MiB/s  ETA 17s  10/64 objects
//	  guangzhou  SUCCESS  [====================] 100%     1.0 GiB / 1.0 GiB  64/64 objects, 54 skipped
func renderRun(r client.Run, width int) []string {
	lines := []string{runHeader(r)}
	nameWidth := 0
	for _, t := range r.Targets {
		nameWidth = max(nameWidth, utf8.RuneCountInString(t.ClusterID))
	}
	for _, t := range r.Targets {
		v := viewTarget(t)
		line := fmt.Sprintf("  %-*s  %-7s  [%s] %4s %21s", nameWidth, t.ClusterID, t.State, progressBar(v.frac), v.pct, v.bytes)
		if v.tail != "" {
			line += "  " + v.tail
		}
		lines = append(lines, line)
	}
	if r.Error != "" {
		lines = append(lines, "error: "+oneLine(r.Error))
	}
	for i, l := range lines {
		lines[i] = cut(l, width)
	}
	return lines
}

// runLine is a run's progress on one line, for output that is not a terminal.
func runLine(r client.Run) string {
	var parts []string
	for _, t := range r.Targets {
		v := viewTarget(t)
		p := t.ClusterID + " " + t.State + " " + strings.TrimSpace(v.pct) + " " + strings.ReplaceAll(v.bytes, " / ", "/")
		if v.tail != "" {
			p += " " + v.tail
		}
		parts = append(parts, p)
	}
	line := runHeader(r)
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, "; ")
	}
	if r.Error != "" {
		line += "; error: " + oneLine(r.Error)
	}
	return line
}

// runHeader is "run ID STATE" with the executor, a pending cancel and, once
// finished, how long the run took.
func runHeader(r client.Run) string {
	h := "run " + r.ID + " " + r.State
	if r.ExecutorClusterID != "" {
		h += "  executor " + r.ExecutorClusterID
	}
	if r.CancelRequested && !r.Finished() {
		h += "  cancel requested"
	}
	if r.Finished() && !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		h += "  in " + formatDuration(max(r.FinishedAt.Sub(r.StartedAt), 0))
	}
	return h
}

// targetView is the text of a target's progress.
type targetView struct {
	frac  float64 // 0 to 1
	pct   string  // " 16%", "100%", " --%" before the totals are known
	bytes string  // "160.0 MiB / 1.0 GiB", "-- / --" before the totals are known
	tail  string  // rate and ETA while running, objects, skips, failures, error
}

// viewTarget renders a target's counters. Progress counts what the target
// is through with (arrived, skipped or failed), in bytes when there are any,
// otherwise in objects. The ETA is what is left at the agent's current rate.
func viewTarget(t client.RunTarget) targetView {
	objects, bytesDone := processed(t)
	known := t.BytesTotal > 0 || t.ObjectsTotal > 0 || t.State == client.RunSuccess || t.State == client.RunFailed
	v := targetView{pct: " --%", bytes: "-- / --", tail: targetTail(t)}
	switch {
	case t.State == client.RunSuccess:
		v.frac = 1
	case t.BytesTotal > 0:
		v.frac = float64(bytesDone) / float64(t.BytesTotal)
	case t.ObjectsTotal > 0:
		v.frac = float64(objects) / float64(t.ObjectsTotal)
	}
	v.frac = min(max(v.frac, 0), 1)
	if known {
		v.pct = fmt.Sprintf("%3d%%", int(v.frac*100))
		v.bytes = formatSize(bytesDone) + " / " + formatSize(t.BytesTotal)
	}
	return v
}

// targetTail is a target's rate and ETA while it runs, its objects with
// skips, failures and conflicts, and its error.
func targetTail(t client.RunTarget) string {
	objects, _ := processed(t)
	var tail []string
	if t.State == client.RunRunning {
		tail = append(tail, formatSize(t.BytesPerSecond)+"/s", targetETA(t))
	}
	if t.ObjectsTotal > 0 || objects > 0 {
		o := fmt.Sprintf("%d/%d objects", objects, t.ObjectsTotal)
		for _, c := range []struct {
			n    int64
			what string
		}{{t.ObjectsSkipped, "skipped"}, {t.ObjectsFailed, "failed"}, {t.Conflicts, "conflicts"}} {
			if c.n > 0 {
				o += fmt.Sprintf(", %d %s", c.n, c.what)
			}
		}
		tail = append(tail, o)
	}
	if t.Error != "" {
		tail = append(tail, "error: "+oneLine(t.Error))
	}
	return strings.Join(tail, "  ")
}

// targetETA is "ETA 17s": the bytes left at the target's current rate.
func targetETA(t client.RunTarget) string {
	_, done := processed(t)
	left := t.BytesTotal - done
	switch {
	case t.BytesTotal <= 0:
		return "ETA --"
	case left <= 0:
		return "ETA 0s"
	case t.BytesPerSecond <= 0:
		return "ETA --"
	}
	secs := float64(left) / float64(t.BytesPerSecond)
	if secs > 1e9 { // beyond what a time.Duration holds, and meaningless
		return "ETA --"
	}
	return "ETA " + formatDuration(time.Duration(secs*float64(time.Second)))
}
