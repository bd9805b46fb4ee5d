package pulp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// Consumers is what the dialect needs of the agent for consumers: those
// registered with this region's Pulp server.
type Consumers interface {
	PulpConsumers() []fsm.PulpConsumer
	PulpConsumer(id string) (fsm.PulpConsumer, bool)
	CreatePulpConsumer(ctx context.Context, c fsm.PulpConsumer) (fsm.PulpConsumer, error)
	UpdatePulpConsumer(ctx context.Context, u fsm.PulpConsumerUpdate) (fsm.PulpConsumer, error)
	DeletePulpConsumer(ctx context.Context, id string) error
	BindPulpConsumer(ctx context.Context, consumer string, b fsm.PulpBinding) (fsm.PulpConsumer, error)
	UnbindPulpConsumer(ctx context.Context, consumer, repo, dist string) error
	// PulpContentAction asks for install, update or uninstall of units and
	// answers the id of the task that carries it out.
	PulpContentAction(ctx context.Context, consumer string, call fsm.PulpContentCall) (string, error)
}

func (d *dialect) registerConsumers() {
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	d.handle(http.MethodPost, "/consumers/", w, d.createConsumer)
	d.handle(http.MethodGet, "/consumers/", r, d.listConsumers)
	d.handle(http.MethodGet, "/consumers/:c/", r, d.getConsumer)
	d.handle(http.MethodPut, "/consumers/:c/", w, d.updateConsumer)
	d.handle(http.MethodDelete, "/consumers/:c/", w, d.deleteConsumer)
	d.handle(http.MethodPost, "/consumers/:c/bindings/", w, d.bind)
	d.handle(http.MethodGet, "/consumers/:c/bindings/", r, d.bindings)
	d.handle(http.MethodGet, "/consumers/:c/bindings/:r/", r, d.bindings)
	d.handle(http.MethodGet, "/consumers/:c/bindings/:r/:d/", r, d.bindings)
	d.handle(http.MethodDelete, "/consumers/:c/bindings/:r/:d/", w, d.unbind)
	d.handle(http.MethodPost, "/consumers/:c/actions/content/:action/", w, d.contentAction)
}

func consumerHref(id string) string { return Prefix + "/consumers/" + id + "/" }

func consumerView(c fsm.PulpConsumer, bindings bool) map[string]any {
	notes := c.Notes
	if notes == nil {
		notes = map[string]json.RawMessage{}
	}
	v := map[string]any{
		"id": c.ID, "display_name": c.DisplayName, "description": c.Description, "notes": notes, "capabilities": map[string]any{},
		"rsa_pub": c.RSAPub, "_id": oid("consumer", c.Cluster, c.ID), "_ns": "consumers", "_href": consumerHref(c.ID),
	}
	if bindings {
		list := []any{}
		for _, b := range c.Bindings {
			list = append(list, bindingView(c, b))
		}
		v["bindings"] = list
	}
	return v
}

func bindingView(c fsm.PulpConsumer, b fsm.PulpBinding) map[string]any {
	config := b.BindingConfig
	if config == nil {
		config = map[string]json.RawMessage{}
	}
	return map[string]any{
		"_id": oid("binding", c.Cluster, c.ID, b.Repo, b.Distributor), "id": oid("binding", c.Cluster, c.ID, b.Repo, b.Distributor)["$oid"],
		"_ns": "consumer_bindings", "consumer_id": c.ID, "repo_id": b.Repo, "distributor_id": b.Distributor, "notify_agent": b.NotifyAgent,
		"binding_config": config, "consumer_actions": []any{}, "deleted": false, "type_id": fsm.PulpISODistributor,
		"_href": consumerHref(c.ID) + "bindings/" + b.Repo + "/" + b.Distributor + "/",
	}
}

func (d *dialect) consumer(ps httprouter.Params) (fsm.PulpConsumer, *Error) {
	c, ok := d.consumers.PulpConsumer(ps.ByName("c"))
	if !ok {
		return c, missingResource("consumer", ps.ByName("c"))
	}
	return c, nil
}

