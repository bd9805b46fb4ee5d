package oci

import (
	"io"
	"net/http"
	"strconv"

	ocispec "github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/registry"
)

// getManifest is HEAD/GET /v2/<name>/manifests/<tag|digest>: the exact
// bytes pushed, with the type they were pushed with.
func (d *dialect) getManifest(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	rd, m, err := d.reg.GetManifest(r.Context(), rt.Name, rt.Reference)
	if err != nil {
		return err
	}
	defer rd.Close()
	h := w.Header()
	h.Set("Content-Type", m.MediaType)
	h.Set("Docker-Content-Digest", m.Digest.String())
	h.Set("ETag", `"`+m.Digest.String()+`"`)
	http.ServeContent(w, r, "", rd.Node().ModifiedAt, rd)
	if r.Method == http.MethodGet {
		d.m.pulled(rt.Name)
	}
	return nil
}

// putManifest is PUT /v2/<name>/manifests/<tag|digest>: 201 once the
// manifest, its tag and its referrer link are committed together.
func (d *dialect) putManifest(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, ocispec.MaxManifestSize+1))
	if err != nil {
		return err
	}
	if len(body) > ocispec.MaxManifestSize {
		return &registry.Error{Code: registry.CodeSizeInvalid, Message: "manifest larger than " + strconv.Itoa(ocispec.MaxManifestSize) + " bytes"}
	}
	p, err := d.reg.PutManifest(r.Context(), rt.Name, rt.Reference, r.Header.Get("Content-Type"), body, caller(r))
	if err != nil {
		return err
	}
	d.m.pushed(rt.Name)
	h := w.Header()
	h.Set("Location", Prefix+rt.Name+"/manifests/"+p.Digest.String())
	h.Set("Docker-Content-Digest", p.Digest.String())
	if p.Subject != nil {
		h.Set("OCI-Subject", p.Subject.String())
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// deleteManifest is DELETE of a tag (the tag only) or a digest (the
// manifest with its tags): 202.
func (d *dialect) deleteManifest(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	if err := d.reg.DeleteManifest(r.Context(), rt.Name, rt.Reference, caller(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
