package swr

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/registry"
)

// tagView is SWR's tag (ListRepositoryTags' ShowReposTagResp): "Tag" with
// a capital T, as SWR spells it.
type tagView struct {
	ID           int64  `json:"id"`
	RepoID       int64  `json:"repo_id"`
	Tag          string `json:"Tag"`
	ImageID      string `json:"image_id"`
	Manifest     string `json:"manifest"`
	Digest       string `json:"digest"`
	Schema       int64  `json:"schema"`
	Path         string `json:"path"`
	InternalPath string `json:"internal_path"`
	Size         int64  `json:"size"`
	IsTrusted    bool   `json:"is_trusted"`
	Created      string `json:"created"`
	Updated      string `json:"updated"`
	Deleted      string `json:"deleted"`
	DomainID     string `json:"domain_id"`
	Scanned      bool   `json:"scanned"`
	TagType      int64  `json:"tag_type"` // 0 manifest, 1 manifest list
}

var tagOrders = map[string]func(a, b tagView) int{
	"updated_at": func(a, b tagView) int { return strings.Compare(a.Updated, b.Updated) },
	"created_at": func(a, b tagView) int { return strings.Compare(a.Created, b.Created) },
	"tag":        func(a, b tagView) int { return strings.Compare(a.Tag, b.Tag) },
}

// listTags is the tags of an image: filtered by tag (substring), ordered
// (default updated_at desc, newest first, as SWR lists them; ties by tag)
// and paged (limit 100 by default, at most 1000).
func (d *dialect) listTags(r *http.Request, ns, repo string) (reply, error) {
	q, err := query(r)
	if err != nil {
		return reply{}, err
	}
	p, e := listParams(q, "limit", "offset", "order_column", "order_type", "tag")
	if e != nil {
		return reply{}, e
	}
	if _, ok := p["order_column"]; !ok && p["order_type"] == "" {
		p["order_type"] = "desc"
	}
	order, err := orderOf(p, tagOrders, "updated_at")
	if err != nil {
		return reply{}, err
	}
	w, err := windowOf(p, 100, 1000)
	if err != nil {
		return reply{}, err
	}
	views, err := d.tagViews(r, ns, repo, p["tag"])
	if err != nil {
		return reply{}, err
	}
	slices.SortStableFunc(views, order)
	page, rng := pageOf(views, w)
	return reply{status: http.StatusOK, body: page, contentRange: rng}, nil
}

func (d *dialect) tagViews(r *http.Request, ns, repo, match string) ([]tagView, error) {
	if !validRepo(repo) {
		return nil, refuse(http.StatusBadRequest, CodeInvalidRepo, "Invalid image name", "%q", repo)
	}
	if _, err := d.namespace(r, ns); err != nil {
		return nil, err
	}
	name := ociName(ns, repo)
	tags, err := d.images.TagDetails(r.Context(), name)
	if registry.CodeOf(err) == registry.CodeNameUnknown {
		return nil, repoNotFound(ns, repo)
	}
	if err != nil {
		return nil, err
	}
	views := []tagView{}
	for _, t := range tags {
		if strings.Contains(t.Tag, match) {
			views = append(views, viewTag(r, name, t))
		}
	}
	return views, nil
}

func viewTag(r *http.Request, name string, t registry.TagDetail) tagView {
	path := r.Host + "/" + name + ":" + t.Tag
	v := tagView{ID: id64(name + ":" + t.Tag), RepoID: id64(name), Tag: t.Tag, ImageID: cmp.Or(t.Config.String(), t.Digest.String()),
		Manifest: string(t.Manifest), Digest: t.Digest.String(), Schema: 2, Path: path, InternalPath: path, Size: t.Size,
		Created: formatTime(t.Created), Updated: formatTime(t.Updated), DomainID: api.CallerOf(r.Context()).Name}
	if t.Index {
		v.TagType = 1
	}
	return v
}
