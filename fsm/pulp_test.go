package fsm

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"
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

// A schedule's slot fires once, with its sync run; a run's end counts on
// the schedule; a repository's deletion takes its schedules.
func TestPulpScheduleFiresASlotOnce(t *testing.T) {
	f, a := populated(t)
	mustApply(t, a, command(t, CmdPulpCreateRepo, t0, PulpRepo{Cluster: "shanghai", ID: "isos",
		Importer: &PulpImporter{TypeID: PulpISOImporter, Config: map[string]json.RawMessage{"feed": raw(`"http://127.0.0.1:1/"`)}}}))
	two := 2
	sc := PulpSchedule{ID: "s1", Cluster: "shanghai", Repo: "isos", Importer: PulpISOImporter, Schedule: "PT1H",
		PulpCall: PulpCall{FirstRun: t0, Enabled: true, FailureThreshold: &two}}
	mustApply(t, a, command(t, CmdPulpPutSchedule, t0, PulpSchedulePut{Schedule: sc}))
	if res := a.apply(t, command(t, CmdPulpPutSchedule, t0, PulpSchedulePut{Schedule: PulpSchedule{ID: "s2", Cluster: "shanghai", Repo: "isos", Importer: "yum_importer"}})); KindOf(res.Err) != KindNotFound {
		t.Fatalf("a schedule of another importer: %v", res.Err)
	}
	fire := func(run string, slot time.Time) error {
		return a.apply(t, command(t, CmdPulpFire, slot, PulpFire{ID: "s1", Slot: slot, RunID: run, Project: "pulp"})).Err
	}
	if err := fire("r1", t0); err != nil {
		t.Fatal(err)
	}
	if err := fire("r2", t0); KindOf(err) != KindConflict {
		t.Fatalf("the same slot again: %v", err)
	}
	got, _ := f.PulpSchedule("s1")
	r, ok := f.Run("r1")
	if got.TotalRunCount != 1 || !got.LastSlot.Equal(t0) || !ok || r.Feed.ScheduleID != "s1" || r.Trigger != TriggerScheduled || r.Executor != "shanghai" {
		t.Fatalf("after the fire: %+v, run %+v", got, r)
	}
	// Two failures disable it (threshold 2).
	for i, run := range []string{"r1", "r3"} {
		if i > 0 {
			if err := fire(run, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		mustApply(t, a, command(t, CmdStartRun, t0, RunRef{ID: run, Executor: "shanghai"}))
		mustApply(t, a, command(t, CmdFinishRun, t0, RunProgress{ID: run, Executor: "shanghai", State: RunFailed, Error: "feed gone"}))
	}
	if got, _ := f.PulpSchedule("s1"); got.Enabled || got.ConsecutiveFailures != 2 {
		t.Fatalf("after two failures: %+v", got)
	}
	if err := fire("r4", t0.Add(2*time.Hour)); KindOf(err) != KindConflict {
		t.Fatalf("a disabled schedule fired: %v", err)
	}
	mustApply(t, a, command(t, CmdPulpDeleteRepo, t0, PulpRepoRef{Cluster: "shanghai", ID: "isos", TaskID: "t"}))
	if _, ok := f.PulpSchedule("s1"); ok {
		t.Fatal("the deleted repository's schedule stays")
	}
}

// A consumer's region is its ferry.cluster note's, else the cluster of its
// id, else the registering region's; bindings are idempotent.
func TestPulpConsumerRegionsAndBindings(t *testing.T) {
	f, a := populated(t)
	mustApply(t, a, command(t, CmdPulpCreateRepo, t0, PulpRepo{Cluster: "shanghai", ID: "isos", Distributors: []PulpDistributor{{ID: "iso", TypeID: PulpISODistributor}}}))
	for _, c := range []PulpConsumer{
		{Cluster: "shanghai", ID: "web", Notes: map[string]json.RawMessage{PulpRegionNote: raw(`"guangzhou"`)}},
		{Cluster: "shanghai", ID: "beijing"},
		{Cluster: "shanghai", ID: "desk"},
	} {
		mustApply(t, a, command(t, CmdPulpCreateConsumer, t0, c))
	}
	for id, want := range map[string]string{"web": "guangzhou", "beijing": "beijing", "desk": "shanghai"} {
		if c, _ := f.PulpConsumer("shanghai", id); c.Region != want {
			t.Errorf("%s is in %s, want %s", id, c.Region, want)
		}
	}
	if res := a.apply(t, command(t, CmdPulpCreateConsumer, t0, PulpConsumer{Cluster: "shanghai", ID: "x", Notes: map[string]json.RawMessage{PulpRegionNote: raw(`"mars"`)}})); KindOf(res.Err) != KindInvalid {
		t.Fatalf("a consumer in no region: %v", res.Err)
	}
	bind := PulpBindingPut{Cluster: "shanghai", Consumer: "web", Binding: PulpBinding{Repo: "isos", Distributor: "iso"}}
	mustApply(t, a, command(t, CmdPulpBind, t0, bind))
	mustApply(t, a, command(t, CmdPulpBind, t0, bind))
	if c, _ := f.PulpConsumer("shanghai", "web"); len(c.Bindings) != 1 {
		t.Fatalf("bindings %+v", c.Bindings)
	}
	bind.Binding.Distributor = "nope"
	if res := a.apply(t, command(t, CmdPulpBind, t0, bind)); KindOf(res.Err) != KindInvalid {
		t.Fatalf("a binding to no distributor: %v", res.Err)
	}
	bind.Binding.Distributor = "iso"
	mustApply(t, a, command(t, CmdPulpUnbind, t0, bind))
	if res := a.apply(t, command(t, CmdPulpUnbind, t0, bind)); KindOf(res.Err) != KindNotFound {
		t.Fatalf("unbind twice: %v", res.Err)
	}
}
