package oci

import (
	"net/http"
	"net/url"
	"strconv"

	ocispec "github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/registry"
)

// tags is GET /v2/<name>/tags/list[?n=&last=]: lexical order, a Link to
// the next page when there is one.
func (d *dialect) tags(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	n, last, err := pageOf(r)
	if err != nil {
		return err
	}
	tags, more, err := d.reg.Tags(r.Context(), rt.Name, n, last)
	if err != nil {
		return err
	}
	if more {
		setNext(w, Prefix+rt.Name+"/tags/list", n, tags[len(tags)-1])
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"name": rt.Name, "tags": tags})
	return nil
}

// catalog is GET /v2/_catalog[?n=&last=]: every image name.
func (d *dialect) catalog(w http.ResponseWriter, r *http.Request, _ ocispec.Route) error {
	n, last, err := pageOf(r)
	if err != nil {
		return err
	}
	names, more, err := d.reg.Catalog(r.Context(), n, last)
	if err != nil {
		return err
	}
	if more {
		setNext(w, Prefix+"_catalog", n, names[len(names)-1])
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"repositories": names})
	return nil
}

// referrers is GET /v2/<name>/referrers/<digest>[?artifactType=]: an image
// index of the manifests whose subject it is (empty for an unknown one).
func (d *dialect) referrers(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	artifactType := r.URL.Query().Get("artifactType")
	refs, err := d.reg.Referrers(r.Context(), rt.Name, rt.Reference, artifactType)
	if err != nil {
		return err
	}
	if artifactType != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	writeJSON(w, http.StatusOK, ocispec.MediaTypeImageIndex, map[string]any{
		"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageIndex, "manifests": refs})
	return nil
}

// pageOf reads n (-1 when absent) and last.
func pageOf(r *http.Request) (int, string, error) {
	q := r.URL.Query()
	n := -1
	if s := q.Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return 0, "", &registry.Error{Code: "PAGINATION_NUMBER_INVALID", Message: "invalid number of results requested: " + s}
		}
		n = v
	}
	return n, q.Get("last"), nil
}

func setNext(w http.ResponseWriter, path string, n int, last string) {
	q := url.Values{"last": {last}}
	if n >= 0 {
		q.Set("n", strconv.Itoa(n))
	}
	w.Header().Set("Link", `<`+path+"?"+q.Encode()+`>; rel="next"`)
}
