package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Grafana board (deploy/grafana/ferry.json) and the alerting rules
// (deploy/prometheus/ferry-rules.yml) may only query metrics the agents
// really export: checked against the families three real agents serve on
// /metrics once they have replicated (labelled vectors have series then).

var metricName = regexp.MustCompile(`\bferry_[a-z0-9_]+`)

// dashboardNames are the ferry_ names in every expr of the board's panels
// (rows' nested panels too).
func dashboardNames(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var names []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					names = append(names, metricName.FindAllString(s, -1)...)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(names) == 0 {
		t.Fatalf("%s: no ferry_ metric in any expr", path)
	}
	return names
}

// rulesNames are the ferry_ names anywhere in the rules file: exprs and the
// annotations that name metrics alike.
func rulesNames(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return metricName.FindAllString(string(b), -1)
}

var typeLine = regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)$`)

// exportedFamilies are the metric families the agents serve, with their type.
func exportedFamilies(t *testing.T, nodes []*node) map[string]string {
	out := map[string]string{}
	for _, n := range nodes {
		for _, m := range typeLine.FindAllStringSubmatch(scrape(t, n), -1) {
			out[m[1]] = m[2]
		}
	}
	return out
}

// unknownNames are the names no family exports; a histogram's or a
// summary's _bucket, _sum and _count series are its family's.
func unknownNames(names []string, families map[string]string) []string {
	var out []string
	for _, name := range names {
		if _, ok := families[name]; ok {
			continue
		}
		known := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base, cut := strings.CutSuffix(name, suffix)
			if typ := families[base]; cut && (typ == "histogram" || typ == "summary") {
				known = true
			}
		}
		if !known && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func deployNamesExported(t *testing.T, nodes []*node) {
	files := map[string][]string{
		"deploy/grafana/ferry.json":         dashboardNames(t, "../deploy/grafana/ferry.json"),
		"deploy/prometheus/ferry-rules.yml": rulesNames(t, "../deploy/prometheus/ferry-rules.yml"),
	}
	eventually(t, 30*time.Second, "every metric the deploy files name is exported", func() error {
		families := exportedFamilies(t, nodes)
		var bad []string
		for file, names := range files {
			if u := unknownNames(names, families); len(u) > 0 {
				bad = append(bad, fmt.Sprintf("%s names metrics no agent exports: %s", file, strings.Join(u, ", ")))
			}
		}
		if len(bad) > 0 {
			slices.Sort(bad)
			return fmt.Errorf("%s", strings.Join(bad, "; "))
		}
		return nil
	})
}
