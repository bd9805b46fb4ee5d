package pulp

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// Repos is what the dialect needs of the agent for repositories: the Pulp
// repositories of the agent's own region.
type Repos interface {
	PulpRepos() []fsm.PulpRepo
	PulpRepo(id string) (fsm.PulpRepo, bool)
	CreatePulpRepo(ctx context.Context, r fsm.PulpRepo) (fsm.PulpRepo, error)
	UpdatePulpRepo(ctx context.Context, u fsm.PulpRepoUpdate) (fsm.PulpRepo, error)
	DeletePulpRepo(ctx context.Context, id string) (fsm.PulpTask, error)
	SetPulpImporter(ctx context.Context, id string, imp *fsm.PulpImporter) (fsm.PulpTask, error)
	// PulpUnits counts the units (files) a repository holds.
	PulpUnits(ctx context.Context, id string) (int64, error)
}

func (d *dialect) registerRepositories() {
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	d.handle(http.MethodPost, "/repositories/", w, d.createRepo)
	d.handle(http.MethodGet, "/repositories/", r, d.listRepos)
	d.handle(http.MethodGet, "/repositories/:repo/", r, d.getRepo)
	d.handle(http.MethodPut, "/repositories/:repo/", w, d.updateRepo)
	d.handle(http.MethodDelete, "/repositories/:repo/", w, d.deleteRepo)
	d.handle(http.MethodGet, "/repositories/:repo/importers/", r, d.listImporters)
	d.handle(http.MethodPost, "/repositories/:repo/importers/", w, d.addImporter)
	d.handle(http.MethodGet, "/repositories/:repo/importers/:imp/", r, d.getImporter)
	d.handle(http.MethodPut, "/repositories/:repo/importers/:imp/", w, d.updateImporter)
	d.handle(http.MethodDelete, "/repositories/:repo/importers/:imp/", w, d.deleteImporter)
}

// flag is a Pulp query boolean: only "true", in any case, is true.
func flag(r *http.Request, name string) bool {
	return strings.EqualFold(r.URL.Query().Get(name), "true")
}

func (d *dialect) view(r *http.Request, repo fsm.PulpRepo) map[string]any {
	details := flag(r, "details")
	units, _ := d.repos.PulpUnits(r.Context(), repo.ID)
	v := repoView(repo, units, details || flag(r, "importers"), details || flag(r, "distributors"))
	if details {
		v["total_repository_units"], v["locally_stored_units"] = units, units
	}
	return v
}

// repoBody is POST /repositories/'s body.
type repoBody struct {
	ID             string                     `json:"id"`
	DisplayName    *string                    `json:"display_name"`
	Description    *string                    `json:"description"`
	Notes          map[string]json.RawMessage `json:"notes"`
	ImporterTypeID *string                    `json:"importer_type_id"`
	ImporterConfig map[string]json.RawMessage `json:"importer_config"`
	Distributors   []distributorBody          `json:"distributors"`
}

type distributorBody struct {
	TypeID      string                     `json:"distributor_type_id"`
	Config      map[string]json.RawMessage `json:"distributor_config"`
	AutoPublish bool                       `json:"auto_publish"`
	ID          string                     `json:"distributor_id"`
}

// decodeRepo reads a create body, refusing what Pulp's manager refuses, by
// property: repo_id, notes, distributor_list.
func decodeRepo(obj map[string]json.RawMessage) (fsm.PulpRepo, *Error) {
	var id string
	if json.Unmarshal(obj["id"], &id) != nil || id == "" {
		return fsm.PulpRepo{}, invalidValue("repo_id")
	}
	var b repoBody
	for key, dst := range map[string]any{"display_name": &b.DisplayName, "description": &b.Description, "importer_type_id": &b.ImporterTypeID, "importer_config": &b.ImporterConfig} {
		if raw, ok := obj[key]; ok && json.Unmarshal(raw, dst) != nil {
			return fsm.PulpRepo{}, invalidValue(key)
		}
	}
	if raw, ok := obj["notes"]; ok && json.Unmarshal(raw, &b.Notes) != nil {
		return fsm.PulpRepo{}, invalidValue("notes")
	}
	if raw, ok := obj["distributors"]; ok && json.Unmarshal(raw, &b.Distributors) != nil {
		return fsm.PulpRepo{}, invalidValue("distributor_list")
	}
	r := fsm.PulpRepo{ID: id, Description: b.Description, Notes: b.Notes}
	if b.DisplayName != nil {
		r.DisplayName = *b.DisplayName
	}
	if b.ImporterTypeID != nil {
		r.Importer = &fsm.PulpImporter{TypeID: *b.ImporterTypeID, Config: b.ImporterConfig}
	}
	for _, db := range b.Distributors {
		if db.ID == "" {
			db.ID = db.TypeID
		}
		r.Distributors = append(r.Distributors, fsm.PulpDistributor{ID: db.ID, TypeID: db.TypeID, Config: db.Config, AutoPublish: db.AutoPublish})
	}
	return r, nil
}