// createConsumer is POST /consumers/: 201 {"consumer", "certificate"}. Ferry
// issues no consumer certificates (consumers use tokens): certificate is
// null.
func (d *dialect) createConsumer(r *http.Request, _ httprouter.Params) (int, any, error) {
	obj, e := readObject(r, false)
	if e != nil {
		return 0, nil, e
	}
	raw, ok := obj["id"]
	if !ok || string(raw) == "null" {
		return 0, nil, missingValue("id")
	}
	c := fsm.PulpConsumer{}
	if json.Unmarshal(raw, &c.ID) != nil || c.ID == "" {
		return 0, nil, invalidValue("id")
	}
	for key, dst := range map[string]any{"display_name": &c.DisplayName, "description": &c.Description, "notes": &c.Notes, "rsa_pub": &c.RSAPub} {
		if raw, ok := obj[key]; ok && json.Unmarshal(raw, dst) != nil {
			return 0, nil, invalidValue(key)
		}
	}
	out, err := d.consumers.CreatePulpConsumer(r.Context(), c)
	if err != nil {
		return 0, nil, consumerError(err, c.ID)
	}
	setLocation(r, consumerHref(out.ID))
	return http.StatusCreated, map[string]any{"consumer": consumerView(out, false), "certificate": nil}, nil
}

func (d *dialect) listConsumers(r *http.Request, _ httprouter.Params) (int, any, error) {
	out := []any{}
	for _, c := range d.consumers.PulpConsumers() {
		out = append(out, consumerView(c, flag(r, "bindings") || flag(r, "details")))
	}
	return http.StatusOK, out, nil
}

func (d *dialect) getConsumer(r *http.Request, ps httprouter.Params) (int, any, error) {
	c, e := d.consumer(ps)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, consumerView(c, flag(r, "bindings") || flag(r, "details")), nil
}

// updateConsumer is PUT /consumers/<id>/ {"delta": {display_name,
// description, notes}}, validated like a create.
func (d *dialect) updateConsumer(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.consumer(ps); e != nil {
		return 0, nil, e
	}
	obj, e := readObject(r, false)
	if e != nil {
		return 0, nil, e
	}
	var delta map[string]json.RawMessage
	if json.Unmarshal(obj["delta"], &delta) != nil || delta == nil {
		return 0, nil, missingValue("delta")
	}
	u := fsm.PulpConsumerUpdate{ID: ps.ByName("c"), Description: delta["description"]}
	if raw, ok := delta["display_name"]; ok {
		var name string
		if json.Unmarshal(raw, &name) != nil {
			return 0, nil, invalidValue("display_name")
		}
		u.DisplayName = &name
	}
	if raw, ok := delta["notes"]; ok && json.Unmarshal(raw, &u.Notes) != nil {
		return 0, nil, invalidValue("notes")
	}
	out, err := d.consumers.UpdatePulpConsumer(r.Context(), u)
	if err != nil {
		return 0, nil, consumerError(err, u.ID)
	}
	return http.StatusOK, consumerView(out, false), nil
}

func (d *dialect) deleteConsumer(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.consumer(ps); e != nil {
		return 0, nil, e
	}
	if err := d.consumers.DeletePulpConsumer(r.Context(), ps.ByName("c")); err != nil {
		return 0, nil, consumerError(err, ps.ByName("c"))
	}
	return http.StatusOK, nil, nil
}

// bind is POST /consumers/<c>/bindings/ {repo_id, distributor_id,
// notify_agent?, binding_config?, options?}: 200 with the binding as a
// call report's result when notify_agent is false, else 202. Ferry has no
// consumer agent to notify: the bind is done when it answers either way.
func (d *dialect) bind(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.consumer(ps); e != nil {
		return 0, nil, e
	}
	obj, e := readObject(r, false)
	if e != nil {
		return 0, nil, e
	}
	b := fsm.PulpBinding{NotifyAgent: true}
	var bad []string
	for key, dst := range map[string]*string{"repo_id": &b.Repo, "distributor_id": &b.Distributor} {
		if json.Unmarshal(obj[key], dst) != nil || *dst == "" {
			bad = append(bad, key)
		}
	}
	if raw, ok := obj["notify_agent"]; ok && json.Unmarshal(raw, &b.NotifyAgent) != nil {
		bad = append(bad, "notify_agent")
	}
	if raw, ok := obj["binding_config"]; ok && string(raw) != "null" && json.Unmarshal(raw, &b.BindingConfig) != nil {
		bad = append(bad, "binding_config")
	}
	if len(bad) > 0 {
		return 0, nil, invalidValue(sortedNames(bad)...)
	}
	c, err := d.consumers.BindPulpConsumer(r.Context(), ps.ByName("c"), b)
	if err != nil {
		var fe *fsm.Error
		if errors.As(err, &fe) && fe.Field == "repo_id" {
			return 0, nil, invalidValue("repo_id", "distributor_id")
		}
		return 0, nil, consumerError(err, ps.ByName("c"))
	}
	// The consumer as read after the bind: deleted or unbound since by
	// another call, it has no binding to show.
	i := c.BindingIndex(b.Repo, b.Distributor)
	if i < 0 {
		return 0, nil, missingResource("consumer", ps.ByName("c"))
	}
	report := map[string]any{"result": bindingView(c, c.Bindings[i]), "error": nil, "spawned_tasks": []any{}}
	if b.NotifyAgent {
		return http.StatusAccepted, report, nil
	}
	return http.StatusOK, report, nil
}

