package integration

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Package units: a consumer of another region installs a package of its
// bound repository by name (the latest version) or by name and version;
// the versions' records and files arrive in its region, beside the file
// units of the same action; an uninstall removes them there.
func TestPulpConsumersInstallPackages(t *testing.T) {
	nodes := replicationGroup(t)
	a := follower(t, nodes)
	b := otherThan(nodes, a)
	pulpOK(t, a, "POST", "/repositories/", `{"id": "pkgs", "distributors": [{"distributor_type_id": "iso_distributor", "distributor_id": "iso"}]}`, 201, nil)
	const key = "npm://@ferry/tool" // its name is @ferry/tool
	for _, v := range []string{"1.0", "2.0"} {
		for _, f := range []string{"tool-" + v + ".tgz", "tool-" + v + ".sig"} {
			putFile(t, a, "pulp", "pkgs", "/tool/"+f, []byte(f), nil)
		}
		putVersion(t, a, "pkgs", key, v, "/tool/tool-"+v+".tgz", "/tool/tool-"+v+".sig")
	}
	putFile(t, a, "pulp", "pkgs", "/readme.iso", []byte("readme"), nil)
	pulpOK(t, a, "POST", "/consumers/", `{"id": "web-2", "notes": {"ferry.cluster": "`+b.id()+`"}}`, 201, nil)
	pulpOK(t, a, "POST", "/consumers/web-2/bindings/", `{"repo_id": "pkgs", "distributor_id": "iso", "notify_agent": false}`, 200, nil)

	// By name: the latest version, in the same task as a file unit.
	content(t, a, "install", `[{"type_id": "npm", "unit_key": {"name": "@ferry/tool"}}, {"type_id": "iso", "unit_key": {"name": "readme.iso"}}]`, "finished")
	wantVersion(t, b, "pkgs", key, "2.0", "/tool/tool-2.0.sig", "/tool/tool-2.0.tgz")
	wantVersion(t, b, "pkgs", key, "1.0")
	if got := getFile(t, b, "pulp", "pkgs", "/readme.iso"); string(got) != "readme" {
		t.Fatalf("readme.iso on %s: %q", b.id(), got)
	}
	// By name and version; a version the repository lacks fails the task.
	content(t, a, "update", `[{"type_id": "npm", "unit_key": {"name": "@ferry/tool", "version": "1.0"}}]`, "finished")
	wantVersion(t, b, "pkgs", key, "1.0", "/tool/tool-1.0.sig", "/tool/tool-1.0.tgz")
	if e := content(t, a, "install", `[{"type_id": "npm", "unit_key": {"name": "@ferry/tool", "version": "9.9"}}]`, "error"); !strings.Contains(e, "npm:@ferry/tool 9.9") {
		t.Fatalf("install of a missing version: %q", e)
	}

	// Uninstall by name and version removes that one; by name, every other.
	content(t, a, "uninstall", `[{"type_id": "npm", "unit_key": {"name": "@ferry/tool", "version": "2.0"}}]`, "finished")
	wantVersion(t, b, "pkgs", key, "2.0")
	wantVersion(t, b, "pkgs", key, "1.0", "/tool/tool-1.0.sig", "/tool/tool-1.0.tgz")
	content(t, a, "uninstall", `[{"type_id": "npm", "unit_key": {"name": "@ferry/tool"}}]`, "finished")
	wantVersion(t, b, "pkgs", key, "1.0")
	for _, f := range []string{"/tool/tool-1.0.tgz", "/tool/tool-2.0.tgz"} {
		if r := call(t, "GET", b.url()+"/generic/pulp/pkgs"+f, mgmtToken, nil); r.status != http.StatusNotFound {
			t.Fatalf("%s on %s after the uninstall: %d", f, b.id(), r.status)
		}
	}
	// The bound repository keeps its packages.
	wantVersion(t, a, "pkgs", key, "2.0", "/tool/tool-2.0.sig", "/tool/tool-2.0.tgz")
}

func putVersion(t *testing.T, n *node, repo, key, version string, paths ...string) {
	t.Helper()
	mustStatus(t, call(t, "POST", n.url()+"/v1/projects/pulp/repos/"+repo+"/packages", mgmtToken, map[string]any{
		"packageKey": key, "version": version, "paths": paths}), 200, "put version "+version)
}

// content asks a content action of web-2 and waits for its task's state:
// the answer is the task's error, if any.
func content(t *testing.T, n *node, action, units, state string) string {
	t.Helper()
	var report pulpTask
	pulpOK(t, n, "POST", "/consumers/web-2/actions/content/"+action+"/", `{"units": `+units+`, "options": {}}`, 202, &report)
	task := pulpWait(t, n, report.Spawned[0].TaskID)
	e := ""
	if task.Error != nil {
		e = task.Error.Description
	}
	if task.State != state {
		t.Fatalf("%s %s: %s (%s), want %s", action, units, task.State, e, state)
	}
	return e
}

// wantVersion checks the node's version: its paths, each a file there;
// none means the version must not be there.
func wantVersion(t *testing.T, n *node, repo, key, version string, paths ...string) {
	t.Helper()
	q := url.Values{"packageKey": {key}, "version": {version}}
	r := call(t, "GET", n.url()+"/v1/projects/pulp/repos/"+repo+"/packages/version?"+q.Encode(), mgmtToken, nil)
	if len(paths) == 0 {
		if r.status != http.StatusNotFound {
			t.Fatalf("%s %s on %s: %d, want 404", key, version, n.id(), r.status)
		}
		return
	}
	var v struct {
		Paths []string `json:"paths"`
	}
	r.decode(t, &v)
	if fmt.Sprint(v.Paths) != fmt.Sprint(paths) {
		t.Fatalf("%s %s on %s: paths %v, want %v", key, version, n.id(), v.Paths, paths)
	}
	for _, p := range paths {
		getFile(t, n, "pulp", repo, p)
	}
}
