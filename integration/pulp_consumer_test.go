package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Consumers are places in regions: a unit installed on a consumer of
// another region is copied there by Ferry's data plane.
func TestPulpConsumersInstallContentInTheirRegion(t *testing.T) {
	nodes := replicationGroup(t)
	a := follower(t, nodes)
	b := otherThan(nodes, a)
	pulpOK(t, a, "POST", "/repositories/", `{"id": "isos", "distributors": [{"distributor_type_id": "iso_distributor", "distributor_id": "iso"}]}`, 201, nil)
	putFile(t, a, "pulp", "isos", "/1.iso", readAllPatterned(11, 100<<10), nil)
	putFile(t, a, "pulp", "isos", "/2.iso", []byte("two"), nil)

	// Register: the region is the ferry.cluster note's.
	var created struct {
		Consumer struct {
			ID    string            `json:"id"`
			Href  string            `json:"_href"`
			Notes map[string]string `json:"notes"`
		} `json:"consumer"`
		Certificate *string `json:"certificate"`
	}
	pulpOK(t, a, "POST", "/consumers/", `{"id": "web-1", "display_name": "web 1", "notes": {"ferry.cluster": "`+b.id()+`"}}`, 201, &created)
	if created.Consumer.ID != "web-1" || created.Consumer.Href != "/pulp/api/v2/consumers/web-1/" || created.Certificate != nil {
		t.Fatalf("registered %+v", created)
	}
	pulpFails(t, a, "POST", "/consumers/", mgmtToken, `{"id": "web-1"}`, 409, "PLP0018")
	pulpFails(t, a, "POST", "/consumers/", mgmtToken, `{"display_name": "x"}`, 400, "PLP0016")
	pulpFails(t, a, "POST", "/consumers/", mgmtToken, `{"id": "a b"}`, 400, "PLP0015")
	pulpFails(t, a, "POST", "/consumers/", mgmtToken, `{"id": "x", "notes": "n"}`, 400, "PLP0015")
	pulpFails(t, a, "POST", "/consumers/", mgmtToken, `{"id": "x", "notes": {"ferry.cluster": "mars"}}`, 400, "PLP0015")
	pulpFails(t, a, "GET", "/consumers/nope/", mgmtToken, "", 404, "PLP0009")

	// Bind: notify_agent false answers 200 with the binding as the result.
	var bound struct {
		Result struct {
			RepoID string `json:"repo_id"`
			DistID string `json:"distributor_id"`
			Href   string `json:"_href"`
		} `json:"result"`
	}
	pulpOK(t, a, "POST", "/consumers/web-1/bindings/", `{"repo_id": "isos", "distributor_id": "iso", "notify_agent": false}`, 200, &bound)
	if bound.Result.RepoID != "isos" || bound.Result.Href != "/pulp/api/v2/consumers/web-1/bindings/isos/iso/" {
		t.Fatalf("bound %+v", bound)
	}
	pulpOK(t, a, "POST", "/consumers/web-1/bindings/", `{"repo_id": "isos", "distributor_id": "iso"}`, 202, nil) // idempotent
	if e := pulpFails(t, a, "POST", "/consumers/web-1/bindings/", mgmtToken, `{"repo_id": "nope", "distributor_id": "iso"}`, 400, "PLP0015"); fmt.Sprint(e.PropertyNames) != "[repo_id distributor_id]" {
		t.Errorf("bind to no repository: %v", e.PropertyNames)
	}
	pulpFails(t, a, "POST", "/consumers/nope/bindings/", mgmtToken, `{"repo_id": "isos", "distributor_id": "iso"}`, 404, "PLP0009")
	var bindings []map[string]any
	pulpOK(t, a, "GET", "/consumers/web-1/bindings/", "", 200, &bindings)
	if len(bindings) != 1 {
		t.Fatalf("bindings %v", bindings)
	}

	// Install (the seed's unit_keys spelling): the unit arrives in b's
	// repository of the same id, and nothing else.
	var report pulpTask
	pulpOK(t, a, "POST", "/consumers/web-1/actions/content/install/", `{"units": [{"type_id": "iso", "unit_keys": {"name": "1.iso"}}], "options": {}}`, 202, &report)
	if task := pulpWait(t, a, report.Spawned[0].TaskID); task.State != "finished" || fmt.Sprint(task.Tags) != "[pulp:consumer:web-1 pulp:action:unit_install]" {
		t.Fatalf("install %+v", task)
	}
	if got := getFile(t, b, "pulp", "isos", "/1.iso"); string(got) != string(readAllPatterned(11, 100<<10)) {
		t.Fatalf("1.iso on %s: %d bytes", b.id(), len(got))
	}
	if r := call(t, "GET", b.url()+"/generic/pulp/isos/2.iso", mgmtToken, nil); r.status != http.StatusNotFound {
		t.Fatalf("2.iso on %s: %d", b.id(), r.status)
	}
	// A unit no bound repository holds fails the task.
	pulpOK(t, a, "POST", "/consumers/web-1/actions/content/update/", `{"units": [{"type_id": "iso", "unit_key": {"name": "9.iso"}}], "options": {}}`, 202, &report)
	if task := pulpWait(t, a, report.Spawned[0].TaskID); task.State != "error" || task.Error == nil || !strings.Contains(task.Error.Description, "9.iso") {
		t.Fatalf("install of a unit nobody holds %+v", task)
	}
	// Uninstall removes it there.
	pulpOK(t, a, "POST", "/consumers/web-1/actions/content/uninstall/", `{"units": [{"type_id": "iso", "unit_key": {"name": "1.iso"}}], "options": {}}`, 202, &report)
	if task := pulpWait(t, a, report.Spawned[0].TaskID); task.State != "finished" {
		t.Fatalf("uninstall %+v", task)
	}
	if r := call(t, "GET", b.url()+"/generic/pulp/isos/1.iso", mgmtToken, nil); r.status != http.StatusNotFound {
		t.Fatalf("1.iso on %s after the uninstall: %d", b.id(), r.status)
	}
	pulpFails(t, a, "POST", "/consumers/web-1/actions/content/install/", mgmtToken, `{"units": []}`, 400, "PLP0016")
	pulpFails(t, a, "POST", "/consumers/web-1/actions/content/install/", mgmtToken, `{"units": "x", "options": {}}`, 400, "PLP0015")
	if status, _, _ := pulpCall(t, a, "POST", "/consumers/web-1/actions/content/explode/", mgmtToken, `{"units": [], "options": {}}`); status != 400 {
		t.Fatalf("an unknown action: %d", status)
	}

	// A consumer of this region: its units are there already.
	pulpOK(t, a, "POST", "/consumers/", `{"id": "local-1"}`, 201, nil)
	pulpOK(t, a, "POST", "/consumers/local-1/bindings/", `{"repo_id": "isos", "distributor_id": "iso", "notify_agent": false}`, 200, nil)
	pulpOK(t, a, "POST", "/consumers/local-1/actions/content/install/", `{"units": [{"type_id": "iso", "unit_key": {"name": "2.iso"}}], "options": {}}`, 202, &report)
	if task := pulpWait(t, a, report.Spawned[0].TaskID); task.State != "finished" {
		t.Fatalf("install in the consumer's own region %+v", task)
	}

	// Unbind, update, delete.
	pulpOK(t, a, "DELETE", "/consumers/web-1/bindings/isos/iso/", "", 200, nil)
	pulpFails(t, a, "GET", "/consumers/web-1/bindings/isos/iso/", mgmtToken, "", 404, "PLP0009")
	var c struct {
		DisplayName string `json:"display_name"`
	}
	pulpOK(t, a, "PUT", "/consumers/web-1/", `{"delta": {"display_name": "web one"}}`, 200, &c)
	if c.DisplayName != "web one" {
		t.Fatalf("updated %+v", c)
	}
	if status, raw, _ := pulpCall(t, a, "DELETE", "/consumers/web-1/", mgmtToken, ""); status != 200 || strings.TrimSpace(string(raw)) != "null" {
		t.Fatalf("delete: %d %s", status, raw)
	}
	pulpFails(t, a, "GET", "/consumers/web-1/", mgmtToken, "", 404, "PLP0009")
}
