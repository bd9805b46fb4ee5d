package fsm

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestPulpRepoLifecycle(t *testing.T) {
	f, a := populated(t)
	repo := PulpRepo{Cluster: "shanghai", ID: "isos", Notes: map[string]json.RawMessage{"team": raw(`"ops"`)},
		Importer:     &PulpImporter{TypeID: PulpISOImporter, Config: map[string]json.RawMessage{"feed": raw(`"http://127.0.0.1:1/feed/"`)}},
		Distributors: []PulpDistributor{{ID: "dist", TypeID: PulpISODistributor, AutoPublish: true}}}
	mustApply(t, a, command(t, CmdPulpCreateRepo, t0, repo))
	if got, ok := f.PulpRepo("shanghai", "isos"); !ok || got.DisplayName != "isos" || !got.CreatedAt.Equal(t0) || got.Importer.LastUpdated != t0 {
		t.Fatalf("created %+v", got)
	}
	// The same id in another region is another repository; in the same one,
	// a duplicate.
	mustApply(t, a, command(t, CmdPulpCreateRepo, t0, PulpRepo{Cluster: "beijing", ID: "isos"}))
	if res := a.apply(t, command(t, CmdPulpCreateRepo, t0, PulpRepo{Cluster: "shanghai", ID: "isos"})); RuleOf(res.Err) != RuleDuplicate {
		t.Fatalf("duplicate: %v", res.Err)
	}
	for _, bad := range []PulpRepo{
		{Cluster: "shanghai", ID: "a b"}, {Cluster: "shanghai", ID: ""},
		{Cluster: "shanghai", ID: "x", Importer: &PulpImporter{TypeID: "yum_importer"}},
		{Cluster: "shanghai", ID: "x", Distributors: []PulpDistributor{{ID: "d", TypeID: "yum_distributor"}}},
	} {
		if res := a.apply(t, command(t, CmdPulpCreateRepo, t0, bad)); KindOf(res.Err) != KindInvalid {
			t.Errorf("%+v: %v", bad, res.Err)
		}
	}
	// Update merges notes and configs; a null removes the key.
	name := "ISOs"
	mustApply(t, a, command(t, CmdPulpUpdateRepo, t0, PulpRepoUpdate{Cluster: "shanghai", ID: "isos", DisplayName: &name, Description: raw(`"d"`),
		Notes:              map[string]json.RawMessage{"team": raw(`null`), "env": raw(`"prod"`)},
		ImporterConfig:     map[string]json.RawMessage{"validate": raw(`false`)},
		DistributorConfigs: map[string]map[string]json.RawMessage{"dist": {"serve_http": raw(`true`)}}}))
	got, _ := f.PulpRepo("shanghai", "isos")
	if got.DisplayName != "ISOs" || *got.Description != "d" || string(got.Notes["env"]) != `"prod"` || got.Notes["team"] != nil ||
		len(got.Importer.Config) != 2 || string(got.Distributors[0].Config["serve_http"]) != "true" {
		t.Fatalf("updated %+v", got)
	}
	if res := a.apply(t, command(t, CmdPulpUpdateRepo, t0, PulpRepoUpdate{Cluster: "shanghai", ID: "nope"})); KindOf(res.Err) != KindNotFound {
		t.Fatalf("update of a missing repository: %v", res.Err)
	}
	// The importer goes, then the repository; each records a finished task.
	mustApply(t, a, command(t, CmdPulpSetImporter, t0, PulpImporterSet{Cluster: "shanghai", ID: "isos", TaskID: "t1"}))
	mustApply(t, a, command(t, CmdPulpDeleteRepo, t0, PulpRepoRef{Cluster: "shanghai", ID: "isos", TaskID: "t2"}))
	if _, ok := f.PulpRepo("shanghai", "isos"); ok {
		t.Fatal("deleted repository still there")
	}
	if tasks := f.PulpTasks("shanghai", []string{"pulp:repository:isos"}); len(tasks) != 2 || tasks[0].ID != "t1" || tasks[1].State != PulpTaskFinished {
		t.Fatalf("tasks %+v", tasks)
	}
	if tasks := f.PulpTasks("shanghai", []string{"pulp:repository:isos", "pulp:action:delete"}); len(tasks) != 1 || tasks[0].ID != "t2" {
		t.Fatalf("tasks with both tags %+v", tasks)
	}
	if tasks := f.PulpTasks("beijing", nil); len(tasks) != 0 {
		t.Fatalf("another region's tasks %+v", tasks)
	}
	// Snapshots carry Pulp's state.
	restored := New()
	if err := restored.Restore(io.NopCloser(bytes.NewReader(persist(t, f)))); err != nil {
		t.Fatal(err)
	}
	if _, ok := restored.PulpRepo("beijing", "isos"); !ok {
		t.Fatal("the snapshot lost a Pulp repository")
	}
	if tk, ok := restored.PulpTask("t2"); !ok || tk.Tags[1] != "pulp:action:delete" {
		t.Fatalf("the snapshot lost a Pulp task: %+v", tk)
	}
}
