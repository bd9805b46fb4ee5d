package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ferry task create / ls / show / disable / enable / copy / run / rm, through
// beijing, for a task that replicates shanghai's repository to beijing.
func TestTaskCLI(t *testing.T) {
	bin := ferryBinary(t)
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	makeRepo(t, sh.url(), "", "demo", "files", "GENERIC")
	for i := range 3 {
		putFile(t, sh, "demo", "files", fmt.Sprintf("/dir/f%d", i), readAllPatterned(uint64(i), 50<<10), nil)
	}
	via := []string{"--address", bj.a.HTTPAddr(), "--token", mgmtToken}
	ferry := func(code int, args ...string) string {
		t.Helper()
		return runFerry(t, bin, code, append(args, via...)...)
	}
	taskKey := regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	runID := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`)
	succeeded := func(key string) {
		t.Helper()
		eventually(t, 60*time.Second, "task "+key+" succeeded", func() error {
			if show := ferry(0, "task", "show", key); !regexp.MustCompile(`(?m)^Last run: +SUCCESS at `).MatchString(show) {
				return fmt.Errorf("ferry task show:\n%s", show)
			}
			return nil
		})
	}

	file := filepath.Join(t.TempDir(), "task.yaml")
	if err := os.WriteFile(file, []byte(`# replicate demo/files from shanghai to beijing, now
name: cli-nightly
description: made by the CLI test
localProjectId: demo
sourceClusterId: shanghai
replicaObjectType: REPOSITORY
replicaTaskObjects:
  - localRepoName: files
    repoType: GENERIC
replicaType: SCHEDULED
remoteClusterIds: [beijing]
setting:
  conflictStrategy: SKIP
  executionStrategy: IMMEDIATELY
  executionPlan: {executeImmediately: true}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := ferry(0, "task", "create", "-f", file)
	key := taskKey.FindString(out)
	if key == "" || strings.TrimSpace(out) != key {
		t.Fatalf("ferry task create printed %q, want the task key alone", out)
	}
	succeeded(key)
	if err := sameTree(tree(t, sh, "demo", "files"), tree(t, bj, "demo", "files")); err != nil {
		t.Fatal(err)
	}
	show := ferry(0, "task", "show", key)
	for _, want := range []string{"Name:        cli-nightly", "Enabled:     yes", "Schedule:    SCHEDULED, IMMEDIATELY", "(1 execution)",
		"Source:      project demo on shanghai, REPOSITORY", "Repos:       files -> demo/files (GENERIC)", "Targets:     beijing (Region beijing)"} {
		if !strings.Contains(show, want) {
			t.Fatalf("ferry task show lacks %q:\n%s", want, show)
		}
	}
	ls := ferry(0, "task", "ls", "--project", "demo")
	if !regexp.MustCompile(`(?m)^` + key + ` +cli-nightly +demo +SCHEDULED +IMMEDIATELY +yes +SUCCESS .* 1$`).MatchString(ls) {
		t.Fatalf("ferry task ls:\n%s", ls)
	}
	if ls := ferry(0, "task", "ls", "--project", "elsewhere"); strings.Contains(ls, key) {
		t.Fatalf("ferry task ls --project elsewhere:\n%s", ls)
	}

	// disable / enable, as show and the --enabled filter see them.
	if out := ferry(0, "task", "disable", key); !strings.Contains(out, "disabled") {
		t.Fatalf("ferry task disable: %s", out)
	}
	if show := ferry(0, "task", "show", key); !strings.Contains(show, "Enabled:     no") {
		t.Fatalf("show after disable:\n%s", show)
	}
	if ls := ferry(0, "task", "ls", "--enabled", "false"); !strings.Contains(ls, key) {
		t.Fatalf("ferry task ls --enabled false:\n%s", ls)
	}
	if ls := ferry(0, "task", "ls", "--enabled", "true"); strings.Contains(ls, key) {
		t.Fatalf("ferry task ls --enabled true lists the disabled task:\n%s", ls)
	}
	if out := ferry(0, "task", "enable", key); !strings.Contains(out, "enabled") {
		t.Fatalf("ferry task enable: %s", out)
	}
	if show := ferry(0, "task", "show", key); !strings.Contains(show, "Enabled:     yes") {
		t.Fatalf("show after enable:\n%s", show)
	}

	// copy: a new task doing the same, disabled and never run; enabled, an
	// IMMEDIATELY task runs.
	out = ferry(0, "task", "copy", key, "--name", "cli-copy", "--description", "the copy")
	dup := taskKey.FindString(out)
	if dup == "" || dup == key {
		t.Fatalf("ferry task copy printed %q", out)
	}
	if show := ferry(0, "task", "show", dup); !strings.Contains(show, "Enabled:     no") || !strings.Contains(show, "(0 executions)") {
		t.Fatalf("ferry task show of the new copy:\n%s", show)
	}
	ferry(0, "task", "enable", dup)
	succeeded(dup)
	if show := ferry(0, "task", "show", dup); !strings.Contains(show, "Name:        cli-copy") || !strings.Contains(show, "Description: the copy") ||
		!strings.Contains(show, "Targets:     beijing") {
		t.Fatalf("ferry task show of the copy:\n%s", show)
	}
	if ls := ferry(0, "task", "ls", "--name", "cli-", "--status", "success"); !strings.Contains(ls, key) || !strings.Contains(ls, dup) {
		t.Fatalf("ferry task ls --name cli-:\n%s", ls)
	}

	// run --watch replicates what is new and exits 0 when the run succeeds.
	putFile(t, sh, "demo", "files", "/dir/new", []byte("new since the first run"), nil)
	out = ferry(0, "task", "run", key, "--watch")
	id := runID.FindString(out)
	if id == "" || !strings.Contains(out, "run "+id+" SUCCESS") {
		t.Fatalf("ferry task run --watch:\n%s", out)
	}
	if err := sameTree(tree(t, sh, "demo", "files"), tree(t, bj, "demo", "files")); err != nil {
		t.Fatal(err)
	}
	show = ferry(0, "task", "show", key, "--runs")
	if !strings.Contains(show, "(2 executions)") || !regexp.MustCompile(`(?m)^`+id+` +SUCCESS +shanghai +beijing `).MatchString(show) {
		t.Fatalf("ferry task show --runs:\n%s", show)
	}

	// rm: the task is gone, its copy is not.
	if out := ferry(0, "task", "rm", key); !strings.Contains(out, "deleted") {
		t.Fatalf("ferry task rm: %s", out)
	}
	if out := ferry(1, "task", "show", key); !strings.Contains(out, "404") || !strings.Contains(out, "not found") {
		t.Fatalf("ferry task show of a deleted task:\n%s", out)
	}
	if ls := ferry(0, "task", "ls"); strings.Contains(ls, key) || !strings.Contains(ls, dup) {
		t.Fatalf("ferry task ls after rm:\n%s", ls)
	}
	ferry(1, "task", "run", key)
}