// sortedNames keeps Pulp's order of the bind properties.
func sortedNames(names []string) []string {
	var out []string
	for _, n := range []string{"repo_id", "distributor_id", "notify_agent", "binding_config"} {
		for _, b := range names {
			if b == n {
				out = append(out, n)
			}
		}
	}
	return out
}

// bindings lists a consumer's bindings, of a repository, or one.
func (d *dialect) bindings(_ *http.Request, ps httprouter.Params) (int, any, error) {
	c, e := d.consumer(ps)
	if e != nil {
		return 0, nil, e
	}
	repo, dist := ps.ByName("r"), ps.ByName("d")
	if dist != "" {
		i := c.BindingIndex(repo, dist)
		if i < 0 {
			return 0, nil, missingResource("bind_id", c.ID+"/"+repo+"/"+dist)
		}
		return http.StatusOK, bindingView(c, c.Bindings[i]), nil
	}
	out := []any{}
	for _, b := range c.Bindings {
		if repo == "" || b.Repo == repo {
			out = append(out, bindingView(c, b))
		}
	}
	return http.StatusOK, out, nil
}

func (d *dialect) unbind(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.consumer(ps); e != nil {
		return 0, nil, e
	}
	if err := d.consumers.UnbindPulpConsumer(r.Context(), ps.ByName("c"), ps.ByName("r"), ps.ByName("d")); err != nil {
		if fsm.KindOf(err) == fsm.KindNotFound {
			return 0, nil, missingResource("bind_id", ps.ByName("c")+"/"+ps.ByName("r")+"/"+ps.ByName("d"))
		}
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"result": nil, "error": nil, "spawned_tasks": []any{}}, nil
}

// contentAction is POST /consumers/<c>/actions/content/{install|update|
// uninstall}/ {units, options}: 202 spawning the task that carries it out.
func (d *dialect) contentAction(r *http.Request, ps httprouter.Params) (int, any, error) {
	action := ps.ByName("action")
	if action != "install" && action != "update" && action != "uninstall" {
		return 0, nil, errBadRequest
	}
	if _, e := d.consumer(ps); e != nil {
		return 0, nil, e
	}
	obj, e := readObject(r, false)
	if e != nil {
		return 0, nil, e
	}
	var missing []string
	for _, k := range []string{"units", "options"} {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return 0, nil, missingValue(missing...)
	}
	units, e := readUnits(obj["units"])
	if e != nil {
		return 0, nil, e
	}
	var options map[string]json.RawMessage
	if json.Unmarshal(obj["options"], &options) != nil {
		return 0, nil, invalidValue("options")
	}
	id, err := d.consumers.PulpContentAction(r.Context(), ps.ByName("c"), fsm.PulpContentCall{Action: action, Units: units, Options: options})
	if err != nil {
		return 0, nil, consumerError(err, ps.ByName("c"))
	}
	return http.StatusAccepted, map[string]any{"result": nil, "error": nil,
		"spawned_tasks": []any{map[string]string{"_href": taskHref(id), "task_id": id}}}, nil
}

// readUnits reads [{type_id, unit_key}], taking the seed's unit_keys for
// unit_key (the contract's normalisation).
func readUnits(raw json.RawMessage) ([]fsm.PulpUnit, *Error) {
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, invalidValue("units")
	}
	out := []fsm.PulpUnit{}
	for _, u := range list {
		key, ok := u["unit_key"]
		if !ok {
			key = u["unit_keys"]
		}
		var unit fsm.PulpUnit
		if json.Unmarshal(u["type_id"], &unit.TypeID) != nil || json.Unmarshal(key, &unit.UnitKey) != nil || unit.UnitKey == nil {
			return nil, invalidValue("units")
		}
		out = append(out, unit)
	}
	return out, nil
}

// unitsView is units as Pulp shows them: {type_id, unit_key}.
func unitsView(units []fsm.PulpUnit) []any {
	out := []any{}
	for _, u := range units {
		out = append(out, map[string]any{"type_id": u.TypeID, "unit_key": u.UnitKey})
	}
	return out
}

func consumerError(err error, id string) error {
	var fe *fsm.Error
	switch {
	case fsm.RuleOf(err) == fsm.RuleDuplicate:
		return duplicateResource(id)
	case errors.As(err, &fe) && fe.Kind == fsm.KindInvalid && fe.Field != "":
		return invalidValue(fe.Field)
	case fsm.KindOf(err) == fsm.KindNotFound:
		return missingResource("consumer", id)
	}
	return err
}