func (d *dialect) createRepo(r *http.Request, _ httprouter.Params) (int, any, error) {
	obj, e := readObject(r, false)
	if e != nil {
		return 0, nil, e
	}
	repo, e := decodeRepo(obj)
	if e != nil {
		return 0, nil, e
	}
	out, err := d.repos.CreatePulpRepo(r.Context(), repo)
	if err != nil {
		return 0, nil, repoError(err, repo.ID)
	}
	setLocation(r, repoHref(out.ID))
	return http.StatusCreated, d.view(r, out), nil
}

func (d *dialect) listRepos(r *http.Request, _ httprouter.Params) (int, any, error) {
	out := []any{}
	for _, repo := range d.repos.PulpRepos() {
		out = append(out, d.view(r, repo))
	}
	return http.StatusOK, out, nil
}

func (d *dialect) repo(ps httprouter.Params) (fsm.PulpRepo, *Error) {
	repo, ok := d.repos.PulpRepo(ps.ByName("repo"))
	if !ok {
		return fsm.PulpRepo{}, missingResource("repository", ps.ByName("repo"))
	}
	return repo, nil
}

func (d *dialect) getRepo(r *http.Request, ps httprouter.Params) (int, any, error) {
	repo, e := d.repo(ps)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, d.view(r, repo), nil
}

// updateRepo is PUT /repositories/<id>/: {delta?, importer_config?,
// distributor_configs?}, answered 200 with the repository as the result of
// a call report.
func (d *dialect) updateRepo(r *http.Request, ps httprouter.Params) (int, any, error) {
	repo, e := d.repo(ps)
	if e != nil {
		return 0, nil, e
	}
	obj, e := readObject(r, true)
	if e != nil {
		return 0, nil, e
	}
	u := fsm.PulpRepoUpdate{ID: ps.ByName("repo")}
	var delta map[string]json.RawMessage
	if raw, ok := obj["delta"]; ok && string(raw) != "null" && json.Unmarshal(raw, &delta) != nil {
		return 0, nil, invalidValue("delta")
	}
	if raw, ok := delta["display_name"]; ok {
		var name string
		if json.Unmarshal(raw, &name) != nil {
			return 0, nil, invalidValue("display_name")
		}
		u.DisplayName = &name
	}
	u.Description = delta["description"]
	if raw, ok := delta["notes"]; ok && json.Unmarshal(raw, &u.Notes) != nil {
		return 0, nil, invalidValue("notes")
	}
	if raw, ok := obj["importer_config"]; ok && string(raw) != "null" && json.Unmarshal(raw, &u.ImporterConfig) != nil {
		return 0, nil, invalidValue("importer_config")
	}
	if raw, ok := obj["distributor_configs"]; ok && string(raw) != "null" && json.Unmarshal(raw, &u.DistributorConfigs) != nil {
		return 0, nil, invalidValue("distributor_configs")
	}
	if id, ok := unknownDistributor(repo, u.DistributorConfigs); ok {
		return 0, nil, missingResource("distributor_id", id)
	}
	out, err := d.repos.UpdatePulpRepo(r.Context(), u)
	if err != nil {
		return 0, nil, repoError(err, u.ID)
	}
	return http.StatusOK, map[string]any{"result": d.view(r, out), "error": nil, "spawned_tasks": []any{}}, nil
}

// unknownDistributor is the first distributor id (in order) configs names
// that repo lacks: Pulp's distributor update is refused for it, naming the
// distributor, where the state's refusal would read as the repository's.
func unknownDistributor(repo fsm.PulpRepo, configs map[string]map[string]json.RawMessage) (string, bool) {
	for _, id := range slices.Sorted(maps.Keys(configs)) {
		if !slices.ContainsFunc(repo.Distributors, func(d fsm.PulpDistributor) bool { return d.ID == id }) {
			return id, true
		}
	}
	return "", false
}

func (d *dialect) deleteRepo(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.repo(ps); e != nil {
		return 0, nil, e
	}
	t, err := d.repos.DeletePulpRepo(r.Context(), ps.ByName("repo"))
	if err != nil {
		return 0, nil, repoError(err, ps.ByName("repo"))
	}
	return http.StatusAccepted, callReport(t), nil
}

