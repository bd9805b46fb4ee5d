package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunStartArgumentErrors(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(spec, []byte(`{"nope": 1}`), 0o666); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"run", "start"}, "--project is required"},
		{[]string{"run", "start", "-f", spec, "--to", "beijing"}, "-f and --to cannot be used together"},
		{[]string{"run", "start", "-f", spec}, `unknown field "nope"`},
		{[]string{"run", "start", "-f", spec + ".missing"}, "no such file"},
		{[]string{"run", "watch"}, "accepts 1 arg"},
	} {
		// The address is never dialed: each fails before any request.
		_, _, err := runFerry(t, append(tc.args, "--address", "127.0.0.1:1")...)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ferry %s = %v, want %q", strings.Join(tc.args, " "), err, tc.err)
		}
	}
}

// target is a RunTarget with bytes and objects counters.
