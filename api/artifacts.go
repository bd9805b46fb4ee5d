package api

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"github.com/julienschmidt/httprouter"
)

// Artifact API: this agent's store, or with ?cluster=<id> another region's,
// reached through its agent. Handlers translate HTTP to store calls.

// HeaderMetaPrefix marks metadata headers on generic uploads and downloads.
const (
	HeaderMetaPrefix = "X-Ferry-Meta-"
	HeaderSHA256     = "X-Checksum-Sha256"
	HeaderMD5        = "X-Checksum-Md5"
	HeaderOverwrite  = "X-Ferry-Overwrite"
	// HeaderChecksumDeploy: true asks to create the file from content the
	// store already holds, named by X-Checksum-Sha256, without a body (as
	// Artifactory's checksum deploy). 404 means: send the body.
	HeaderChecksumDeploy = "X-Checksum-Deploy"
)

func (s *Server) artifactRoutes() {
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	s.Handle(http.MethodPost, "/v1/projects", w, nil, s.regional(s.createProject))
	s.Handle(http.MethodGet, "/v1/projects", r, nil, s.regional(s.listProjects))
	s.Handle(http.MethodGet, "/v1/projects/:project", r, nil, s.regional(s.getProject))
	s.Handle(http.MethodDelete, "/v1/projects/:project", w, nil, s.regional(s.deleteProject))
	s.Handle(http.MethodPost, "/v1/projects/:project/repos", w, nil, s.regional(s.createRepo))
	s.Handle(http.MethodGet, "/v1/projects/:project/repos", r, nil, s.regional(s.listRepos))
	s.Handle(http.MethodGet, "/v1/projects/:project/repos/:repo", r, nil, s.regional(s.getRepo))
	s.Handle(http.MethodDelete, "/v1/projects/:project/repos/:repo", w, nil, s.regional(s.deleteRepo))
	s.Handle(http.MethodGet, "/v1/projects/:project/repos/:repo/nodes", r, nil, s.regional(s.inRepo(s.listNodes)))
	s.Handle(http.MethodPut, "/v1/projects/:project/repos/:repo/metadata", w, nil, s.regional(s.inRepo(filesOnly(s.setMetadata))))
	s.Handle(http.MethodGet, "/v1/projects/:project/repos/:repo/changes", r, nil, s.regional(s.inRepo(s.listChanges)))
	s.Handle(http.MethodPost, "/v1/projects/:project/repos/:repo/packages", w, nil, s.regional(s.inRepo(filesOnly(s.putVersion))))
	s.Handle(http.MethodGet, "/v1/projects/:project/repos/:repo/packages", r, nil, s.regional(s.inRepo(s.listPackages)))
	s.Handle(http.MethodGet, "/v1/projects/:project/repos/:repo/packages/versions", r, nil, s.regional(s.inRepo(s.listVersions)))
	s.Handle(http.MethodGet, "/v1/projects/:project/repos/:repo/packages/version", r, nil, s.regional(s.inRepo(s.getVersion)))
	s.Handle(http.MethodDelete, "/v1/projects/:project/repos/:repo/packages/version", w, nil, s.regional(s.inRepo(filesOnly(s.deleteVersion))))

	for _, m := range []string{http.MethodGet, http.MethodHead} {
		s.Handle(m, "/generic/:project/:repo/*path", r, nil, s.regional(s.inRepo(s.download)))
	}
	s.Handle(http.MethodPut, "/generic/:project/:repo/*path", w, nil, s.regional(s.inRepo(filesOnly(s.upload))))
	s.Handle(http.MethodDelete, "/generic/:project/:repo/*path", w, nil, s.regional(s.inRepo(filesOnly(s.deleteNode))))
}

