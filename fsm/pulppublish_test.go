package fsm

import (
	"encoding/json"
	"testing"
	"time"
)

// A publish records itself on the distributor and as a finished task;
// a successful sync publishes each auto_publish distributor; a publish
// schedule's slot publishes once.
func TestPulpPublishes(t *testing.T) {
	f, a := populated(t)
	mustApply(t, a, command(t, CmdPulpCreateRepo, t0, PulpRepo{Cluster: "shanghai", ID: "isos",
		Importer:     &PulpImporter{TypeID: PulpISOImporter, Config: map[string]json.RawMessage{"feed": raw(`"http://127.0.0.1:1/"`)}},
		Distributors: []PulpDistributor{{ID: "auto", TypeID: PulpISODistributor, AutoPublish: true}, {ID: "manual", TypeID: PulpISODistributor}}}))
	t1 := t0.Add(time.Minute)
	mustApply(t, a, command(t, CmdPulpPublish, t1, PulpPublish{Cluster: "shanghai", Repo: "isos", Distributor: "manual", TaskID: "p1", By: "ops"}))
	repo, _ := f.PulpRepo("shanghai", "isos")
	if tk, _ := f.PulpTask("p1"); tk.State != PulpTaskFinished || tk.Tags[1] != "pulp:action:publish" || !repo.Distributors[1].LastPublish.Equal(t1) || !repo.Distributors[0].LastPublish.IsZero() {
		t.Fatalf("published: task %+v, distributors %+v", tk, repo.Distributors)
	}
	if res := a.apply(t, command(t, CmdPulpPublish, t1, PulpPublish{Cluster: "shanghai", Repo: "isos", Distributor: "nope", TaskID: "p2"})); KindOf(res.Err) != KindNotFound {
		t.Fatalf("an unknown distributor: %v", res.Err)
	}

	// A sync's success publishes "auto" only.
	mustApply(t, a, command(t, CmdPulpSync, t1, PulpSync{RunID: "s1", Cluster: "shanghai", Repo: "isos", Project: "pulp", By: "ops"}))
	mustApply(t, a, command(t, CmdStartRun, t1, RunRef{ID: "s1", Executor: "shanghai"}))
	t2 := t1.Add(time.Minute)
	mustApply(t, a, command(t, CmdFinishRun, t2, RunProgress{ID: "s1", Executor: "shanghai", State: RunSuccess}))
	repo, _ = f.PulpRepo("shanghai", "isos")
	if tk, ok := f.PulpTask(AutoPublishTaskID("s1", "auto")); !ok || tk.State != PulpTaskFinished || !repo.Distributors[0].LastPublish.Equal(t2) || !repo.Distributors[1].LastPublish.Equal(t1) {
		t.Fatalf("auto-publish: task %+v, distributors %+v", tk, repo.Distributors)
	}

	// A publish schedule.
	sc := PulpSchedule{ID: "ps", Cluster: "shanghai", Repo: "isos", Distributor: "manual", Schedule: "PT1H", PulpCall: PulpCall{FirstRun: t0, Enabled: true}}
	mustApply(t, a, command(t, CmdPulpPutSchedule, t0, PulpSchedulePut{Schedule: sc}))
	t3 := t2.Add(time.Minute)
	mustApply(t, a, command(t, CmdPulpFire, t3, PulpFire{ID: "ps", Slot: t3, RunID: "p3"}))
	if res := a.apply(t, command(t, CmdPulpFire, t3, PulpFire{ID: "ps", Slot: t3, RunID: "p4"})); KindOf(res.Err) != KindConflict {
		t.Fatalf("a slot fired twice: %v", res.Err)
	}
	got, _ := f.PulpSchedule("ps")
	repo, _ = f.PulpRepo("shanghai", "isos")
	if tk, _ := f.PulpTask("p3"); tk.State != PulpTaskFinished || got.TotalRunCount != 1 || !repo.Distributors[1].LastPublish.Equal(t3) {
		t.Fatalf("scheduled publish: task %+v, schedule %+v", tk, got)
	}
	// The importer's delete keeps the publish schedule; the repository's takes it.
	mustApply(t, a, command(t, CmdPulpSetImporter, t3, PulpImporterSet{Cluster: "shanghai", ID: "isos", TaskID: "i1"}))
	if _, ok := f.PulpSchedule("ps"); !ok {
		t.Fatal("the importer's delete took the publish schedule")
	}
	mustApply(t, a, command(t, CmdPulpDeleteRepo, t3, PulpRepoRef{Cluster: "shanghai", ID: "isos", TaskID: "d1"}))
	if _, ok := f.PulpSchedule("ps"); ok {
		t.Fatal("the publish schedule outlived its repository")
	}
}
