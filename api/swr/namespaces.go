package swr

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// namespaceView is SWR's organization (ShowNamespace, ListNamespaces).
type namespaceView struct {
	ID          int32  `json:"id"`
	Name        string `json:"name"`
	CreatorName string `json:"creator_name"`
	Auth        int    `json:"auth"`
}

// authOf is SWR's permission level on an organization from the caller's
// token: Ferry's policies are group-wide, so every organization gets the
// same one (7 manage, 3 edit, 1 read).
func authOf(p fsm.Policy) int {
	switch p {
	case fsm.PolicyAdmin:
		return 7
	case fsm.PolicyWrite:
		return 3
	}
	return 1
}

func viewNamespace(p store.Project, caller api.Caller) namespaceView {
	return namespaceView{ID: id32(p.Name), Name: p.Name, CreatorName: p.CreatedBy, Auth: authOf(caller.Policy)}
}

// listNamespaces is GET /namespaces[?namespace=][&filter=namespace::x|mode::visible]:
// every project, or the one named (404 when it is missing). mode::visible
// (the organizations the user may see) is every one: tokens see all.
func (d *dialect) listNamespaces(r *http.Request, _ httprouter.Params) (reply, error) {
	q, err := query(r)
	if err != nil {
		return reply{}, err
	}
	p, e := listParams(q, "namespace", "mode")
	if e != nil {
		return reply{}, e
	}
	if m, ok := p["mode"]; ok && m != "visible" {
		return reply{}, invalidFilter("mode " + m + ": only visible")
	}
	caller := api.CallerOf(r.Context())
	if name := p["namespace"]; name != "" {
		pr, err := d.namespace(r, name)
		if err != nil {
			return reply{}, err
		}
		return ok(map[string][]namespaceView{"namespaces": {viewNamespace(pr, caller)}}), nil
	}
	projects, err := d.projects.Projects(r.Context())
	if err != nil {
		return reply{}, err
	}
	views := []namespaceView{}
	for _, pr := range projects {
		views = append(views, viewNamespace(pr, caller))
	}
	return ok(map[string][]namespaceView{"namespaces": views}), nil
}

// namespace is the project of an organization, 404 SWR's way when missing.
func (d *dialect) namespace(r *http.Request, name string) (store.Project, error) {
	p, err := d.projects.Project(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return p, namespaceNotFound(name)
	}
	return p, err
}

func (d *dialect) showNamespace(r *http.Request, ps httprouter.Params) (reply, error) {
	p, err := d.namespace(r, ps.ByName("namespace"))
	if err != nil {
		return reply{}, err
	}
	return ok(viewNamespace(p, api.CallerOf(r.Context()))), nil
}

// createNamespace is POST /namespaces {"namespace"}: a project of this
// agent's store; 201 with no body, as SWR answers (the SDK's
// CreateNamespaceResponse has no body field).
func (d *dialect) createNamespace(r *http.Request, _ httprouter.Params) (reply, error) {
	var body struct {
		Namespace *string `json:"namespace"`
	}
	if err := readBody(r, &body); err != nil {
		return reply{}, err
	}
	if body.Namespace == nil || *body.Namespace == "" {
		return reply{}, refuse(http.StatusBadRequest, CodeParametersLost, "Parameters are lost", "namespace")
	}
	name := *body.Namespace
	if !validNamespace(name) {
		return reply{}, invalidNamespace(name, "1-64 characters: lowercase letters, digits, '.', '_', '-', starting with a letter, ending with a letter or digit, no two separators together but '__'")
	}
	_, err := d.projects.CreateProject(r.Context(), store.Project{Name: name, CreatedBy: api.CallerOf(r.Context()).Name})
	switch {
	case errors.Is(err, store.ErrExists):
		return reply{}, refuse(http.StatusConflict, CodeNamespaceExists, "Namespace already exists", "namespace %s", name)
	case errors.Is(err, store.ErrInvalid):
		return reply{}, invalidNamespace(name, err.Error())
	case err != nil:
		return reply{}, err
	}
	return reply{status: http.StatusCreated}, nil
}

func invalidNamespace(name, why string) *Error {
	return refuse(http.StatusBadRequest, CodeInvalidNamespace, "Invalid organization name", "%q: %s", name, why)
}

// deleteNamespace is DELETE /namespaces/{namespace}: 406 while it holds an
// image (SWR's rule), and also while it holds a repository that is not
// DOCKER: SWR cannot show those, and deleting the project would destroy
// them unseen. Its DOCKER repositories without images go with it.
func (d *dialect) deleteNamespace(r *http.Request, ps httprouter.Params) (reply, error) {
	ctx, name := r.Context(), ps.ByName("namespace")
	if _, err := d.namespace(r, name); err != nil {
		return reply{}, err
	}
	images, err := d.images.Images(ctx, name)
	if err != nil {
		return reply{}, err
	}
	if len(images) > 0 {
		return reply{}, notEmpty(name, "it holds %d image(s), %s first", len(images), images[0].Name)
	}
	repos, err := d.projects.Repos(ctx, name)
	if err != nil {
		return reply{}, err
	}
	var others []string
	for _, rp := range repos {
		if rp.Type != store.TypeDocker {
			others = append(others, rp.Name+" ("+string(rp.Type)+")")
		}
	}
	if len(others) > 0 {
		return reply{}, notEmpty(name, "its project holds repositories that are no image repositories: %s", strings.Join(others, ", "))
	}
	for _, rp := range repos {
		if err := d.projects.DeleteRepo(ctx, name, rp.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return reply{}, err
		}
	}
	if err := d.projects.DeleteProject(ctx, name); err != nil {
		if errors.Is(err, store.ErrNotEmpty) {
			return reply{}, notEmpty(name, "%v", err) // a push came in meanwhile
		}
		return reply{}, err
	}
	return reply{status: http.StatusNoContent}, nil
}

func notEmpty(name, format string, args ...any) *Error {
	e := refuse(http.StatusNotAcceptable, CodeNamespaceNotEmpty, "The organization is not empty", format, args...)
	e.Detail = "namespace " + name + ": " + e.Detail
	return e
}
