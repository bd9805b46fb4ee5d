package swr

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/registry"
	"github.com/julienschmidt/httprouter"
)

// TimeLayout is how SWR writes times: UTC with microseconds, fixed width
// so that the strings sort as the times do.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// category is what every Ferry image is in SWR's categories: Ferry keeps
// none.
const category = "other"

// repoView is SWR's repository (ListReposDetails' ShowReposResp).
type repoView struct {
	Name         string   `json:"name"`
	Category     string   `json:"category"`
	Description  string   `json:"description"`
	Size         int64    `json:"size"`
	IsPublic     bool     `json:"is_public"`
	NumImages    int64    `json:"num_images"`
	NumDownload  int64    `json:"num_download"`
	CreatedAt    string   `json:"created_at"`
	UpdatedAt    string   `json:"updated_at"`
	Logo         string   `json:"logo"`
	URL          string   `json:"url"`
	Path         string   `json:"path"`
	InternalPath string   `json:"internal_path"`
	DomainName   string   `json:"domain_name"`
	Namespace    string   `json:"namespace"`
	Tags         []string `json:"tags"`
	Status       bool     `json:"status"`
	TotalRange   int64    `json:"total_range"`
}

// repoOrders are ListReposDetails' order columns.
var repoOrders = map[string]func(a, b repoView) int{
	"name":         func(a, b repoView) int { return strings.Compare(a.Name, b.Name) },
	"namespace":    func(a, b repoView) int { return strings.Compare(a.Namespace, b.Namespace) },
	"updated_time": func(a, b repoView) int { return strings.Compare(a.UpdatedAt, b.UpdatedAt) },
	"tag_count":    func(a, b repoView) int { return cmp.Compare(a.NumImages, b.NumImages) },
	"is_public":    func(a, b repoView) int { return 0 },
}

// listRepos is GET /repos: every image of the store's DOCKER repositories
// as an SWR repository, filtered (namespace and name by substring, as SWR's
// fuzzy match), ordered (default namespace then name, ascending) and paged.
func (d *dialect) listRepos(r *http.Request, _ httprouter.Params) (reply, error) {
	q, err := query(r)
	if err != nil {
		return reply{}, err
	}
	p, e := listParams(q, "namespace", "name", "category", "is_public", "limit", "offset", "order_column", "order_type")
	if e != nil {
		return reply{}, e
	}
	order, err := orderOf(p, repoOrders, "name")
	if err != nil {
		return reply{}, err
	}
	w, err := windowOf(p, -1, 1000)
	if err != nil {
		return reply{}, err
	}
	views, err := d.repoViews(r, p)
	if err != nil {
		return reply{}, err
	}
	slices.SortStableFunc(views, order)
	for i := range views {
		views[i].TotalRange = int64(len(views))
	}
	page, rng := pageOf(views, w)
	return reply{status: http.StatusOK, body: page, contentRange: rng}, nil
}

// repoViews are the repositories p selects, by namespace and name.
func (d *dialect) repoViews(r *http.Request, p params) ([]repoView, error) {
	projects, err := d.projects.Projects(r.Context())
	if err != nil {
		return nil, err
	}
	views := []repoView{}
	if c, ok := p["category"]; ok && c != "" && c != category || p["is_public"] == "true" {
		return views, nil
	}
	for _, pr := range projects {
		if !strings.Contains(pr.Name, p["namespace"]) {
			continue
		}
		images, err := d.images.Images(r.Context(), pr.Name)
		if err != nil {
			return nil, err
		}
		for _, img := range images {
			v := viewRepo(r, img)
			if strings.Contains(v.Name, p["name"]) {
				views = append(views, v)
			}
		}
	}
	slices.SortFunc(views, func(a, b repoView) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return views, nil
}

func viewRepo(r *http.Request, img registry.ImageSummary) repoView {
	name := strings.TrimPrefix(img.Name, img.Project+"/")
	path := r.Host + "/" + img.Name
	tags := img.Tags
	if tags == nil {
		tags = []string{}
	}
	return repoView{Name: name, Category: category, Size: img.Size, NumImages: int64(len(img.Tags)),
		CreatedAt: formatTime(img.Created), UpdatedAt: formatTime(img.Updated), Path: path, InternalPath: path,
		DomainName: api.CallerOf(r.Context()).Name, Namespace: img.Project, Tags: tags}
}

// orderOf is the comparison order_column and order_type ask for (def, asc
// when not given); ties keep the listing's own order.
func orderOf[T any](p params, columns map[string]func(a, b T) int, def string) (func(a, b T) int, error) {
	col := cmp.Or(p["order_column"], def)
	by, ok := columns[col]
	if !ok {
		return nil, invalidParameter("order_column %q", col)
	}
	switch p["order_type"] {
	case "", "asc":
		return by, nil
	case "desc":
		return func(a, b T) int { return by(b, a) }, nil
	}
	return nil, invalidParameter("order_type %q: asc or desc", p["order_type"])
}

// repoGet serves GET /namespaces/{ns}/repos/{repo}/...: the suffix picks
// the operation (parseRepoPath). ShowRepository and a single tag are an
// unknown URL for now.
func (d *dialect) repoGet(r *http.Request, ps httprouter.Params) (reply, error) {
	ns, rp, err := repoOp(r, ps, opTags, opSyncRepo, opSyncJob)
	if err != nil {
		return reply{}, err
	}
	switch rp.Op {
	case opSyncRepo:
		return d.listRules(r, ns, rp.Repo)
	case opSyncJob:
		return d.listJobs(r, ns, rp.Repo)
	}
	return d.listTags(r, ns, rp.Repo)
}
