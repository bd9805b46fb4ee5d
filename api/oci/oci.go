package oci

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	ocispec "github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/registry"
	"github.com/ferrysync/ferry/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Registry is what the dialect calls: package registry over the store.
type Registry interface {
	StatBlob(ctx context.Context, name, ref string) (store.Node, error)
	OpenBlob(ctx context.Context, name, ref string) (store.Reader, error)
	DeleteBlob(ctx context.Context, name, ref, by string) error
	PutBlob(ctx context.Context, name, ref string, content io.Reader, size int64, by string) (ocispec.Digest, error)
	Mount(ctx context.Context, name, ref, from, by string) (ocispec.Digest, bool, error)
	StartUpload(ctx context.Context, name string) (*store.Session, error)
	Upload(ctx context.Context, name, id string) (*store.Session, error)
	AppendUpload(ctx context.Context, ss *store.Session, offset int64, chunk io.Reader) (int64, error)
	FinishUpload(ctx context.Context, name string, ss *store.Session, ref string, last io.Reader, by string) (ocispec.Digest, error)
	PutManifest(ctx context.Context, name, ref, contentType string, body []byte, by string) (registry.Pushed, error)
	GetManifest(ctx context.Context, name, ref string) (store.Reader, registry.Manifest, error)
	DeleteManifest(ctx context.Context, name, ref, by string) error
	Tags(ctx context.Context, name string, n int, last string) ([]string, bool, error)
	Catalog(ctx context.Context, n int, last string) ([]string, bool, error)
	Referrers(ctx context.Context, name, ref, artifactType string) ([]ocispec.Descriptor, error)
}

// Prefix is where the registry answers.
const Prefix = "/v2/"

// Register serves the registry under /v2/ on srv, but for the paths under
// except (other dialects' /v2/ routes); its metrics go to metrics.
func Register(srv *api.Server, reg Registry, metrics prometheus.Registerer, except ...string) {
	d := &dialect{reg: reg, m: newMetrics(metrics)}
	srv.HandleSubtree(api.Subtree{Prefix: Prefix, Except: except, Label: label, Need: need, Fail: authFailure, Handler: d})
}

type dialect struct {
	reg Registry
	m   *metrics
}

// handler serves one route; an error it returns (before it wrote anything)
// is written as the spec's body, in one place (ServeHTTP).
type handler func(w http.ResponseWriter, r *http.Request, rt ocispec.Route) error

func (d *dialect) routes() map[ocispec.Kind]map[string]handler {
	return map[ocispec.Kind]map[string]handler{
		ocispec.KindBase:      {http.MethodGet: base, http.MethodHead: base},
		ocispec.KindCatalog:   {http.MethodGet: d.catalog},
		ocispec.KindBlob:      {http.MethodGet: d.getBlob, http.MethodHead: d.getBlob, http.MethodDelete: d.deleteBlob},
		ocispec.KindUpload:    {http.MethodPost: d.startUpload, http.MethodPatch: d.patchUpload, http.MethodPut: d.putUpload, http.MethodGet: d.uploadStatus, http.MethodDelete: d.cancelUpload},
		ocispec.KindManifest:  {http.MethodGet: d.getManifest, http.MethodHead: d.getManifest, http.MethodPut: d.putManifest, http.MethodDelete: d.deleteManifest},
		ocispec.KindTags:      {http.MethodGet: d.tags},
		ocispec.KindReferrers: {http.MethodGet: d.referrers},
	}
}

func (d *dialect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	rt, err := ocispec.ParsePath(r.URL.EscapedPath())
	if err != nil {
		writeError(w, routeError(err, r, rt))
		return
	}
	h, ok := d.routes()[rt.Kind][r.Method]
	if !ok {
		writeError(w, &registry.Error{Code: registry.CodeUnsupported, Message: "the operation is unsupported: " + r.Method + " " + r.URL.Path})
		return
	}
	// A handler fails only before it answers: its error is the answer.
	if err := h(w, r, rt); err != nil {
		writeError(w, err)
	}
}

// routeError words a path that names no registry route, or names it
// badly: a malformed digest is DIGEST_INVALID; a malformed tag names no
// manifest there could be (404 to a read, as Distribution's router answers
// it), and cannot be pushed to (TAG_INVALID).
func routeError(err error, r *http.Request, rt ocispec.Route) error {
	path := r.URL.Path
	switch {
	case errors.Is(err, ocispec.ErrNameInvalid):
		return &registry.Error{Code: registry.CodeNameInvalid, Message: "invalid repository name in " + path}
	case errors.Is(err, ocispec.ErrReferenceInvalid) && strings.Contains(path[strings.LastIndexByte(path, '/')+1:], ":"):
		return &registry.Error{Code: registry.CodeDigestInvalid, Message: "invalid digest in " + path}
	case errors.Is(err, ocispec.ErrReferenceInvalid) && rt.Kind == ocispec.KindManifest && r.Method != http.MethodPut:
		return &registry.Error{Code: registry.CodeManifestUnknown, Message: "manifest unknown to registry: " + path}
	case errors.Is(err, ocispec.ErrReferenceInvalid):
		return &registry.Error{Code: codeTagInvalid, Message: "invalid tag in " + path}
	}
	return &registry.Error{Code: registry.CodeNameUnknown, Message: "no registry route: " + path}
}

// label names the operation for metrics: its route kind and method.
func label(r *http.Request) string {
	rt, err := ocispec.ParsePath(r.URL.EscapedPath())
	if err != nil {
		return "oci.invalid"
	}
	return "oci." + rt.Kind.String() + "." + strings.ToLower(r.Method)
}

// need is the policy a call needs: reads read, the rest write.
func need(r *http.Request) fsm.Policy {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return fsm.PolicyRead
	}
	return fsm.PolicyWrite
}

// base is GET /v2/: the API is here (the caller's credentials are good).
func base(w http.ResponseWriter, _ *http.Request, _ ocispec.Route) error {
	writeJSON(w, http.StatusOK, "application/json", struct{}{})
	return nil
}

func caller(r *http.Request) string { return api.CallerOf(r.Context()).Name }