// listImporters does not look the repository up: an unknown one has none,
// as Pulp answers.
func (d *dialect) listImporters(_ *http.Request, ps httprouter.Params) (int, any, error) {
	out := []any{}
	if repo, ok := d.repos.PulpRepo(ps.ByName("repo")); ok && repo.Importer != nil {
		out = append(out, importerView(repo, *repo.Importer))
	}
	return http.StatusOK, out, nil
}

func (d *dialect) importer(ps httprouter.Params) (fsm.PulpRepo, *Error) {
	repo, e := d.repo(ps)
	if e != nil {
		return repo, e
	}
	if repo.Importer == nil || repo.Importer.TypeID != ps.ByName("imp") {
		return repo, missingResource("importer_id", ps.ByName("imp"))
	}
	return repo, nil
}

func (d *dialect) getImporter(_ *http.Request, ps httprouter.Params) (int, any, error) {
	repo, e := d.importer(ps)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, importerView(repo, *repo.Importer), nil
}

// addImporter is POST .../importers/: {importer_type_id, importer_config},
// checked at once, then a task; it replaces an importer the repository has.
func (d *dialect) addImporter(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.repo(ps); e != nil {
		return 0, nil, e
	}
	obj, e := readObject(r, false)
	if e != nil {
		return 0, nil, e
	}
	var typ string
	if _, ok := obj["importer_type_id"]; !ok {
		return 0, nil, missingValue("importer_type_id")
	}
	if json.Unmarshal(obj["importer_type_id"], &typ) != nil {
		return 0, nil, invalidValue("importer_type_id")
	}
	imp := &fsm.PulpImporter{TypeID: typ}
	if raw, ok := obj["importer_config"]; ok && string(raw) != "null" && json.Unmarshal(raw, &imp.Config) != nil {
		return 0, nil, invalidValue("importer_config")
	}
	t, err := d.repos.SetPulpImporter(r.Context(), ps.ByName("repo"), imp)
	if err != nil {
		return 0, nil, repoError(err, ps.ByName("repo"))
	}
	return http.StatusAccepted, callReport(t), nil
}

// updateImporter is PUT .../importers/<imp>/: {importer_config}, merged key
// by key (null removes a key), as a task.
func (d *dialect) updateImporter(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.importer(ps); e != nil {
		return 0, nil, e
	}
	obj, e := readObject(r, false)
	if e != nil {
		return 0, nil, e
	}
	raw, ok := obj["importer_config"]
	if !ok {
		return 0, nil, missingValue("importer_config")
	}
	u := fsm.PulpRepoUpdate{ID: ps.ByName("repo"), TaskID: fsm.NewID()}
	if json.Unmarshal(raw, &u.ImporterConfig) != nil || u.ImporterConfig == nil {
		return 0, nil, invalidValue("importer_config")
	}
	if _, err := d.repos.UpdatePulpRepo(r.Context(), u); err != nil {
		return 0, nil, repoError(err, u.ID)
	}
	t, _ := d.tasks.PulpTask(u.TaskID)
	return http.StatusAccepted, callReport(t), nil
}

func (d *dialect) deleteImporter(r *http.Request, ps httprouter.Params) (int, any, error) {
	if _, e := d.importer(ps); e != nil {
		return 0, nil, e
	}
	t, err := d.repos.SetPulpImporter(r.Context(), ps.ByName("repo"), nil)
	if err != nil {
		return 0, nil, repoError(err, ps.ByName("repo"))
	}
	return http.StatusAccepted, callReport(t), nil
}

// repoError words a refusal about repository id in Pulp's terms: a taken
// id 409 PLP0018, an unknown importer type 400 PLP1008, another invalid
// property 400 PLP0015 naming it, a missing repository 404 PLP0009.
func repoError(err error, id string) error {
	var fe *fsm.Error
	switch {
	case fsm.RuleOf(err) == fsm.RuleDuplicate:
		return duplicateResource(id)
	case errors.As(err, &fe) && fe.Field == "importer_type_id":
		typ := strings.TrimSuffix(strings.TrimPrefix(fe.Reason, "the importer type "), " does not exist")
		return &Error{Status: http.StatusBadRequest, Code: "PLP1008", Message: "The importer type " + typ + " does not exist",
			Data: map[string]any{"importer_type_id": typ}, Top: map[string]any{"args": []any{}}}
	case errors.As(err, &fe) && fe.Kind == fsm.KindInvalid && fe.Field != "":
		return invalidValue(fe.Field)
	case fsm.KindOf(err) == fsm.KindNotFound:
		return missingResource("repository", id)
	}
	return err
}

// setLocation is the Location of what a request created; handle writes it.
func setLocation(r *http.Request, href string) {
	if h, ok := r.Context().Value(headersKey{}).(http.Header); ok {
		h.Set("Location", href)
	}
}

type headersKey struct{}
