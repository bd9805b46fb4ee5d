package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// swrCall is an SWR call with X-Auth-Token and the SDK's Content-Type, the
// path sent as written (raw '|', '::' and '$' stay raw on the wire); token
// "" sends none.
func swrCall(t testing.TB, n *node, method, path, token string, body any) response {
	t.Helper()
	r, err := tryCall(method, n.url()+path, func(h http.Header) {
		h.Set("Content-Type", "application/json")
		if token != "" {
			h.Set("X-Auth-Token", token)
		}
	}, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// swrList is a listing call: its items and Content-Range.
func swrList[T any](t testing.TB, n *node, path string) ([]T, string) {
	t.Helper()
	var out []T
	r := swrOK(t, n, "GET", path, nil, http.StatusOK, &out)
	return out, r.header.Get("Content-Range")
}

func swrOK(t testing.TB, n *node, method, path string, body any, want int, v any) response {
	t.Helper()
	r := swrCall(t, n, method, path, mgmtToken, body)
	if r.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
	}
	if v != nil {
		r.decode(t, v)
	}
	return r
}

// swrFails expects SWR's documented error body, an array, with code.
func swrFails(t testing.TB, n *node, method, path, token string, body any, status int, code string) {
	t.Helper()
	r := swrCall(t, n, method, path, token, body)
	var e []struct{ ErrorCode, ErrorMessage, Detail string }
	if r.status != status || json.Unmarshal(r.body, &e) != nil || len(e) != 1 || e[0].ErrorCode != code {
		t.Errorf("%s %s: %d %s, want %d %s", method, path, r.status, r.body, status, code)
	}
}

type swrNamespace struct {
	ID          int32  `json:"id"`
	Name        string `json:"name"`
	CreatorName string `json:"creator_name"`
	Auth        int    `json:"auth"`
}

type swrRepo struct {
	Name       string   `json:"name"`
	Namespace  string   `json:"namespace"`
	NumImages  int64    `json:"num_images"`
	Size       int64    `json:"size"`
	Tags       []string `json:"tags"`
	Path       string   `json:"path"`
	TotalRange int64    `json:"total_range"`
	UpdatedAt  string   `json:"updated_at"`
}

type swrTag struct {
	Tag      string `json:"Tag"`
	Digest   string `json:"digest"`
	Manifest string `json:"manifest"`
	ImageID  string `json:"image_id"`
	Size     int64  `json:"size"`
	TagType  int64  `json:"tag_type"`
	Path     string `json:"path"`
}

func TestSWRNamespaces(t *testing.T) {
	n := startGroup(t, regions[:1], withBootstrapExpect(1))[0]
	ns := "/v2/manage/namespaces"

	swrFails(t, n, "GET", ns, "", nil, http.StatusUnauthorized, "SVCSTG.SWR.4010000")
	reader := createToken(t, n, mgmtToken, "read").Secret
	swrFails(t, n, "POST", ns, reader, map[string]string{"namespace": "ferry"}, http.StatusForbidden, "SVCSTG.SWR.4039002")

	if r := swrOK(t, n, "POST", ns, map[string]string{"namespace": "ferry"}, http.StatusCreated, nil); len(r.body) != 0 {
		t.Errorf("create: body %q", r.body)
	}
	swrFails(t, n, "POST", ns, mgmtToken, map[string]string{"namespace": "ferry"}, http.StatusConflict, "SVCSTG.SWR.4090060")
	for _, bad := range []string{"Ferry", "fe--rry", "ferry-", "1ferry", "a"} { // "a" is SWR's but under the store's 2
		swrFails(t, n, "POST", ns, mgmtToken, map[string]string{"namespace": bad}, http.StatusBadRequest, "SVCSTG.SWR.4001028")
	}
	swrFails(t, n, "POST", ns, mgmtToken, map[string]string{}, http.StatusBadRequest, "SVCSTG.SWR.4001036")

	var list struct{ Namespaces []swrNamespace }
	swrOK(t, n, "GET", ns, nil, http.StatusOK, &list)
	if len(list.Namespaces) != 1 || list.Namespaces[0].Name != "ferry" || list.Namespaces[0].Auth != 7 || list.Namespaces[0].ID <= 0 {
		t.Fatalf("namespaces %+v", list)
	}
	id := list.Namespaces[0].ID
	for _, q := range []string{"?namespace=ferry", "?filter=namespace::ferry|mode::visible", "?filter=namespace%3A%3Aferry%7Cmode%3A%3Avisible"} {
		var one struct{ Namespaces []swrNamespace }
		swrOK(t, n, "GET", ns+q, nil, http.StatusOK, &one)
		if len(one.Namespaces) != 1 || one.Namespaces[0].ID != id {
			t.Errorf("%s: %+v", q, one)
		}
	}
	swrFails(t, n, "GET", ns+"?filter=namespace::nope", mgmtToken, nil, http.StatusNotFound, "SVCSTG.SWR.4040058")
	swrFails(t, n, "GET", ns+"?filter=bogus", mgmtToken, nil, http.StatusBadRequest, "SVCSTG.SWR.4001035")
	if r := swrOK(t, n, "GET", ns+"?filter", nil, http.StatusOK, &list); len(list.Namespaces) != 1 {
		t.Errorf("bare ?filter: %s", r.body)
	}

	var one swrNamespace
	swrOK(t, n, "GET", ns+"/ferry", nil, http.StatusOK, &one)
	if one.ID != id || one.Name != "ferry" {
		t.Errorf("show %+v", one)
	}
	swrFails(t, n, "GET", ns+"/nope", mgmtToken, nil, http.StatusNotFound, "SVCSTG.SWR.4040058")

	// Delete: refused while an image is there, or a repository SWR cannot
	// show; an emptied DOCKER repository goes with the organization.
	swrOK(t, n, "POST", ns, map[string]string{"namespace": "scratch"}, http.StatusCreated, nil)
	m := ociImage(t, n, "scratch/box", "v1", []byte("box layer"))
	swrFails(t, n, "DELETE", ns+"/scratch", mgmtToken, nil, http.StatusNotAcceptable, "SVCSTG.SWR.4060074")
	ociOK(t, n, "DELETE", "/v2/scratch/box/manifests/"+digestOf(m), nil, nil, http.StatusAccepted)
	swrOK(t, n, "DELETE", ns+"/scratch", nil, http.StatusNoContent, nil)
	swrFails(t, n, "GET", ns+"/scratch", mgmtToken, nil, http.StatusNotFound, "SVCSTG.SWR.4040058")
	swrFails(t, n, "DELETE", ns+"/scratch", mgmtToken, nil, http.StatusNotFound, "SVCSTG.SWR.4040058")
	makeRepo(t, n.url(), "", "mixed", "files", "GENERIC")
	swrFails(t, n, "DELETE", ns+"/mixed", mgmtToken, nil, http.StatusNotAcceptable, "SVCSTG.SWR.4060074")
}

func TestSWRReposTagsRegions(t *testing.T) {
	n := startGroup(t, regions[:1], withBootstrapExpect(1))[0]
	swrOK(t, n, "POST", "/v2/manage/namespaces", map[string]string{"namespace": "ferry"}, http.StatusCreated, nil)
	root := ociImage(t, n, "ferry/app", "v1", []byte("root layer"))
	ociImage(t, n, "ferry/app/web", "v1", []byte("web layer 1"))
	web2 := ociImage(t, n, "ferry/app/web", "v2", []byte("web layer 2"))
	ociImage(t, n, "ferry/tools", "1.0", []byte("tools layer"))

	repos := func(q string) ([]swrRepo, string) { return swrList[swrRepo](t, n, "/v2/manage/repos"+q) }
	names := func(rs []swrRepo) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	all, rng := repos("?filter=namespace::ferry|order_column::name|order_type::asc")
	if !slices.Equal(names(all), []string{"app", "app/web", "tools"}) || rng != "" {
		t.Fatalf("repos %+v %q", all, rng)
	}
	if w := all[1]; w.Namespace != "ferry" || w.NumImages != 2 || !slices.Equal(w.Tags, []string{"v1", "v2"}) || w.TotalRange != 3 ||
		w.Path != n.a.HTTPAddr()+"/ferry/app/web" || w.Size <= 0 || w.UpdatedAt == "" {
		t.Errorf("app/web %+v", w)
	}
	for q, want := range map[string]struct {
		names []string
		rng   string
	}{
		"?filter=limit::2|offset::0":                                 {[]string{"app", "app/web"}, "0-2/3"},
		"?filter=limit%3A%3A2%7Coffset%3A%3A2":                       {[]string{"tools"}, "2-1/3"},
		"?filter=limit::2|offset::3":                                 {nil, "3-0/3"},
		"?limit=1&offset=1":                                          {[]string{"app/web"}, "1-1/3"},
		"?namespace=ferry&name=web":                                  {[]string{"app/web"}, ""},
		"?filter=name::app|order_column::tag_count|order_type::desc": {[]string{"app/web", "app"}, ""},
		"?name=web&filter=name::tools":                               {[]string{"tools"}, ""}, // the filter wins
		"?filter=namespace::nope":                                    {nil, ""},
	} {
		got, rng := repos(q)
		if !slices.Equal(names(got), want.names) || rng != want.rng || got == nil {
			t.Errorf("repos%s: %v %q, want %v %q", q, names(got), rng, want.names, want.rng)
		}
	}
	swrFails(t, n, "GET", "/v2/manage/repos?filter=limit::0", mgmtToken, nil, http.StatusBadRequest, "SVCSTG.SWR.4000056")
	swrFails(t, n, "GET", "/v2/manage/repos?filter=color::red", mgmtToken, nil, http.StatusBadRequest, "SVCSTG.SWR.4001035")
	swrFails(t, n, "GET", "/v2/manage/repos?order_column=size", mgmtToken, nil, http.StatusBadRequest, "SVCSTG.SWR.4000014")

	tags := func(path string) ([]swrTag, string) {
		return swrList[swrTag](t, n, "/v2/manage/namespaces/ferry/repos/"+path)
	}
	tagNames := func(ts []swrTag) []string {
		var out []string
		for _, tg := range ts {
			out = append(out, tg.Tag)
		}
		return out
	}
	for _, p := range []string{"app$web/tags?order_column=tag", "app/web/tags?order_column=tag"} { // '$', and literal slashes
		got, rng := tags(p)
		if !slices.Equal(tagNames(got), []string{"v1", "v2"}) || rng != "" {
			t.Fatalf("%s: %+v %q", p, got, rng)
		}
		if v2 := got[1]; v2.Digest != digestOf(web2) || v2.Manifest != string(web2) || v2.TagType != 0 || v2.Size <= int64(len(web2)) ||
			v2.Path != n.a.HTTPAddr()+"/ferry/app/web:v2" || v2.ImageID == "" {
			t.Errorf("%s: v2 %+v", p, v2)
		}
	}
	if got, _ := tags("app/tags"); !slices.Equal(tagNames(got), []string{"v1"}) || got[0].Digest != digestOf(root) {
		t.Errorf("root image tags %+v", got)
	}
	for q, want := range map[string]struct {
		tags []string
		rng  string
	}{
		"?limit=1&offset=0&order_column=tag&order_type=asc": {[]string{"v1"}, "0-1/2"},
		"?filter=limit::1|offset::1|order_column::tag":      {[]string{"v2"}, "1-1/2"},
		"?filter=offset%3A%3A5%7Climit%3A%3A1":              {nil, "5-0/2"},
		"?tag=2":                                            {[]string{"v2"}, ""},
		"?filter=tag::v1":                                   {[]string{"v1"}, ""},
	} {
		got, rng := tags("app$web/tags" + q)
		if !slices.Equal(tagNames(got), want.tags) || rng != want.rng || got == nil {
			t.Errorf("tags%s: %v %q, want %v %q", q, tagNames(got), rng, want.tags, want.rng)
		}
	}
	swrFails(t, n, "GET", "/v2/manage/namespaces/ferry/repos/nope/tags", mgmtToken, nil, http.StatusNotFound, "SVCSTG.SWR.4040113")
	swrFails(t, n, "GET", "/v2/manage/namespaces/nope/repos/app/tags", mgmtToken, nil, http.StatusNotFound, "SVCSTG.SWR.4040058")
	swrFails(t, n, "GET", "/v2/manage/namespaces/ferry/repos/a$$b/tags", mgmtToken, nil, http.StatusBadRequest, "SVCSTG.SWR.4001029")
	swrFails(t, n, "GET", "/v2/manage/namespaces/ferry/repos/app$web/tags?limit=1001", mgmtToken, nil, http.StatusBadRequest, "SVCSTG.SWR.4000056")

	// Regions are the group's clusters, once the leader has registered them.
	eventually(t, 10*time.Second, "regions", func() error {
		var got []map[string]string
		swrOK(t, n, "GET", "/v2/manage/regions", nil, http.StatusOK, &got)
		if len(got) != 1 || got[0]["regionID"] != n.id() {
			return fmt.Errorf("regions %v", got)
		}
		return nil
	})
	var agency struct {
		DomainID string `json:"domain_id"`
		IsAgency bool   `json:"is_agency"`
	}
	swrOK(t, n, "GET", "/v2/manage/agency", nil, http.StatusOK, &agency)
	if !agency.IsAgency {
		t.Errorf("agency %+v", agency)
	}
	if r := swrOK(t, n, "POST", "/v2/manage/agency", nil, http.StatusOK, nil); string(bytes.TrimSpace(r.body)) != "{}" {
		t.Errorf("create agency: %q", r.body)
	}

	// Unknown URLs and methods under /v2/manage/, and the calls not built
	// (ShowRepository), answer SWR's 404; the registry still owns the rest
	// of /v2/.
	for _, c := range [][2]string{{"GET", "/v2/manage/nope"}, {"PUT", "/v2/manage/namespaces"}, {"GET", "/v2/manage/namespaces/ferry/repos/app$web"}, {"PUT", "/v2/manage/namespaces/ferry/repos/app$web/sync_repo"}} {
		swrFails(t, n, c[0], c[1], mgmtToken, nil, http.StatusNotFound, "SVCSTG.SWR.4040083")
	}
	ociOK(t, n, "GET", "/v2/ferry/app/web/tags/list", nil, nil, http.StatusOK)
}