// regional serves a store call here, or proxies it to the agent of the
// cluster named by ?cluster=<id>.
func (s *Server) regional(next httprouter.Handle) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		id := r.URL.Query().Get("cluster")
		if id == "" || id == s.status.ClusterID() {
			next(w, r, ps)
			return
		}
		addr, ok := s.status.ClusterAPIAddr(id)
		if !ok {
			writeError(w, http.StatusNotFound, "unknown cluster %q: see GET /v1/clusters", id)
			return
		}
		s.proxyTo(w, r, id, addr, s.bulkTransport)
	}
}

// repoHandle is a handler inside one repository.
type repoHandle func(w http.ResponseWriter, r *http.Request, repo store.Repository, ps httprouter.Params)

func (s *Server) inRepo(next repoHandle) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		repo, err := s.artifacts.Repository(r.Context(), ps.ByName("project"), ps.ByName("repo"))
		if err != nil {
			writeServiceError(w, err)
			return
		}
		next(w, r, repo, ps)
	}
}

// filesOnly refuses a write into a DOCKER repository: its nodes are the
// registry's (/v2/), and a tag written here that is no manifest, or a
// manifest without its blobs, would break every pull of it.
func filesOnly(next repoHandle) repoHandle {
	return func(w http.ResponseWriter, r *http.Request, repo store.Repository, ps httprouter.Params) {
		if info := repo.Info(); info.Type == store.TypeDocker {
			writeError(w, http.StatusMethodNotAllowed, "%s/%s is a DOCKER repository: write it through the registry API under /v2/", info.Project, info.Name)
			return
		}
		next(w, r, repo, ps)
	}
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	var p store.Project
	if !decodeBody(w, r, &struct {
		Name        *string `json:"name"`
		DisplayName *string `json:"displayName"`
		Description *string `json:"description"`
	}{&p.Name, &p.DisplayName, &p.Description}) {
		return
	}
	p.CreatedBy = callerName(r)
	out, err := s.artifacts.CreateProject(r.Context(), p)
	if err != nil {
		writeServiceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, _ httprouter.Params) {
	out, err := s.artifacts.Projects(r.Context())
	respond(w, out, err)
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	out, err := s.artifacts.Project(r.Context(), ps.ByName("project"))
	respond(w, out, err)
}

func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	respondNoContent(w, s.artifacts.DeleteProject(r.Context(), ps.ByName("project")))
}

