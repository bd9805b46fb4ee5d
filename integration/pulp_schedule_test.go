package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

type pulpSchedule struct {
	ID                  string          `json:"_id"`
	Href                string          `json:"_href"`
	Schedule            string          `json:"schedule"`
	Enabled             bool            `json:"enabled"`
	FailureThreshold    *int            `json:"failure_threshold"`
	ConsecutiveFailures int             `json:"consecutive_failures"`
	RemainingRuns       *int            `json:"remaining_runs"`
	TotalRunCount       int             `json:"total_run_count"`
	FirstRun            string          `json:"first_run"`
	NextRun             string          `json:"next_run"`
	LastRunAt           *string         `json:"last_run_at"`
	Kwargs              json.RawMessage `json:"kwargs"`
}

func TestPulpSyncSchedules(t *testing.T) {
	nodes := replicationGroup(t)
	f := follower(t, nodes)
	fd := newPulpFeed(t, map[string][]byte{"a.iso": []byte("a")})
	pulpOK(t, f, "POST", "/repositories/", `{"id": "sched", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+fd.url()+`"}}`, 201, nil)
	base := "/repositories/sched/importers/iso_importer/schedules/sync/"

	// Refusals, as Pulp checks them: unknown keys first, then the importer,
	// then every invalid value.
	pulpFails(t, f, "POST", base, mgmtToken, `{"schedule": "PT30S", "unknown": "parameter"}`, 400, "PLP0017")
	pulpFails(t, f, "POST", "/repositories/sched/importers/yum_importer/schedules/sync/", mgmtToken, `{"schedule": "PT1H"}`, 404, "PLP0009")
	pulpFails(t, f, "POST", "/repositories/nope/importers/iso_importer/schedules/sync/", mgmtToken, `{"schedule": "bad"}`, 404, "PLP0009")
	for body, want := range map[string]string{
		`{"schedule": null}`: "[schedule]", `{}`: "[schedule]", `{"schedule": "00:00:00Z/P1DT"}`: "[schedule]", `{"schedule": "R0/PT1H"}`: "[schedule]",
		`{"schedule": "P1M"}`: "[schedule]", `{"schedule": "PT0S"}`: "[schedule]",
		`{"schedule": "bad", "failure_threshold": 0, "enabled": "yes"}`: "[schedule failure_threshold enabled]",
		`{"failure_threshold": 0}`:                                      "[schedule failure_threshold]",
	} {
		if e := pulpFails(t, f, "POST", base, mgmtToken, body, 400, "PLP0015"); fmt.Sprint(e.PropertyNames) != want {
			t.Errorf("%s: %v, want %s", body, e.PropertyNames, want)
		}
	}
	pulpFails(t, f, "POST", base, mgmtToken, `["Incorrect data type"]`, 400, "PLP1015")

	// An override's credentials are not shown.
	status, raw, _ := pulpCall(t, f, "POST", base, mgmtToken, `{"schedule": "2099-01-01T00:00:00Z/PT1H", "override_config": {"basic_auth_password": "s3cret"}}`)
	if status != http.StatusCreated || strings.Contains(string(raw), "s3cret") || !strings.Contains(string(raw), `"basic_auth_password":"*****"`) {
		t.Fatalf("an override's password shown: %s", raw)
	}
	var masked pulpSchedule
	_ = json.Unmarshal(raw, &masked)
	pulpOK(t, f, "DELETE", base+masked.ID+"/", "", 200, nil)

	// Without a start, a schedule runs at once (2.4+), then every interval,
	// aligned to its first run.
	status, raw, _ = pulpCall(t, f, "POST", base, mgmtToken, `{"schedule": "PT1H", "override_config": {}, "failure_threshold": null, "enabled": true}`)
	var sc pulpSchedule
	if status != 201 || json.Unmarshal(raw, &sc) != nil || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(sc.ID) || sc.Href != "/pulp/api/v2"+base+sc.ID+"/" || sc.TotalRunCount != 0 ||
		!sc.Enabled || sc.Schedule != "PT1H" || !pulpTime.MatchString(sc.FirstRun) {
		t.Fatalf("create: %d %s", status, raw)
	}
	created := keysOf(t, raw)
	eventually(t, 30*time.Second, "the first run", func() error {
		pulpOK(t, f, "GET", base+sc.ID+"/", "", 200, &sc)
		if sc.TotalRunCount != 1 || sc.LastRunAt == nil {
			return fmt.Errorf("%d runs", sc.TotalRunCount)
		}
		return nil
	})
	first, _ := time.Parse(time.RFC3339, sc.FirstRun)
	if next, _ := time.Parse(time.RFC3339, sc.NextRun); !next.Equal(first.Add(time.Hour)) {
		t.Fatalf("next_run %s, first_run %s", sc.NextRun, sc.FirstRun)
	}
	var tasks []pulpSyncTask
	eventually(t, 30*time.Second, "the scheduled sync ends", func() error {
		pulpOK(t, f, "GET", "/tasks/?tag=pulp:repository:sched&tag=pulp:action:sync", "", 200, &tasks)
		if len(tasks) != 1 || tasks[0].State != "finished" {
			return fmt.Errorf("%+v", tasks)
		}
		return nil
	})
	if got := getFile(t, f, "pulp", "sched", "/a.iso"); string(got) != "a" {
		t.Fatalf("a.iso %q", got)
	}

	// The seed's spelling lists the same schedules, with its own _href; every
	// answer has the same keys.
	var list []map[string]any
	_, raw, _ = pulpCall(t, f, "GET", "/repositories/sched/importers/iso_importer/sync_schedules/", mgmtToken, "")
	if json.Unmarshal(raw, &list) != nil || len(list) != 1 || list[0]["_href"] != "/pulp/api/v2/repositories/sched/importers/iso_importer/sync_schedules/"+sc.ID+"/" {
		t.Fatalf("seed spelling: %s", raw)
	}
	listed, _ := json.Marshal(list[0])
	if fmt.Sprint(keysOf(t, listed)) != fmt.Sprint(created) {
		t.Fatalf("list keys %v, create keys %v", keysOf(t, listed), created)
	}

	// PUT: a new interval with R<n> starts again and resets remaining_runs;
	// remaining_runs is settable; what ran stays counted.
	pulpOK(t, f, "PUT", base+sc.ID+"/", `{"schedule": "R3/2099-01-01T00:00:00Z/PT1H", "enabled": false}`, 200, &sc)
	if sc.FirstRun != "2099-01-01T00:00:00Z" || sc.NextRun != "2099-01-01T00:00:00Z" || sc.RemainingRuns == nil || *sc.RemainingRuns != 3 || sc.Enabled || sc.TotalRunCount != 1 {
		t.Fatalf("updated %+v", sc)
	}
	pulpOK(t, f, "PUT", base+sc.ID+"/", `{"remaining_runs": 1}`, 200, &sc)
	if *sc.RemainingRuns != 1 {
		t.Fatalf("remaining_runs %v", *sc.RemainingRuns)
	}
	pulpFails(t, f, "PUT", base+sc.ID+"/", mgmtToken, `{"foo": 1}`, 400, "PLP0017")
	if e := pulpFails(t, f, "PUT", base+sc.ID+"/", mgmtToken, `{"schedule": "PT1H/PT2H"}`, 400, "PLP0015"); fmt.Sprint(e.PropertyNames) != "[iso_schedule]" {
		t.Errorf("a bad schedule in a PUT is %v, 2.4+ names it iso_schedule", e.PropertyNames)
	}
	pulpFails(t, f, "PUT", base+"0123456789abcdef01234567/", mgmtToken, `{}`, 404, "PLP0009")

	// failure_threshold 2 against a broken feed: after two failures in a row
	// the schedule disables itself.
	pulpOK(t, f, "POST", "/repositories/", `{"id": "broken", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+fd.srv.URL+`/gone/"}}`, 201, nil)
	var brk pulpSchedule
	pulpOK(t, f, "POST", "/repositories/broken/importers/iso_importer/schedules/sync/", `{"schedule": "PT2S", "failure_threshold": 2}`, 201, &brk)
	eventually(t, 60*time.Second, "the failing schedule disabled", func() error {
		pulpOK(t, f, "GET", "/repositories/broken/importers/iso_importer/schedules/sync/"+brk.ID+"/", "", 200, &brk)
		if brk.Enabled || brk.ConsecutiveFailures < 2 {
			return fmt.Errorf("enabled %v after %d failures", brk.Enabled, brk.ConsecutiveFailures)
		}
		return nil
	})

	// DELETE: 200 null; deleting the importer deletes its schedules.
	if status, raw, _ := pulpCall(t, f, "DELETE", base+sc.ID+"/", mgmtToken, ""); status != http.StatusOK || string(raw) != "null\n" {
		t.Fatalf("delete: %d %q", status, raw)
	}
	pulpFails(t, f, "GET", base+sc.ID+"/", mgmtToken, "", 404, "PLP0009")
	pulpOK(t, f, "DELETE", "/repositories/broken/importers/iso_importer/", "", 202, nil)
	pulpOK(t, f, "POST", "/repositories/broken/importers/", `{"importer_type_id": "iso_importer", "importer_config": {}}`, 202, nil)
	pulpOK(t, f, "GET", "/repositories/broken/importers/iso_importer/schedules/sync/", "", 200, &list)
	if len(list) != 0 {
		t.Fatalf("schedules of a deleted importer: %v", list)
	}
}

func keysOf(t testing.TB, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// scheduledSyncs are the sync runs schedule id fired, oldest first.
func scheduledSyncs(t testing.TB, n *node, id string) []time.Time {
	t.Helper()
	var p struct {
		Records []struct {
			Slot time.Time `json:"slot"`
			Feed *struct {
				ScheduleID string `json:"scheduleId"`
			} `json:"feed"`
		} `json:"records"`
	}
	getOK(t, n, "/v1/runs?pageSize=1000", &p)
	var slots []time.Time
	for _, r := range p.Records {
		if r.Feed != nil && r.Feed.ScheduleID == id {
			slots = append(slots, r.Slot)
		}
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].Before(slots[j]) })
	return slots
}

// A schedule's slots fire once each while the leader is killed: a slot
// missed while there was none fires once, as the latest.
func TestPulpScheduleSlotsFireOnceAcrossALeaderFailover(t *testing.T) {
	nodes := replicationGroup(t)
	l := sameLeader(t, 30*time.Second, nodes...)
	var region, victim *node
	for _, n := range nodes {
		if n.id() == l.ID {
			victim = n
		} else if region == nil {
			region = n
		}
	}
	pulpOK(t, region, "POST", "/repositories/", `{"id": "every2s", "importer_type_id": "iso_importer", "importer_config": {}}`, 201, nil)
	var sc pulpSchedule
	pulpOK(t, region, "POST", "/repositories/every2s/importers/iso_importer/schedules/sync/", `{"schedule": "PT2S"}`, 201, &sc)
	fired := func(atLeast int) {
		t.Helper()
		eventually(t, 60*time.Second, fmt.Sprintf("%d slots", atLeast), func() error {
			if got := len(scheduledSyncs(t, region, sc.ID)); got < atLeast {
				return fmt.Errorf("%d slots", got)
			}
			return nil
		})
	}
	fired(2)
	before := len(scheduledSyncs(t, region, sc.ID))
	victim.stop()
	var rest []*node
	for _, n := range nodes {
		if n != victim {
			rest = append(rest, n)
		}
	}
	newLeader(t, 30*time.Second, l.ID, rest...)
	fired(before + 2)
	pulpOK(t, region, "PUT", "/repositories/every2s/importers/iso_importer/schedules/sync/"+sc.ID+"/", `{"enabled": false}`, 200, nil)

	slots := scheduledSyncs(t, region, sc.ID)
	for i := 1; i < len(slots); i++ {
		d := slots[i].Sub(slots[i-1])
		if d <= 0 || d%(2*time.Second) != 0 {
			t.Fatalf("slots %s then %s (%v)", slots[i-1], slots[i], slots)
		}
	}
	t.Logf("%d slots across the failover", len(slots))
}
