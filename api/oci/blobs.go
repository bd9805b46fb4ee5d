package oci

import (
	"net/http"

	"github.com/ferrysync/ferry/api"
	ocispec "github.com/ferrysync/ferry/oci"
)

// getBlob is HEAD/GET /v2/<name>/blobs/<digest>: the bytes with ranges
// (416 for one that cannot be served), the digest as header and ETag.
func (d *dialect) getBlob(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	rd, err := d.reg.OpenBlob(r.Context(), rt.Name, rt.Reference)
	if err != nil {
		return err
	}
	defer rd.Close()
	w.Header().Set("Docker-Content-Digest", "sha256:"+rd.Node().SHA256)
	w.Header().Set("Accept-Ranges", "bytes")
	api.ServeContent(w, r, rd)
	if c, ok := w.(interface{ BytesWritten() int64 }); ok {
		d.m.blobBytes(rt.Name, "out", c.BytesWritten())
	}
	return nil
}

// deleteBlob is DELETE /v2/<name>/blobs/<digest>: 202.
func (d *dialect) deleteBlob(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	if err := d.reg.DeleteBlob(r.Context(), rt.Name, rt.Reference, caller(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
