package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

type pulpDistributor struct {
	ID          string  `json:"id"`
	Href        string  `json:"_href"`
	AutoPublish bool    `json:"auto_publish"`
	LastPublish *string `json:"last_publish"`
}

// Distributors are read, published now, after a sync (auto_publish) and by
// their publish schedules; every publish is a finished task.
func TestPulpPublishes(t *testing.T) {
	nodes := replicationGroup(t)
	a := follower(t, nodes)
	fd := newPulpFeed(t, map[string][]byte{"a.iso": []byte("a")})
	pulpOK(t, a, "POST", "/repositories/", `{"id": "pub", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+fd.url()+`"},
		"distributors": [{"distributor_type_id": "iso_distributor", "distributor_id": "auto", "auto_publish": true},
		                 {"distributor_type_id": "iso_distributor", "distributor_id": "manual"}]}`, 201, nil)

	var dists []pulpDistributor
	pulpOK(t, a, "GET", "/repositories/pub/distributors/", "", 200, &dists)
	if len(dists) != 2 || dists[0].ID != "auto" || dists[0].Href != "/pulp/api/v2/repositories/pub/distributors/auto/" || dists[0].LastPublish != nil {
		t.Fatalf("distributors %+v", dists)
	}
	pulpOK(t, a, "GET", "/repositories/nope/distributors/", "", 200, &dists)
	if len(dists) != 0 {
		t.Fatalf("an unknown repository's distributors: %+v", dists)
	}
	if e := pulpFails(t, a, "GET", "/repositories/pub/distributors/nope/", mgmtToken, "", 404, "PLP0009"); fmt.Sprint(e.Error.Data) != "map[resources:map[distributor_id:nope repo_id:pub]]" {
		t.Errorf("unknown distributor: %v", e.Error.Data)
	}

	// A sync spawns the auto_publish distributor's publish.
	sync := pulpSync(t, a, "pub", "")
	if sync.State != "finished" || len(sync.Spawned) != 1 {
		t.Fatalf("sync %+v", sync)
	}
	publish := pulpWait(t, a, sync.Spawned[0].TaskID)
	if publish.State != "finished" || fmt.Sprint(publish.Tags) != "[pulp:repository:pub pulp:action:publish]" {
		t.Fatalf("auto-publish %+v", publish)
	}
	var auto, manual pulpDistributor
	pulpOK(t, a, "GET", "/repositories/pub/distributors/auto/", "", 200, &auto)
	pulpOK(t, a, "GET", "/repositories/pub/distributors/manual/", "", 200, &manual)
	if auto.LastPublish == nil || !pulpTime.MatchString(*auto.LastPublish) || manual.LastPublish != nil {
		t.Fatalf("after the sync: auto %+v, manual %+v", auto, manual)
	}

	// Publish now.
	var report pulpTask
	pulpOK(t, a, "POST", "/repositories/pub/actions/publish/", `{"id": "manual", "override_config": {}}`, 202, &report)
	if task := pulpSpawned(t, a, report); fmt.Sprint(task.Tags) != "[pulp:repository:pub pulp:action:publish]" {
		t.Fatalf("publish %+v", task)
	}
	pulpOK(t, a, "GET", "/repositories/pub/distributors/manual/", "", 200, &manual)
	if manual.LastPublish == nil {
		t.Fatal("manual not published")
	}
	pulpFails(t, a, "POST", "/repositories/pub/actions/publish/", mgmtToken, `{"id": "nope"}`, 404, "PLP0009")
	pulpFails(t, a, "POST", "/repositories/pub/actions/publish/", mgmtToken, `{}`, 400, "PLP0016")
	pulpFails(t, a, "POST", "/repositories/nope/actions/publish/", mgmtToken, `{"id": "manual"}`, 404, "PLP0009")

	// A publish schedule, in both spellings; the importer's collection does
	// not hold it.
	base := "/repositories/pub/distributors/manual/schedules/publish/"
	pulpFails(t, a, "POST", "/repositories/pub/distributors/nope/schedules/publish/", mgmtToken, `{"schedule": "PT1H"}`, 404, "PLP0009")
	var sc struct {
		pulpSchedule
		Task     string   `json:"task"`
		Args     []string `json:"args"`
		Resource string   `json:"resource"`
	}
	pulpOK(t, a, "POST", base, `{"schedule": "R1/2020-01-01T00:00:00Z/PT1H"}`, 201, &sc)
	if sc.Task != "pulp.server.tasks.repository.publish" || fmt.Sprint(sc.Args) != "[pub manual]" || sc.Resource != "pulp:distributor:pub:manual" || sc.Href != "/pulp/api/v2"+base+sc.ID+"/" {
		t.Fatalf("publish schedule %+v", sc)
	}
	eventually(t, 30*time.Second, "the scheduled publish", func() error {
		pulpOK(t, a, "GET", base+sc.ID+"/", "", 200, &sc)
		if sc.TotalRunCount != 1 || sc.Enabled {
			return fmt.Errorf("%d runs, enabled %v", sc.TotalRunCount, sc.Enabled)
		}
		return nil
	})
	var tasks []pulpTask
	pulpOK(t, a, "GET", "/tasks/?tag=pulp:repository:pub&tag=pulp:action:publish", "", 200, &tasks)
	if len(tasks) != 3 {
		t.Fatalf("publish tasks %+v", tasks)
	}
	var list []map[string]any
	pulpOK(t, a, "GET", "/repositories/pub/distributors/manual/publish_schedules/", "", 200, &list)
	if len(list) != 1 || list[0]["_href"] != "/pulp/api/v2/repositories/pub/distributors/manual/publish_schedules/"+sc.ID+"/" {
		t.Fatalf("2.0-2.3 spelling %v", list)
	}
	pulpOK(t, a, "GET", "/repositories/pub/importers/iso_importer/schedules/sync/", "", 200, &list)
	if len(list) != 0 {
		t.Fatalf("the importer's schedules hold %v", list)
	}
	pulpFails(t, a, "GET", "/repositories/pub/importers/iso_importer/schedules/sync/"+sc.ID+"/", mgmtToken, "", 404, "PLP0009")
	if status, raw, _ := pulpCall(t, a, "DELETE", base+sc.ID+"/", mgmtToken, ""); status != http.StatusOK || string(raw) != "null\n" {
		t.Fatalf("delete: %d %q", status, raw)
	}
}
