package pulp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/scheduler"
	"github.com/julienschmidt/httprouter"
)

// ScheduleChange is what a schedule's create or update asks for; nil fields
// are left as they are (a create's defaults: enabled, no failure
// threshold, no overrides).
type ScheduleChange struct {
	Schedule         *string
	Overrides        map[string]json.RawMessage
	FailureThreshold **int
	Enabled          *bool
	// RemainingRuns is settable, as the consumer seed documents.
	RemainingRuns **int
	// Units and Options are a content schedule's call; an update replaces
	// what it names and keeps the rest (the seed's merge).
	Units   []fsm.PulpUnit
	Options map[string]json.RawMessage
}

// Schedules is what the dialect needs of the agent for sync and content
// schedules; a schedule is read, changed and deleted by its id.
type Schedules interface {
	PulpSchedules(repo string) []fsm.PulpSchedule
	PulpContentSchedules(consumer, action string) []fsm.PulpSchedule
	PulpSchedule(id string) (fsm.PulpSchedule, bool)
	CreatePulpSchedule(ctx context.Context, repo, importer string, ch ScheduleChange) (fsm.PulpSchedule, error)
	CreatePulpContentSchedule(ctx context.Context, consumer, action string, ch ScheduleChange) (fsm.PulpSchedule, error)
	UpdatePulpSchedule(ctx context.Context, id string, ch ScheduleChange) (fsm.PulpSchedule, error)
	DeletePulpSchedule(ctx context.Context, id string) error
}

// Both spellings: schedules/sync/ (every released Pulp) and
// sync_schedules/ (the seed); _href follows the one asked.
var scheduleSpellings = []string{"/schedules/sync/", "/sync_schedules/"}

func (d *dialect) registerSchedules() {
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	for _, sp := range scheduleSpellings {
		base := "/repositories/:repo/importers/:imp" + sp
		d.handle(http.MethodPost, base, w, d.createSchedule)
		d.handle(http.MethodGet, base, r, d.listSchedules)
		d.handle(http.MethodGet, base+":sid/", r, d.getSchedule)
		d.handle(http.MethodPut, base+":sid/", w, d.updateSchedule)
		d.handle(http.MethodDelete, base+":sid/", w, d.deleteSchedule)
	}
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
	overrides := sc.Overrides
	if overrides == nil {
		overrides = map[string]json.RawMessage{}
	}
	v := callView(sc, href, now)
	v["task"], v["args"], v["resource"] = "pulp.server.tasks.repository.sync_with_auto_publish", []string{sc.Repo}, "pulp:importer:"+sc.Repo+":"+sc.Importer
	v["kwargs"] = map[string]any{"overrides": overrides, "scheduled_call_id": sc.ID}
	v["override_config"] = overrides
	return v
}

// callView is what every ScheduledCall shows: its timing, next_run
// recomputed on read.
func callView(sc fsm.PulpSchedule, href string, now time.Time) map[string]any {
	var next *string
	if iv, err := scheduler.ParseInterval(sc.Schedule); err == nil {
		next = FormatTime(scheduler.CallState(sc.PulpCall).NextRun(iv, now))
	}
	return map[string]any{
		"_id": sc.ID, "_href": href + sc.ID + "/", "schedule": sc.Schedule, "enabled": sc.Enabled, "failure_threshold": sc.FailureThreshold,
		"consecutive_failures": sc.ConsecutiveFailures, "remaining_runs": sc.RemainingRuns, "total_run_count": sc.TotalRunCount,
		"first_run": FormatTime(sc.FirstRun), "last_run_at": FormatTime(sc.LastRunAt), "last_run": FormatTime(sc.LastRunAt), "next_run": next,
		"last_updated": float64(sc.LastUpdated.UnixMicro()) / 1e6,
	}
}

// readScheduleBody reads a schedule body: keys other than allowed are
// PLP0017, checked before anything is looked up, as Pulp does.
func readScheduleBody(r *http.Request, allowEmpty bool, allowed ...string) (map[string]json.RawMessage, *Error) {
	obj, e := readObject(r, allowEmpty)
	if e != nil {
		return nil, e
	}
	var extra []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		return nil, unsupportedValue(extra...)
	}
	return obj, nil
}

