package pulp

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// Sync schedules: a repository importer's ScheduledCalls of
// sync_with_auto_publish.

// Both spellings: schedules/sync/ (every released Pulp) and
// sync_schedules/ (the seed); _href follows the one asked.
var scheduleSpellings = []string{"/schedules/sync/", "/sync_schedules/"}

var (
	syncScheduleKeys       = []string{"schedule", "override_config", "failure_threshold", "enabled"}
	syncScheduleUpdateKeys = append(slices.Clone(syncScheduleKeys), "remaining_runs")
)

func (d *dialect) registerSchedules() {
	for _, sp := range scheduleSpellings {
		d.handleSchedules("/repositories/:repo/importers/:imp"+sp, d.syncSchedules)
	}
}

// syncSchedules is the importer's collection; a PUT's bad schedule is
// iso_schedule, as 2.4+ renames it.
func (d *dialect) syncSchedules(r *http.Request, ps httprouter.Params) (scheduleCollection, error) {
	repo, imp := ps.ByName("repo"), ps.ByName("imp")
	return scheduleCollection{
		href: collection(r, ps), createKeys: syncScheduleKeys, updateKeys: syncScheduleUpdateKeys, putName: "iso_schedule",
		owner: func() error {
			if _, e := d.importer(ps); e != nil {
				return e
			}
			return nil
		},
		holds:   func(sc fsm.PulpSchedule) bool { return sc.Content == nil && sc.Repo == repo && sc.Importer == imp },
		missing: missingSchedule,
		create: func(ctx context.Context, ch ScheduleChange) (fsm.PulpSchedule, error) {
			return d.schedules.CreatePulpSchedule(ctx, repo, imp, ch)
		},
		list: func() []fsm.PulpSchedule { return d.schedules.PulpSchedules(repo) },
		view: scheduleView,
	}, nil
}

// collection is the schedules' path as asked: the _href of each.
func collection(r *http.Request, ps httprouter.Params) string {
	sp := scheduleSpellings[0]
	if strings.Contains(r.URL.Path+"/", "/sync_schedules/") {
		sp = scheduleSpellings[1]
	}
	return repoHref(ps.ByName("repo")) + "importers/" + ps.ByName("imp") + sp
}

// scheduleView is a sync schedule as both generations show it (§7).
func scheduleView(sc fsm.PulpSchedule, href string, now time.Time) map[string]any {
	overrides := masked(sc.Overrides) // an override may carry the feed's credentials
	v := callView(sc, href, now)
	v["task"], v["args"], v["resource"] = "pulp.server.tasks.repository.sync_with_auto_publish", []string{sc.Repo}, "pulp:importer:"+sc.Repo+":"+sc.Importer
	v["kwargs"] = map[string]any{"overrides": overrides, "scheduled_call_id": sc.ID}
	v["override_config"] = overrides
	return v
}
