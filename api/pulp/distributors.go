package pulp

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// A repository's distributors: read, published now (actions/publish/) or
// by their publish schedules. A publication is live (publish.go), so a
// publish records itself (last_publish and a finished task).

// Publishes is what the dialect needs of the agent to publish.
type Publishes interface {
	PublishPulpRepo(ctx context.Context, repo, dist string) (fsm.PulpTask, error)
	PulpPublishSchedules(repo, dist string) []fsm.PulpSchedule
	CreatePulpPublishSchedule(ctx context.Context, repo, dist string, ch ScheduleChange) (fsm.PulpSchedule, error)
}

// Both spellings of publish schedules: schedules/publish/ (2.4+) and
// publish_schedules/ (2.0-2.3).
var publishSpellings = []string{"/schedules/publish/", "/publish_schedules/"}

func (d *dialect) registerDistributors() {
	r := fsm.PolicyRead
	d.handle(http.MethodGet, "/repositories/:repo/distributors/", r, d.listDistributors)
	d.handle(http.MethodGet, "/repositories/:repo/distributors/:dist/", r, d.getDistributor)
	d.handle(http.MethodPost, "/repositories/:repo/actions/publish/", fsm.PolicyWrite, d.publishRepo)
	for _, sp := range publishSpellings {
		d.handleSchedules("/repositories/:repo/distributors/:dist"+sp, d.publishSchedules)
	}
}

// listDistributors does not check the repository exists: an unknown one
// has none (as Pulp answers).
func (d *dialect) listDistributors(_ *http.Request, ps httprouter.Params) (int, any, error) {
	out := []any{}
	if repo, ok := d.repos.PulpRepo(ps.ByName("repo")); ok {
		for _, dist := range repo.Distributors {
			out = append(out, distributorView(repo, dist))
		}
	}
	return http.StatusOK, out, nil
}

// distributor is the repository's distributor the URL names; a missing one
// is 404 naming both, as Pulp's get_or_404 does.
func (d *dialect) distributor(repoID, distID string) (fsm.PulpRepo, fsm.PulpDistributor, error) {
	repo, ok := d.repos.PulpRepo(repoID)
	if ok {
		for _, dist := range repo.Distributors {
			if dist.ID == distID {
				return repo, dist, nil
			}
		}
	}
	return repo, fsm.PulpDistributor{}, missingResources("repo_id", repoID, "distributor_id", distID)
}

func (d *dialect) getDistributor(_ *http.Request, ps httprouter.Params) (int, any, error) {
	repo, dist, err := d.distributor(ps.ByName("repo"), ps.ByName("dist"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, distributorView(repo, dist), nil
}

// publishRepo is POST /repositories/<id>/actions/publish/ {id,
// override_config?}: 202 spawning the publish task, finished.
func (d *dialect) publishRepo(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.repo(ps); e != nil {
		return 0, nil, e
	}
	obj, e := readObject(r, false)
	if e != nil {
		return 0, nil, e
	}
	var distID string
	if raw, ok := obj["id"]; !ok || string(raw) == "null" {
		return 0, nil, missingValue("id")
	} else if json.Unmarshal(raw, &distID) != nil {
		return 0, nil, invalidValue("id")
	}
	if _, _, err := d.distributor(ps.ByName("repo"), distID); err != nil {
		return 0, nil, err
	}
	t, err := d.publishes.PublishPulpRepo(r.Context(), ps.ByName("repo"), distID)
	if err != nil {
		return 0, nil, repoError(err, ps.ByName("repo"))
	}
	return http.StatusAccepted, callReport(t), nil
}

// publishSchedules is a distributor's collection of publish schedules.
func (d *dialect) publishSchedules(r *http.Request, ps httprouter.Params) (scheduleCollection, error) {
	repo, dist := ps.ByName("repo"), ps.ByName("dist")
	sp := publishSpellings[0]
	if strings.Contains(r.URL.Path+"/", "/publish_schedules/") {
		sp = publishSpellings[1]
	}
	return scheduleCollection{
		href: repoHref(repo) + "distributors/" + dist + sp, createKeys: syncScheduleKeys, updateKeys: syncScheduleUpdateKeys, putName: "schedule",
		owner: func() error {
			_, _, err := d.distributor(repo, dist)
			return err
		},
		holds:   func(sc fsm.PulpSchedule) bool { return sc.Content == nil && sc.Repo == repo && sc.Distributor == dist },
		missing: missingSchedule,
		create: func(ctx context.Context, ch ScheduleChange) (fsm.PulpSchedule, error) {
			return d.publishes.CreatePulpPublishSchedule(ctx, repo, dist, ch)
		},
		list: func() []fsm.PulpSchedule { return d.publishes.PulpPublishSchedules(repo, dist) },
		view: publishScheduleView,
	}, nil
}

// publishScheduleView is a publish schedule (§7: task, args and resource
// of a publish).
func publishScheduleView(sc fsm.PulpSchedule, href string, now time.Time) map[string]any {
	v := scheduleView(sc, href, now)
	v["task"], v["args"], v["resource"] = "pulp.server.tasks.repository.publish", []string{sc.Repo, sc.Distributor}, "pulp:distributor:"+sc.Repo+":"+sc.Distributor
	return v
}
