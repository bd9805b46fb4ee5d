package oci

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	ocispec "github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/registry"
	"github.com/ferrysync/ferry/store"
)

// Blob uploads: POST opens a session (or stores a monolithic blob, or
// mounts one), PATCH appends chunks in order, PUT ends it with the digest;
// GET tells where it stands, DELETE cancels it.

// startUpload is POST /v2/<name>/blobs/uploads/[?digest=|?mount=&from=].
func (d *dialect) startUpload(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	q := r.URL.Query()
	if ref := q.Get("mount"); ref != "" {
		dg, ok, err := d.reg.Mount(r.Context(), rt.Name, ref, q.Get("from"), caller(r))
		if err != nil {
			return err
		}
		if ok {
			return blobCreated(w, rt.Name, dg)
		}
	}
	if ref := q.Get("digest"); ref != "" {
		body := &counted{r: r.Body}
		dg, err := d.reg.PutBlob(r.Context(), rt.Name, ref, body, r.ContentLength, caller(r))
		d.m.blobBytes(rt.Name, "in", body.n)
		if err != nil {
			return err
		}
		return blobCreated(w, rt.Name, dg)
	}
	ss, err := d.reg.StartUpload(r.Context(), rt.Name)
	if err != nil {
		return err
	}
	uploadState(w, rt.Name, ss, http.StatusAccepted)
	return nil
}

// patchUpload appends a chunk: at Content-Range's start when given (no
// "bytes" prefix, as the spec writes it), else at the end. A chunk out of
// order is 416, the session left as it was.
func (d *dialect) patchUpload(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	ss, err := d.reg.Upload(r.Context(), rt.Name, rt.Reference)
	if err != nil {
		return err
	}
	start, err := chunkStart(r.Header.Get("Content-Range"))
	if err != nil {
		return err
	}
	before := ss.Offset()
	_, err = d.reg.AppendUpload(r.Context(), ss, start, r.Body)
	d.m.blobBytes(rt.Name, "in", ss.Offset()-before)
	if err != nil {
		return d.appendError(w, rt.Name, ss, err)
	}
	uploadState(w, rt.Name, ss, http.StatusAccepted)
	return nil
}

// putUpload ends a session: its last chunk (the body, if any) and the
// digest it must have; 201 with the blob's location.
func (d *dialect) putUpload(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	ss, err := d.reg.Upload(r.Context(), rt.Name, rt.Reference)
	if err != nil {
		return err
	}
	ref := r.URL.Query().Get("digest")
	if ref == "" {
		return &registry.Error{Code: registry.CodeDigestInvalid, Message: "a digest query parameter is required"}
	}
	if start, err := chunkStart(r.Header.Get("Content-Range")); err != nil {
		return err
	} else if start >= 0 && start != ss.Offset() {
		return d.appendError(w, rt.Name, ss, &store.OffsetError{Offset: ss.Offset()})
	}
	body := &counted{r: r.Body}
	dg, err := d.reg.FinishUpload(r.Context(), rt.Name, ss, ref, body, caller(r))
	d.m.blobBytes(rt.Name, "in", body.n)
	if err != nil {
		return d.appendError(w, rt.Name, ss, err)
	}
	return blobCreated(w, rt.Name, dg)
}

// uploadStatus is GET of a session: 204 with the range received.
func (d *dialect) uploadStatus(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	ss, err := d.reg.Upload(r.Context(), rt.Name, rt.Reference)
	if err != nil {
		return err
	}
	uploadState(w, rt.Name, ss, http.StatusNoContent)
	return nil
}

// cancelUpload is DELETE of a session: 204.
func (d *dialect) cancelUpload(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error {
	ss, err := d.reg.Upload(r.Context(), rt.Name, rt.Reference)
	if err != nil {
		return err
	}
	if err := ss.Cancel(); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// appendError answers a chunk at the wrong offset with 416 and where the
// session stands; other errors go to the one error writer.
func (d *dialect) appendError(w http.ResponseWriter, name string, ss *store.Session, err error) error {
	if !errors.Is(err, store.ErrOffset) {
		return err
	}
	setUploadHeaders(w, name, ss)
	writeJSON(w, http.StatusRequestedRangeNotSatisfiable, "application/json", errorBody{[]errorEntry{{
		Code: registry.CodeBlobUploadInvalid, Message: "the chunk does not start where the upload stands: " + err.Error()}}})
	return nil
}

// chunkStart is the first byte a Content-Range names ("<start>-<end>",
// also with a "bytes " prefix); -1 without one.
func chunkStart(cr string) (int64, error) {
	if cr == "" {
		return -1, nil
	}
	cr = strings.TrimPrefix(strings.TrimSpace(cr), "bytes ")
	first, _, ok := strings.Cut(cr, "-")
	n, err := strconv.ParseInt(first, 10, 64)
	if !ok || err != nil || n < 0 {
		return 0, &registry.Error{Code: registry.CodeBlobUploadInvalid, Message: fmt.Sprintf("invalid Content-Range %q", cr)}
	}
	return n, nil
}

// counted counts what is read through it.
type counted struct {
	r io.Reader
	n int64
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func uploadState(w http.ResponseWriter, name string, ss *store.Session, status int) {
	setUploadHeaders(w, name, ss)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

func setUploadHeaders(w http.ResponseWriter, name string, ss *store.Session) {
	h := w.Header()
	h.Set("Location", Prefix+name+"/blobs/uploads/"+ss.ID())
	h.Set("Docker-Upload-UUID", ss.ID())
	h.Set("Range", fmt.Sprintf("0-%d", max(ss.Offset()-1, 0)))
}

func blobCreated(w http.ResponseWriter, name string, dg ocispec.Digest) error {
	w.Header().Set("Location", Prefix+name+"/blobs/"+dg.String())
	w.Header().Set("Docker-Content-Digest", dg.String())
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}