// readScheduleChange reads a schedule body's values: every invalid one, in
// Pulp's order, in one PLP0015, where a create's absent schedule counts as
// invalid. scheduleName is what the list calls the schedule (2.4+'s sync
// schedule PUT renames it iso_schedule).
func readScheduleChange(obj map[string]json.RawMessage, create bool, scheduleName string) (ScheduleChange, *Error) {
	var ch ScheduleChange
	var bad []string
	readField := func(name string, read func(json.RawMessage) bool) {
		if raw, ok := obj[name]; ok && !read(raw) {
			bad = append(bad, name)
		}
	}
	if raw, ok := obj["schedule"]; ok || create {
		var s string
		if json.Unmarshal(raw, &s) != nil || !validInterval(s) {
			bad = append(bad, scheduleName)
		} else {
			ch.Schedule = &s
		}
	}
	readField("failure_threshold", func(raw json.RawMessage) bool {
		var n *int
		ch.FailureThreshold = &n
		return json.Unmarshal(raw, &n) == nil && (n == nil || *n >= 1)
	})
	readField("enabled", func(raw json.RawMessage) bool {
		ch.Enabled = new(bool)
		return json.Unmarshal(raw, ch.Enabled) == nil
	})
	readField("remaining_runs", func(raw json.RawMessage) bool {
		var n *int
		ch.RemainingRuns = &n
		return json.Unmarshal(raw, &n) == nil && (n == nil || *n >= 0)
	})
	readField("override_config", func(raw json.RawMessage) bool {
		return string(raw) == "null" || json.Unmarshal(raw, &ch.Overrides) == nil
	})
	readField("units", func(raw json.RawMessage) bool {
		units, e := readUnits(raw)
		ch.Units = units
		return e == nil
	})
	readField("options", func(raw json.RawMessage) bool {
		return string(raw) == "null" || json.Unmarshal(raw, &ch.Options) == nil
	})
	if len(bad) > 0 {
		return ScheduleChange{}, invalidValue(bad...)
	}
	return ch, nil
}

func validInterval(s string) bool {
	_, err := scheduler.ParseInterval(s)
	return err == nil
}

func (d *dialect) createSchedule(r *http.Request, ps httprouter.Params) (int, any, error) {
	obj, e := readScheduleBody(r, false, "schedule", "override_config", "failure_threshold", "enabled")
	if e != nil {
		return 0, nil, e
	}
	if _, e := d.importer(ps); e != nil {
		return 0, nil, e
	}
	ch, e := readScheduleChange(obj, true, "schedule")
	if e != nil {
		return 0, nil, e
	}
	sc, err := d.schedules.CreatePulpSchedule(r.Context(), ps.ByName("repo"), ps.ByName("imp"), ch)
	if err != nil {
		return 0, nil, scheduleError(err, "")
	}
	href := collection(r, ps)
	setLocation(r, href+sc.ID+"/")
	return http.StatusCreated, scheduleView(sc, href, time.Now()), nil
}

func (d *dialect) listSchedules(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.importer(ps); e != nil {
		return 0, nil, e
	}
	out := []any{}
	for _, sc := range d.schedules.PulpSchedules(ps.ByName("repo")) {
		if sc.Importer == ps.ByName("imp") {
			out = append(out, scheduleView(sc, collection(r, ps), time.Now()))
		}
	}
	return http.StatusOK, out, nil
}

// schedule is the schedule the URL names: it must be of that repository's
// importer (Pulp 2.4+ did not check; the contract recommends it).
func (d *dialect) schedule(ps httprouter.Params) (fsm.PulpSchedule, *Error) {
	if _, e := d.importer(ps); e != nil {
		return fsm.PulpSchedule{}, e
	}
	sc, ok := d.schedules.PulpSchedule(ps.ByName("sid"))
	if !ok || sc.Repo != ps.ByName("repo") || sc.Importer != ps.ByName("imp") {
		return fsm.PulpSchedule{}, missingResource("schedule_id", ps.ByName("sid"))
	}
	return sc, nil
}

func (d *dialect) getSchedule(r *http.Request, ps httprouter.Params) (int, any, error) {
	sc, e := d.schedule(ps)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, scheduleView(sc, collection(r, ps), time.Now()), nil
}

func (d *dialect) updateSchedule(r *http.Request, ps httprouter.Params) (int, any, error) {
	obj, e := readScheduleBody(r, true, "schedule", "override_config", "failure_threshold", "enabled", "remaining_runs")
	if e != nil {
		return 0, nil, e
	}
	if _, e := d.schedule(ps); e != nil {
		return 0, nil, e
	}
	ch, e := readScheduleChange(obj, false, "iso_schedule")
	if e != nil {
		return 0, nil, e
	}
	sc, err := d.schedules.UpdatePulpSchedule(r.Context(), ps.ByName("sid"), ch)
	if err != nil {
		return 0, nil, scheduleError(err, ps.ByName("sid"))
	}
	return http.StatusOK, scheduleView(sc, collection(r, ps), time.Now()), nil
}

func (d *dialect) deleteSchedule(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.schedule(ps); e != nil {
		return 0, nil, e
	}
	if err := d.schedules.DeletePulpSchedule(r.Context(), ps.ByName("sid")); err != nil {
		return 0, nil, scheduleError(err, ps.ByName("sid"))
	}
	return http.StatusOK, nil, nil
}

func scheduleError(err error, id string) error {
	var fe *fsm.Error
	switch {
	case errors.As(err, &fe) && fe.Kind == fsm.KindInvalid && fe.Field != "":
		return invalidValue(fe.Field)
	case fsm.KindOf(err) == fsm.KindNotFound:
		return missingResource("schedule_id", id)
	}
	return err
}
