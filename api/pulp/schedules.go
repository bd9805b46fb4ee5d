package pulp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
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

// scheduleCollection is a collection of ScheduledCalls as a request names
// it (a repository importer's syncs, a distributor's publishes, a
// consumer's content action): where it is, what it holds, and how its
// schedules show. The handlers below serve every collection alike.
type scheduleCollection struct {
	href string
	// createKeys and updateKeys are the body keys each takes (others are
	// PLP0017); putName is what a PUT's PLP0015 calls the schedule.
	createKeys, updateKeys []string
	putName                string
	// owner is 404 when what the collection belongs to is missing; ownerOfOne,
	// when set, is the 404 of a single schedule's owner instead.
	owner, ownerOfOne func() error
	holds             func(fsm.PulpSchedule) bool
	missing           func(sid string) error
	// check refuses a change the collection cannot take, after the values
	// are read (a content schedule's units).
	check  func(ch ScheduleChange, create bool) error
	create func(ctx context.Context, ch ScheduleChange) (fsm.PulpSchedule, error)
	list   func() []fsm.PulpSchedule
	view   func(sc fsm.PulpSchedule, href string, now time.Time) map[string]any
}

// collectionOf builds the collection a request names.
type collectionOf func(r *http.Request, ps httprouter.Params) (scheduleCollection, error)

// handleSchedules mounts a collection's five calls at base.
func (d *dialect) handleSchedules(base string, of collectionOf) {
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	d.handle(http.MethodPost, base, w, of.serve(d.createSchedule))
	d.handle(http.MethodGet, base, r, of.serve(d.listSchedules))
	d.handle(http.MethodGet, base+":sid/", r, of.serve(d.getSchedule))
	d.handle(http.MethodPut, base+":sid/", w, of.serve(d.updateSchedule))
	d.handle(http.MethodDelete, base+":sid/", w, of.serve(d.deleteSchedule))
}

type scheduleHandler func(r *http.Request, ps httprouter.Params, c scheduleCollection) (int, any, error)

func (of collectionOf) serve(h scheduleHandler) handler {
	return func(r *http.Request, ps httprouter.Params) (int, any, error) {
		c, err := of(r, ps)
		if err != nil {
			return 0, nil, err
		}
		return h(r, ps, c)
	}
}

// createSchedule checks in Pulp's order: keys, owner, values, then what
// the collection needs; 201.
func (d *dialect) createSchedule(r *http.Request, _ httprouter.Params, c scheduleCollection) (int, any, error) {
	obj, e := readScheduleBody(r, false, c.createKeys...)
	if e != nil {
		return 0, nil, e
	}
	if err := c.owner(); err != nil {
		return 0, nil, err
	}
	ch, e := readScheduleChange(obj, true, "schedule")
	if e != nil {
		return 0, nil, e
	}
	if err := c.checkChange(ch, true); err != nil {
		return 0, nil, err
	}
	sc, err := c.create(r.Context(), ch)
	if err != nil {
		return 0, nil, scheduleError(err, "")
	}
	setLocation(r, c.href+sc.ID+"/")
	return http.StatusCreated, c.view(sc, c.href, time.Now()), nil
}

func (d *dialect) listSchedules(_ *http.Request, _ httprouter.Params, c scheduleCollection) (int, any, error) {
	if err := c.owner(); err != nil {
		return 0, nil, err
	}
	out := []any{}
	for _, sc := range c.list() {
		if c.holds(sc) {
			out = append(out, c.view(sc, c.href, time.Now()))
		}
	}
	return http.StatusOK, out, nil
}

// schedule is the schedule the URL names; it must be of that collection
// (Pulp 2.4+ did not check; the contract recommends it).
func (d *dialect) schedule(ps httprouter.Params, c scheduleCollection) (fsm.PulpSchedule, error) {
	owner := c.owner
	if c.ownerOfOne != nil {
		owner = c.ownerOfOne
	}
	if err := owner(); err != nil {
		return fsm.PulpSchedule{}, err
	}
	sc, ok := d.schedules.PulpSchedule(ps.ByName("sid"))
	if !ok || !c.holds(sc) {
		return fsm.PulpSchedule{}, c.missing(ps.ByName("sid"))
	}
	return sc, nil
}

func (d *dialect) getSchedule(_ *http.Request, ps httprouter.Params, c scheduleCollection) (int, any, error) {
	sc, err := d.schedule(ps, c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c.view(sc, c.href, time.Now()), nil
}

func (d *dialect) updateSchedule(r *http.Request, ps httprouter.Params, c scheduleCollection) (int, any, error) {
	obj, e := readScheduleBody(r, true, c.updateKeys...)
	if e != nil {
		return 0, nil, e
	}
	if _, err := d.schedule(ps, c); err != nil {
		return 0, nil, err
	}
	ch, e := readScheduleChange(obj, false, c.putName)
	if e != nil {
		return 0, nil, e
	}
	if err := c.checkChange(ch, false); err != nil {
		return 0, nil, err
	}
	sc, err := d.schedules.UpdatePulpSchedule(r.Context(), ps.ByName("sid"), ch)
	if err != nil {
		return 0, nil, scheduleError(err, ps.ByName("sid"))
	}
	return http.StatusOK, c.view(sc, c.href, time.Now()), nil
}

func (d *dialect) deleteSchedule(r *http.Request, ps httprouter.Params, c scheduleCollection) (int, any, error) {
	if _, err := d.schedule(ps, c); err != nil {
		return 0, nil, err
	}
	if err := d.schedules.DeletePulpSchedule(r.Context(), ps.ByName("sid")); err != nil {
		return 0, nil, scheduleError(err, ps.ByName("sid"))
	}
	return http.StatusOK, nil, nil
}

func (c scheduleCollection) checkChange(ch ScheduleChange, create bool) error {
	if c.check == nil {
		return nil
	}
	return c.check(ch, create)
}

// missingSchedule is the 404 of a schedule id a collection does not hold.
func missingSchedule(sid string) error { return missingResource("schedule_id", sid) }

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
