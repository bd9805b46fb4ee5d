package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A consumer's content schedules install, update and uninstall units in its
// region at their slots, counted and disabled as Pulp's ScheduledCalls are.
func TestPulpConsumerContentSchedules(t *testing.T) {
	nodes := replicationGroup(t)
	a := follower(t, nodes)
	b := otherThan(nodes, a)
	pulpOK(t, a, "POST", "/repositories/", `{"id": "isos", "distributors": [{"distributor_type_id": "iso_distributor", "distributor_id": "iso"}]}`, 201, nil)
	putFile(t, a, "pulp", "isos", "/1.iso", []byte("one"), nil)
	pulpOK(t, a, "POST", "/consumers/", `{"id": "web", "notes": {"ferry.cluster": "`+b.id()+`"}}`, 201, nil)
	pulpOK(t, a, "POST", "/consumers/web/bindings/", `{"repo_id": "isos", "distributor_id": "iso", "notify_agent": false}`, 200, nil)
	install := "/consumers/web/schedules/content/install/"

	// Refusals in Pulp's order: unknown keys, the consumer, the values, then
	// the units.
	pulpFails(t, a, "POST", "/consumers/nope/schedules/content/install/", mgmtToken, `{"schedule": "PT1H", "x": 1}`, 400, "PLP0017")
	if e := pulpFails(t, a, "POST", "/consumers/nope/schedules/content/install/", mgmtToken, `{"schedule": "bad"}`, 404, "PLP0009"); fmt.Sprint(e.Error.Data) != "map[resources:map[consumer:nope]]" {
		t.Errorf("missing consumer: %v", e.Error.Data)
	}
	if e := pulpFails(t, a, "POST", install, mgmtToken, `{"failure_threshold": 0, "units": []}`, 400, "PLP0015"); fmt.Sprint(e.PropertyNames) != "[schedule failure_threshold]" {
		t.Errorf("bad values: %v", e.PropertyNames)
	}
	pulpFails(t, a, "POST", install, mgmtToken, `{"schedule": "PT1H"}`, 400, "PLP0016")
	pulpFails(t, a, "POST", install, mgmtToken, `{"schedule": "PT1H", "units": []}`, 400, "PLP0016")
	if status, _, _ := pulpCall(t, a, "POST", "/consumers/web/schedules/content/explode/", mgmtToken, `{"schedule": "PT1H"}`); status != http.StatusBadRequest {
		t.Errorf("an unknown action: %d", status)
	}
	pulpFails(t, a, "GET", "/consumers/nope/schedules/content/install/", mgmtToken, "", 404, "PLP0009")

	// A slot long due fires once: 1.iso arrives in b's repository, and R1
	// leaves no runs.
	status, raw, _ := pulpCall(t, a, "POST", install, mgmtToken, `{"schedule": "R1/2020-01-01T00:00:00Z/PT1H", "units": [{"type_id": "iso", "unit_keys": {"name": "1.iso"}}]}`)
	var sc struct {
		pulpSchedule
		Task     string            `json:"task"`
		Args     []string          `json:"args"`
		Resource string            `json:"resource"`
		Units    []json.RawMessage `json:"units"`
		Options  map[string]any    `json:"options"`
	}
	if status != http.StatusCreated || json.Unmarshal(raw, &sc) != nil || sc.Task != "pulp.server.tasks.consumer.install_content" || fmt.Sprint(sc.Args) != "[web]" ||
		sc.Resource != "pulp:consumer:web" || len(sc.Units) != 1 || string(sc.Units[0]) != `{"type_id":"iso","unit_key":{"name":"1.iso"}}` || sc.Options == nil ||
		sc.Href != "/pulp/api/v2"+install+sc.ID+"/" || !strings.Contains(string(sc.Kwargs), `"units":[{"type_id":"iso","unit_key":{"name":"1.iso"}}]`) {
		t.Fatalf("create: %d %s", status, raw)
	}
	created := keysOf(t, raw)
	eventually(t, 30*time.Second, "1.iso installed in "+b.id(), func() error {
		if r := call(t, "GET", b.url()+"/generic/pulp/isos/1.iso", mgmtToken, nil); r.status != http.StatusOK || string(r.body) != "one" {
			return fmt.Errorf("%d", r.status)
		}
		return nil
	})
	eventually(t, 30*time.Second, "the install task finished", func() error {
		var tasks []pulpTask
		pulpOK(t, a, "GET", "/tasks/?tag=pulp:consumer:web&tag=pulp:action:unit_install", "", 200, &tasks)
		if len(tasks) != 1 || tasks[0].State != "finished" {
			return fmt.Errorf("%+v", tasks)
		}
		return nil
	})
	pulpOK(t, a, "GET", install+sc.ID+"/", "", 200, &sc)
	if sc.TotalRunCount != 1 || sc.RemainingRuns == nil || *sc.RemainingRuns != 0 || sc.Enabled || sc.LastRunAt == nil {
		t.Fatalf("after its one run %+v", sc.pulpSchedule)
	}

	// Collections are per action; every answer has the create's keys.
	var list []map[string]any
	pulpOK(t, a, "GET", "/consumers/web/schedules/content/update/", "", 200, &list)
	if len(list) != 0 {
		t.Fatalf("the update collection shows %v", list)
	}
	pulpFails(t, a, "GET", "/consumers/web/schedules/content/update/"+sc.ID+"/", mgmtToken, "", 404, "PLP0009")
	pulpOK(t, a, "GET", install, "", 200, &list)
	if listed, _ := json.Marshal(list[0]); len(list) != 1 || fmt.Sprint(keysOf(t, listed)) != fmt.Sprint(created) {
		t.Fatalf("list %v, create keys %v", list, created)
	}

	// PUT: units alone keep the options (the seed's merge), remaining_runs
	// is settable, values are validated as a create's.
	pulpOK(t, a, "PUT", install+sc.ID+"/", `{"options": {"reboot": true}}`, 200, nil)
	_, raw, _ = pulpCall(t, a, "PUT", install+sc.ID+"/", mgmtToken, `{"units": [{"type_id": "iso", "unit_key": {"name": "2.iso"}}], "remaining_runs": 2}`)
	if json.Unmarshal(raw, &sc) != nil || sc.Options["reboot"] != true || string(sc.Units[0]) != `{"type_id":"iso","unit_key":{"name":"2.iso"}}` || *sc.RemainingRuns != 2 {
		t.Fatalf("updated %s", raw)
	}
	if e := pulpFails(t, a, "PUT", install+sc.ID+"/", mgmtToken, `{"schedule": "R0/PT1H"}`, 400, "PLP0015"); fmt.Sprint(e.PropertyNames) != "[schedule]" {
		t.Errorf("bad schedule: %v", e.PropertyNames)
	}
	pulpFails(t, a, "PUT", install+sc.ID+"/", mgmtToken, `{"units": []}`, 400, "PLP0015")

	// An update of a unit nobody holds fails; failure_threshold 1 disables
	// the schedule after it.
	var failing pulpSchedule
	pulpOK(t, a, "POST", "/consumers/web/schedules/content/update/", `{"schedule": "PT1H", "failure_threshold": 1, "units": [{"type_id": "iso", "unit_key": {"name": "9.iso"}}]}`, 201, &failing)
	eventually(t, 30*time.Second, "the failing schedule disabled", func() error {
		pulpOK(t, a, "GET", "/consumers/web/schedules/content/update/"+failing.ID+"/", "", 200, &failing)
		if failing.Enabled || failing.ConsecutiveFailures != 1 {
			return fmt.Errorf("enabled %v, %d failures", failing.Enabled, failing.ConsecutiveFailures)
		}
		return nil
	})

	// Uninstall at its slot removes the unit there.
	pulpOK(t, a, "POST", "/consumers/web/schedules/content/uninstall/", `{"schedule": "R1/2020-01-01T00:00:00Z/PT1H", "units": [{"type_id": "iso", "unit_key": {"name": "1.iso"}}], "options": {}}`, 201, nil)
	eventually(t, 30*time.Second, "1.iso uninstalled from "+b.id(), func() error {
		if r := call(t, "GET", b.url()+"/generic/pulp/isos/1.iso", mgmtToken, nil); r.status != http.StatusNotFound {
			return fmt.Errorf("%d", r.status)
		}
		return nil
	})

	// DELETE: 200 null; the consumer's delete takes its schedules.
	if status, raw, _ := pulpCall(t, a, "DELETE", install+sc.ID+"/", mgmtToken, ""); status != http.StatusOK || string(raw) != "null\n" {
		t.Fatalf("delete: %d %q", status, raw)
	}
	pulpFails(t, a, "DELETE", install+sc.ID+"/", mgmtToken, "", 404, "PLP0009")
	pulpOK(t, a, "DELETE", "/consumers/web/", "", 200, nil)
	pulpOK(t, a, "POST", "/consumers/", `{"id": "web", "notes": {"ferry.cluster": "`+b.id()+`"}}`, 201, nil)
	pulpOK(t, a, "GET", "/consumers/web/schedules/content/update/", "", 200, &list)
	if len(list) != 0 {
		t.Fatalf("schedules of a deleted consumer: %v", list)
	}
}

// otherThan is a node of nodes that is not n.
func otherThan(nodes []*node, n *node) *node {
	for _, m := range nodes {
		if m != n {
			return m
		}
	}
	return nil
}
