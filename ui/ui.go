package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// Prefix is where the dashboard is served.
const Prefix = "/ui/"

//go:embed static
var static embed.FS

// ContentSecurityPolicy allows the page its own scripts, styles and API
// only: no inline script or style, no other origin, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes are the assets' types, fixed here rather than read from
// the system's MIME table, which varies between machines.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets are the embedded files by their path under Prefix ("" is the page).
var assets = mustLoad(static)

func mustLoad(fsys fs.FS) map[string]asset {
	out := map[string]asset{}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		out[strings.TrimPrefix(p, "static/")] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("ui: embedded assets: " + err.Error())
	}
	out[""] = out["index.html"]
	return out
}

// Router is where the dashboard's routes go: an *api.Server, whose
// middleware (trace id, access log, metrics) every route passes.
type Router interface {
	Handle(method, path string, need fsm.Policy, fail api.AuthFailure, h httprouter.Handle)
}

// Register serves the dashboard on srv: open routes (the page holds no
// data), answered even while the agent is not ready.
func Register(srv Router) {
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		srv.Handle(m, strings.TrimSuffix(Prefix, "/"), "", nil, func(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		})
		srv.Handle(m, Prefix+"*filepath", "", nil, serve) // net/http sends no body to a HEAD
	}
}

// serve answers one asset, revalidated on every load (no-cache with an
// ETag): a new binary's page is never mixed with an old one's scripts.
func serve(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	name := strings.TrimPrefix(ps.ByName("filepath"), "/")
	a, ok := assets[name]
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if !ok {
		http.Error(w, "no such dashboard file: "+name, http.StatusNotFound)
		return
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(a.body)
}