func (s *Server) createRepo(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	repo := store.Repo{Project: ps.ByName("project")}
	if !decodeBody(w, r, &struct {
		Name        *string         `json:"name"`
		Type        *store.RepoType `json:"type"`
		Description *string         `json:"description"`
	}{&repo.Name, &repo.Type, &repo.Description}) {
		return
	}
	repo.CreatedBy = callerName(r)
	out, err := s.artifacts.CreateRepo(r.Context(), repo)
	if err != nil {
		writeServiceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listRepos(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	out, err := s.artifacts.Repos(r.Context(), ps.ByName("project"))
	respond(w, out, err)
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	repo, err := s.artifacts.Repository(r.Context(), ps.ByName("project"), ps.ByName("repo"))
	if err != nil {
		writeServiceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, repo.Info())
}

func (s *Server) deleteRepo(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
	respondNoContent(w, s.artifacts.DeleteRepo(r.Context(), ps.ByName("project"), ps.ByName("repo")))
}

func (s *Server) listNodes(w http.ResponseWriter, r *http.Request, repo store.Repository, _ httprouter.Params) {
	q := r.URL.Query()
	page, ok := pageOf(w, q.Get("pageNumber"), q.Get("pageSize"))
	if !ok {
		return
	}
	path := q.Get("path")
	if path == "" {
		path = "/"
	}
	out, err := repo.List(r.Context(), store.ListOptions{Path: path, Recursive: q.Get("recursive") == "true", Page: page})
	respond(w, out, err)
}

func (s *Server) setMetadata(w http.ResponseWriter, r *http.Request, repo store.Repository, _ httprouter.Params) {
	var body struct {
		Metadata map[string]string `json:"metadata"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	out, err := repo.SetMetadata(r.Context(), r.URL.Query().Get("path"), body.Metadata, callerName(r))
	respond(w, out, err)
}

func (s *Server) listChanges(w http.ResponseWriter, r *http.Request, repo store.Repository, _ httprouter.Params) {
	q := r.URL.Query()
	from, limit := uint64(1), 0
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, "from=%q is not a sequence number", v)
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			writeError(w, http.StatusBadRequest, "limit=%q is not a positive number", v)
			return
		}
	}
	out, err := repo.Changes(r.Context(), from, limit)
	respond(w, out, err)
}

func (s *Server) putVersion(w http.ResponseWriter, r *http.Request, repo store.Repository, _ httprouter.Params) {
	var v store.PackageVersion
	if !decodeBody(w, r, &struct {
		PackageKey *string            `json:"packageKey"`
		Version    *string            `json:"version"`
		Paths      *[]string          `json:"paths"`
		Metadata   *map[string]string `json:"metadata"`
	}{&v.PackageKey, &v.Version, &v.Paths, &v.Metadata}) {
		return
	}
	v.ModifiedBy = callerName(r)
	out, err := repo.PutVersion(r.Context(), v)
	respond(w, out, err)
}

func (s *Server) listPackages(w http.ResponseWriter, r *http.Request, repo store.Repository, _ httprouter.Params) {
	q := r.URL.Query()
	page, ok := pageOf(w, q.Get("pageNumber"), q.Get("pageSize"))
	if !ok {
		return
	}
	out, err := repo.Packages(r.Context(), q.Get("prefix"), page)
	respond(w, out, err)
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request, repo store.Repository, _ httprouter.Params) {
	q := r.URL.Query()
	page, ok := pageOf(w, q.Get("pageNumber"), q.Get("pageSize"))
	if !ok || !required(w, q.Get("packageKey"), "packageKey") {
		return
	}
	out, err := repo.Versions(r.Context(), q.Get("packageKey"), page)
	respond(w, out, err)
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request, repo store.Repository, _ httprouter.Params) {
	q := r.URL.Query()
	if !required(w, q.Get("packageKey"), "packageKey") || !required(w, q.Get("version"), "version") {
		return
	}
	out, err := repo.Version(r.Context(), q.Get("packageKey"), q.Get("version"))
	respond(w, out, err)
}

func (s *Server) deleteVersion(w http.ResponseWriter, r *http.Request, repo store.Repository, _ httprouter.Params) {
	q := r.URL.Query()
	if !required(w, q.Get("packageKey"), "packageKey") || !required(w, q.Get("version"), "version") {
		return
	}
	respondNoContent(w, repo.DeleteVersion(r.Context(), q.Get("packageKey"), q.Get("version"), callerName(r)))
}

// upload is PUT /generic/...: the body is the content.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, repo store.Repository, ps httprouter.Params) {
	opt := store.WriteOptions{Size: r.ContentLength, By: callerName(r)}
	if sum := r.Header.Get(HeaderSHA256); sum != "" {
		if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
			writeError(w, http.StatusBadRequest, "%s %q is not a hex SHA-256", HeaderSHA256, sum)
			return
		}
		opt.SHA256 = strings.ToLower(sum)
	}
	switch v := strings.ToLower(r.Header.Get(HeaderOverwrite)); v {
	case "", "true":
	case "false":
		opt.NoOverwrite = true
	default:
		writeError(w, http.StatusBadRequest, "%s %q is not true or false", HeaderOverwrite, v)
		return
	}
	for k, vs := range r.Header {
		if name, ok := strings.CutPrefix(k, HeaderMetaPrefix); ok && name != "" {
			if opt.Metadata == nil {
				opt.Metadata = map[string]string{}
			}
			opt.Metadata[strings.ToLower(name)] = vs[0]
		}
	}
	var node store.Node
	var err error
	switch v := strings.ToLower(r.Header.Get(HeaderChecksumDeploy)); v {
	case "true":
		if opt.SHA256 == "" {
			writeError(w, http.StatusBadRequest, "%s: true needs %s", HeaderChecksumDeploy, HeaderSHA256)
			return
		}
		opt.Size = -1 // the request has no body; the stored content has its own size
		var bulk store.Bulk
		if bulk, err = store.BulkOf(repo); err == nil {
			node, err = bulk.Link(r.Context(), ps.ByName("path"), opt.SHA256, opt)
		}
	case "", "false":
		// A body that stops sending is cut by the server's body read
		// timeout (api/bodyread.go), answered 408.
		node, err = repo.Write(r.Context(), ps.ByName("path"), r.Body, opt)
	default:
		writeError(w, http.StatusBadRequest, "%s %q is not true or false", HeaderChecksumDeploy, v)
		return
	}
	if err != nil {
		writeServiceError(w, err)
		return
	}
	status := http.StatusOK
	if node.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, node)
}

// download is GET/HEAD /generic/...: content with its checksums; Range,
// If-None-Match and If-Modified-Since through http.ServeContent.
func (s *Server) download(w http.ResponseWriter, r *http.Request, repo store.Repository, ps httprouter.Params) {
	rd, err := repo.Open(r.Context(), ps.ByName("path"))
	if err != nil {
		writeServiceError(w, err)
		return
	}
	defer rd.Close()
	ServeContent(w, r, rd)
}

// ServeContent answers a GET or HEAD with an opened file: its checksums and
// metadata as headers, Range, If-None-Match and If-Modified-Since through
// http.ServeContent; the store's read counters count what was sent.
func ServeContent(w http.ResponseWriter, r *http.Request, rd store.Reader) {
	n := rd.Node()
	h := w.Header()
	h.Set("ETag", `"`+n.SHA256+`"`)
	h.Set(HeaderSHA256, n.SHA256)
	h.Set(HeaderMD5, n.MD5)
	h.Set("Content-Type", "application/octet-stream")
	for k, v := range n.Metadata {
		h.Set(HeaderMetaPrefix+k, v)
	}
	// Serve the file itself when the store has one: net/http then sends it
	// with sendfile, without copying through this process.
	var content io.ReadSeeker = rd
	f, byFile := rd.(interface{ File() *os.File })
	if byFile {
		content = f.File()
	}
	http.ServeContent(w, r, n.Name, n.ModifiedAt, content)
	if c, ok := w.(interface{ BytesWritten() int64 }); ok && byFile && r.Method == http.MethodGet {
		rd.Served(c.BytesWritten())
	}
}

func (s *Server) deleteNode(w http.ResponseWriter, r *http.Request, repo store.Repository, ps httprouter.Params) {
	respondNoContent(w, repo.Delete(r.Context(), ps.ByName("path"), callerName(r)))
}

func respond(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeServiceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func respondNoContent(w http.ResponseWriter, err error) {
	if err != nil {
		writeServiceError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func required(w http.ResponseWriter, v, name string) bool {
	if v == "" {
		writeError(w, http.StatusBadRequest, "query parameter %s is required", name)
		return false
	}
	return true
}

// pageOf reads pageNumber and pageSize; the native API refuses numbers
// below 1.
func pageOf(w http.ResponseWriter, number, size string) (store.PageRequest, bool) {
	var p store.PageRequest
	for _, f := range []struct {
		name, v string
		dst     *int
	}{{"pageNumber", number, &p.Number}, {"pageSize", size, &p.Size}} {
		if f.v == "" {
			continue
		}
		n, err := strconv.Atoi(f.v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "%s=%q is not a positive number", f.name, f.v)
			return p, false
		}
		*f.dst = n
	}
	return p.Normalize(), true
}

// storeStatus maps store errors to HTTP statuses.
func storeStatus(err error) (int, bool) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrNotEmpty):
		return http.StatusConflict, true
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrChecksum):
		return http.StatusBadRequest, true
	case errors.Is(err, store.ErrInsufficientSpace):
		return http.StatusInsufficientStorage, true
	case errors.Is(err, context.Canceled):
		return 499, true // the client went away
	}
	return 0, false
}
