package pulp

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// A consumer's content schedules, one collection per action:
// /consumers/<c>/schedules/content/{install|update|uninstall}/[<id>/].
// They are ScheduledCalls like sync schedules (schedules.go), calling the
// content action with their units and options.

func (d *dialect) registerContentSchedules() {
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	base := "/consumers/:c/schedules/content/:action/"
	d.handle(http.MethodPost, base, w, d.createContentSchedule)
	d.handle(http.MethodGet, base, r, d.listContentSchedules)
	d.handle(http.MethodGet, base+":sid/", r, d.getContentSchedule)
	d.handle(http.MethodPut, base+":sid/", w, d.updateContentSchedule)
	d.handle(http.MethodDelete, base+":sid/", w, d.deleteContentSchedule)
}

var contentScheduleKeys = []string{"schedule", "units", "options", "failure_threshold", "enabled"}

func contentCollection(ps httprouter.Params) string {
	return consumerHref(ps.ByName("c")) + "schedules/content/" + ps.ByName("action") + "/"
}

// contentScheduleView is a content schedule: the call's fields, and its
// units and options both in kwargs and at the top (the seed's resource).
func contentScheduleView(sc fsm.PulpSchedule, href string, now time.Time) map[string]any {
	call := sc.Content
	options := call.Options
	if options == nil {
		options = map[string]json.RawMessage{}
	}
	v := callView(sc, href, now)
	v["task"], v["args"], v["resource"] = "pulp.server.tasks.consumer."+call.Action+"_content", []string{call.Consumer}, "pulp:consumer:"+call.Consumer
	v["units"], v["options"] = unitsView(call.Units), options
	v["kwargs"] = map[string]any{"units": v["units"], "options": options, "scheduled_call_id": sc.ID}
	return v
}

// contentAction is the URL's action: any other word is Pulp's plain 400.
func contentActionOf(ps httprouter.Params) (string, error) {
	if a := ps.ByName("action"); slices.Contains(fsm.PulpContentActions, a) {
		return a, nil
	}
	return "", errBadRequest
}

// createContentSchedule is POST: unknown keys (PLP0017), the consumer
// (404), the values (PLP0015), then units required (PLP0016); 201.
func (d *dialect) createContentSchedule(r *http.Request, ps httprouter.Params) (int, any, error) {
	action, err := contentActionOf(ps)
	if err != nil {
		return 0, nil, err
	}
	obj, e := readScheduleBody(r, false, contentScheduleKeys...)
	if e != nil {
		return 0, nil, e
	}
	if _, e := d.consumer(ps); e != nil {
		return 0, nil, e
	}
	ch, e := readScheduleChange(obj, true, "schedule")
	if e != nil {
		return 0, nil, e
	}
	if len(ch.Units) == 0 {
		return 0, nil, missingValue("units")
	}
	sc, err := d.schedules.CreatePulpContentSchedule(r.Context(), ps.ByName("c"), action, ch)
	if err != nil {
		return 0, nil, scheduleError(err, "")
	}
	setLocation(r, contentCollection(ps)+sc.ID+"/")
	return http.StatusCreated, contentScheduleView(sc, contentCollection(ps), time.Now()), nil
}

func (d *dialect) listContentSchedules(_ *http.Request, ps httprouter.Params) (int, any, error) {
	action, err := contentActionOf(ps)
	if err != nil {
		return 0, nil, err
	}
	if _, ok := d.consumers.PulpConsumer(ps.ByName("c")); !ok {
		return 0, nil, missingResource("consumer_id", ps.ByName("c"))
	}
	out := []any{}
	for _, sc := range d.schedules.PulpContentSchedules(ps.ByName("c"), action) {
		out = append(out, contentScheduleView(sc, contentCollection(ps), time.Now()))
	}
	return http.StatusOK, out, nil
}

// contentSchedule is the schedule the URL names, of that consumer and
// action (an update schedule is not in the install collection).
func (d *dialect) contentSchedule(ps httprouter.Params) (fsm.PulpSchedule, error) {
	action, err := contentActionOf(ps)
	if err != nil {
		return fsm.PulpSchedule{}, err
	}
	c, sid := ps.ByName("c"), ps.ByName("sid")
	sc, ok := d.schedules.PulpSchedule(sid)
	if _, known := d.consumers.PulpConsumer(c); !known || !ok || sc.Content == nil || sc.Content.Consumer != c || sc.Content.Action != action {
		return fsm.PulpSchedule{}, missingResources("consumer_id", c, "schedule_id", sid)
	}
	return sc, nil
}

func (d *dialect) getContentSchedule(_ *http.Request, ps httprouter.Params) (int, any, error) {
	sc, err := d.contentSchedule(ps)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, contentScheduleView(sc, contentCollection(ps), time.Now()), nil
}

// updateContentSchedule is PUT, validated as a create is (Pulp 2.4+ did
// not validate), remaining_runs settable (the seed), and units or options
// alone keep the other (the seed's merge; 2.4+ lost options).
func (d *dialect) updateContentSchedule(r *http.Request, ps httprouter.Params) (int, any, error) {
	obj, e := readScheduleBody(r, true, append(contentScheduleKeys, "remaining_runs")...)
	if e != nil {
		return 0, nil, e
	}
	if _, err := d.contentSchedule(ps); err != nil {
		return 0, nil, err
	}
	ch, e := readScheduleChange(obj, false, "schedule")
	if e != nil {
		return 0, nil, e
	}
	if ch.Units != nil && len(ch.Units) == 0 {
		return 0, nil, invalidValue("units")
	}
	sc, err := d.schedules.UpdatePulpSchedule(r.Context(), ps.ByName("sid"), ch)
	if err != nil {
		return 0, nil, scheduleError(err, ps.ByName("sid"))
	}
	return http.StatusOK, contentScheduleView(sc, contentCollection(ps), time.Now()), nil
}

func (d *dialect) deleteContentSchedule(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, err := d.contentSchedule(ps); err != nil {
		return 0, nil, err
	}
	if err := d.schedules.DeletePulpSchedule(r.Context(), ps.ByName("sid")); err != nil {
		return 0, nil, scheduleError(err, ps.ByName("sid"))
	}
	return http.StatusOK, nil, nil
}
