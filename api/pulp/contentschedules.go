package pulp

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// A consumer's content schedules, one collection per action:
// /consumers/<c>/schedules/content/{install|update|uninstall}/[<id>/].
// They call the content action with their units and options.

var (
	contentScheduleKeys       = []string{"schedule", "units", "options", "failure_threshold", "enabled"}
	contentScheduleUpdateKeys = append(slices.Clone(contentScheduleKeys), "remaining_runs")
)

func (d *dialect) registerContentSchedules() {
	d.handleSchedules("/consumers/:c/schedules/content/:action/", d.contentSchedules)
}

// contentSchedules is the collection of a consumer's action. A PUT is
// validated as a create (Pulp 2.4+ did not validate), takes remaining_runs
// (the seed) and keeps what it does not name (2.4+ lost options when given
// units alone).
func (d *dialect) contentSchedules(r *http.Request, ps httprouter.Params) (scheduleCollection, error) {
	action := ps.ByName("action")
	if !slices.Contains(fsm.PulpContentActions, action) {
		return scheduleCollection{}, errBadRequest
	}
	c := ps.ByName("c")
	_, known := d.consumers.PulpConsumer(c)
	return scheduleCollection{
		href: consumerHref(c) + "schedules/content/" + action + "/", createKeys: contentScheduleKeys, updateKeys: contentScheduleUpdateKeys, putName: "schedule",
		// Pulp names the consumer "consumer" on a create, "consumer_id" on
		// a list, and with the schedule on one schedule's calls.
		owner: func() error {
			switch {
			case known:
				return nil
			case r.Method == http.MethodGet:
				return missingResource("consumer_id", c)
			}
			return missingResource("consumer", c)
		},
		ownerOfOne: func() error {
			if !known {
				return missingResources("consumer_id", c, "schedule_id", ps.ByName("sid"))
			}
			return nil
		},
		holds: func(sc fsm.PulpSchedule) bool {
			return sc.Content != nil && sc.Content.Consumer == c && sc.Content.Action == action
		},
		missing: func(sid string) error { return missingResources("consumer_id", c, "schedule_id", sid) },
		check: func(ch ScheduleChange, create bool) error {
			switch {
			case create && len(ch.Units) == 0:
				return missingValue("units")
			case !create && ch.Units != nil && len(ch.Units) == 0:
				return invalidValue("units")
			}
			return nil
		},
		create: func(ctx context.Context, ch ScheduleChange) (fsm.PulpSchedule, error) {
			return d.schedules.CreatePulpContentSchedule(ctx, c, action, ch)
		},
		list: func() []fsm.PulpSchedule { return d.schedules.PulpContentSchedules(c, action) },
		view: contentScheduleView,
	}, nil
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
