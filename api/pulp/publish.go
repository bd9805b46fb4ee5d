package pulp

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/feed"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// PublishPrefix is where iso_distributor publishes: /pulp/isos/<repo_id>/,
// a PULP_MANIFEST and the files, so that a region is a feed for Pulp
// servers and for other regions.
const PublishPrefix = "/pulp/isos"

// ManifestName is the feed's index, as Pulp's ISO importer reads it.
const ManifestName = "PULP_MANIFEST"

// Content is what the dialect needs to publish: a repository's content.
type Content interface {
	// PulpContent opens a repository's content, creating nothing: a
	// repository whose content was never stored is store.ErrNotFound.
	PulpContent(ctx context.Context, id string) (store.Repository, error)
}

// registerPublications serves the publications of the repositories that
// have an iso_distributor. They need the API's credentials (an importer
// sends them as its basic_auth_username and basic_auth_password).
func (d *dialect) registerPublications() {
	serve := func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) { d.publication(w, r, ps) }
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		d.srv.Handle(m, PublishPrefix+"/:repo/*path", fsm.PolicyRead, authFailure, serve)
	}
}

// publication answers a file of a publication, or its PULP_MANIFEST. A
// publication is the repository's content as it is now: Ferry's store
// commits each file atomically, so there is no half-published state to hide.
func (d *dialect) publication(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	id, path := ps.ByName("repo"), ps.ByName("path")
	repo, ok := d.repos.PulpRepo(id)
	if !ok || !slices.ContainsFunc(repo.Distributors, func(d fsm.PulpDistributor) bool { return d.TypeID == fsm.PulpISODistributor }) {
		writeJSON(w, http.StatusNotFound, nil)
		return
	}
	content, err := d.content.PulpContent(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Nothing was ever stored (a read creates nothing): the
		// publication is empty.
		content = nil
	case err != nil:
		writeError(w, r, asError(err))
		return
	}
	if path == "/"+ManifestName {
		d.manifest(w, r, content)
		return
	}
	if content == nil {
		writeJSON(w, http.StatusNotFound, nil)
		return
	}
	rd, err := content.Open(r.Context(), path)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		writeJSON(w, http.StatusNotFound, nil)
		return
	}
	if err != nil {
		writeError(w, r, asError(err))
		return
	}
	defer rd.Close()
	api.ServeContent(w, r, rd)
}

// manifest writes the PULP_MANIFEST of content (nil: none, an empty
// manifest): name,sha256,size, one file per line, in path order.
func (d *dialect) manifest(w http.ResponseWriter, r *http.Request, content store.Repository) {
	var entries []feed.Entry
	if content != nil {
		err := content.Walk(r.Context(), "/", func(n store.Node) error {
			entries = append(entries, feed.Entry{Name: strings.TrimPrefix(n.Path, "/"), SHA256: n.SHA256, Size: n.Size})
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			writeError(w, r, asError(err))
			return
		}
	}
	// Quoted as Python's csv writes it: a name with a comma stays one field.
	var b bytes.Buffer
	if err := feed.WriteManifest(&b, entries); err != nil {
		writeError(w, r, asError(err))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(b.Bytes())
}
