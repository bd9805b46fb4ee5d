package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// promtool is Prometheus's own checker (Debian's prometheus package); CI
// installs it and sets FERRY_REQUIRE_TOOLS, a developer's machine may not
// have it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("FERRY_REQUIRE_TOOLS") != "" {
			t.Fatal("promtool is required: apt-get install prometheus")
		}
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	return p
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestRulesCheck(t *testing.T) {
	runPromtool(t, "check", "rules", "prometheus/ferry-rules.yml")
}

// TestRulesUnitTests runs the rules' unit tests: alerts firing (and not)
// on synthetic series.
func TestRulesUnitTests(t *testing.T) {
	runPromtool(t, "test", "rules", "prometheus/ferry-rules.test.yml")
}

// TestRulesHaveRunbooks: every alert says what to look at and do.
func TestRulesHaveRunbooks(t *testing.T) {
	b, err := os.ReadFile("prometheus/ferry-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	alerts := strings.Count(string(b), "- alert: ")
	for _, key := range []string{"summary: ", "runbook: "} {
		if n := strings.Count(string(b), "          "+key); n != alerts || alerts == 0 {
			t.Errorf("%d alerts, %d with %s", alerts, n, key)
		}
	}
}

// TestDashboardQueriesParse checks every expr of the board with promtool,
// as recording rules: Grafana's $__rate_interval stands for a range.
func TestDashboardQueriesParse(t *testing.T) {
	bin := promtool(t)
	d := readBoard(t)
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	var add func(ps []panel)
	add = func(ps []panel) {
		for _, p := range ps {
			for i, tg := range p.Targets {
				expr, _ := json.Marshal(strings.ReplaceAll(tg.Expr, "$__rate_interval", "5m"))
				fmt.Fprintf(&rules, "      - record: dashboard:panel_%d_%d\n        expr: %s\n", p.ID, i, expr)
			}
			add(p.Panels)
		}
	}
	add(d.Panels)
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("a query of grafana/ferry.json does not parse: %v\n%s", err, out)
	}
}
