package client

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Node is a file or folder in a generic repository, as the agent returns it
// from an upload or a listing.
type Node struct {
	FullPath         string            `json:"fullPath"`
	Name             string            `json:"name"`
	Folder           bool              `json:"folder"`
	Size             int64             `json:"size"`
	SHA256           string            `json:"sha256,omitempty"`
	MD5              string            `json:"md5,omitempty"`
	CreatedBy        string            `json:"createdBy,omitempty"`
	CreatedDate      time.Time         `json:"createdDate"`
	LastModifiedBy   string            `json:"lastModifiedBy,omitempty"`
	LastModifiedDate time.Time         `json:"lastModifiedDate"`
	Metadata         map[string]string `json:"metadata,omitempty"`
}

// NodePage is one page of a node listing. Page numbers start at 1.
type NodePage struct {
	PageNumber   int    `json:"pageNumber"`
	PageSize     int    `json:"pageSize"`
	TotalRecords int64  `json:"totalRecords"`
	TotalPages   int64  `json:"totalPages"`
	Records      []Node `json:"records"`
}

// ArtifactRef names a file (or, for List, a folder) of a generic
// repository. Cluster, when not "", addresses another cluster's store
// through the agent the client talks to.
type ArtifactRef struct {
	Project string
	Repo    string
	Path    string
	Cluster string
}

// UploadOptions are what Upload sends besides the content.
type UploadOptions struct {
	// Size is the exact content length, sent as Content-Length; 0 sends no
	// body, -1 sends the body chunked, which an agent may refuse.
	Size int64
	// SHA256 (hex), when not "", is sent as X-Checksum-Sha256: the agent
	// stores nothing unless the content matches.
	SHA256 string
	// Metadata becomes X-Ferry-Meta-<Key> headers (HTTP may change the keys'
	// case).
	Metadata map[string]string
	// NoOverwrite makes the agent answer 409 when the path already holds a
	// file; by default the upload replaces it.
	NoOverwrite bool
}

// ListQuery says which nodes List returns. Zero page fields are left to the
// agent's defaults.
type ListQuery struct {
	// Recursive lists the files at any depth instead of the folder's direct
	// children (folders included).
	Recursive  bool
	PageNumber int
	PageSize   int
}

// DownloadInfo describes a file's content, from the headers of a GET or HEAD.
type DownloadInfo struct {
	Size         int64  // Content-Length; -1 when the agent did not send one
	SHA256       string // X-Checksum-Sha256 (hex), "" when absent
	ETag         string
	LastModified time.Time // zero when absent or unparsable
}

// escapePath URL-escapes each "/"-separated segment of a repository path.
// Leading and trailing slashes are dropped; empty, "." and ".." segments are
// refused, since servers and proxies would resolve them to another path.
func escapePath(p string) (string, error) {
	trimmed := strings.Trim(p, "/")
	if trimmed == "" {
		return "", fmt.Errorf("empty path")
	}
	segs := strings.Split(trimmed, "/")
	for i, s := range segs {
		switch s {
		case "":
			return "", fmt.Errorf("invalid path %q: empty segment", p)
		case ".", "..":
			return "", fmt.Errorf("invalid path %q: %q segment", p, s)
		}
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/"), nil
}

// genericURL is the URL of /generic/{project}/{repo}/{path...}.
func (c *Client) genericURL(ref ArtifactRef) (string, error) {
	p, r, err := escapeRepo(ref)
	if err != nil {
		return "", err
	}
	fp, err := escapePath(ref.Path)
	if err != nil {
		return "", err
	}
	u := c.base + "/generic/" + p + "/" + r + "/" + fp
	if ref.Cluster != "" {
		u += "?" + url.Values{"cluster": {ref.Cluster}}.Encode()
	}
	return u, nil
}

// escapeRepo is ref's project and repository names, URL-escaped.
func escapeRepo(ref ArtifactRef) (project, repo string, err error) {
	if project, err = escapeSegment("project name", ref.Project); err != nil {
		return "", "", err
	}
	if repo, err = escapeSegment("repository name", ref.Repo); err != nil {
		return "", "", err
	}
	return project, repo, nil
}

func downloadInfo(resp *http.Response) DownloadInfo {
	info := DownloadInfo{
		Size:   resp.ContentLength,
		SHA256: strings.ToLower(strings.TrimSpace(resp.Header.Get("X-Checksum-Sha256"))),
		ETag:   resp.Header.Get("ETag"),
	}
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			info.LastModified = t
		}
	}
	return info
}

// Upload stores body at ref through PUT /generic/..., streaming it (nothing
// is buffered in memory) as opt says. Upload does not close body.
func (c *Client) Upload(ctx context.Context, ref ArtifactRef, body io.Reader, opt UploadOptions) (Node, error) {
	req, err := c.uploadRequest(ctx, ref, body, opt)
	if err != nil {
		return Node{}, err
	}
	resp, err := c.streamHTTP().Do(req)
	if err != nil {
		return Node{}, err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return Node{}, err
	}
	var n Node
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&n); err != nil {
		return Node{}, fmt.Errorf("decode PUT %s answer: %w", ref.Path, err)
	}
	return n, nil
}

// uploadRequest is the PUT of an Upload.
func (c *Client) uploadRequest(ctx context.Context, ref ArtifactRef, body io.Reader, opt UploadOptions) (*http.Request, error) {
	u, err := c.genericURL(ref)
	if err != nil {
		return nil, err
	}
	if opt.SHA256 != "" {
		if b, err := hex.DecodeString(opt.SHA256); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("invalid sha256 %q: want 64 hex digits", opt.SHA256)
		}
	}
	rb, size, err := uploadBody(body, opt.Size)
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", ref.Path, err)
	}
	req, err := c.newRequest(ctx, http.MethodPut, u, rb)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	if size != 0 {
		// Lets the agent refuse (auth, 409, no space) before the body is sent.
		req.Header.Set("Expect", "100-continue")
	}
	if opt.SHA256 != "" {
		req.Header.Set("X-Checksum-Sha256", strings.ToLower(opt.SHA256))
	}
	for k, v := range opt.Metadata {
		if k == "" {
			return nil, fmt.Errorf("empty metadata key")
		}
		req.Header.Set("X-Ferry-Meta-"+k, v)
	}
	if opt.NoOverwrite {
		req.Header.Set("X-Ferry-Overwrite", "false")
	}
	return req, nil
}

// uploadBody is the request body and Content-Length for body of size bytes
// (-1: unknown, sent chunked).
func uploadBody(body io.Reader, size int64) (io.Reader, int64, error) {
	switch {
	case size == 0:
		return http.NoBody, 0, nil
	case body == nil:
		return nil, 0, fmt.Errorf("nil body with size %d", size)
	case size > 0:
		// The transport closes request bodies; keep the caller's open, and
		// never send more than the announced length.
		return io.NopCloser(io.LimitReader(body, size)), size, nil
	}
	return io.NopCloser(body), -1, nil
}

// Download opens ref for reading through GET /generic/.... The caller must
// close the returned body. The body fails with io.ErrUnexpectedEOF when the
// connection ends before Content-Length bytes; checking the content against
// info.SHA256 is left to the caller.
func (c *Client) Download(ctx context.Context, ref ArtifactRef) (io.ReadCloser, DownloadInfo, error) {
	resp, err := c.content(ctx, http.MethodGet, ref)
	if err != nil {
		return nil, DownloadInfo{}, err
	}
	return resp.Body, downloadInfo(resp), nil
}

// Stat describes ref through HEAD /generic/..., without its content.
func (c *Client) Stat(ctx context.Context, ref ArtifactRef) (DownloadInfo, error) {
	resp, err := c.content(ctx, http.MethodHead, ref)
	if err != nil {
		return DownloadInfo{}, err
	}
	resp.Body.Close()
	return downloadInfo(resp), nil
}

func (c *Client) content(ctx context.Context, method string, ref ArtifactRef) (*http.Response, error) {
	u, err := c.genericURL(ref)
	if err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.streamHTTP().Do(req)
	if err != nil {
		return nil, err
	}
	if err := checkStatus(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Repo is a repository's description.
type Repo struct {
	ProjectID string `json:"projectId"`
	Name      string `json:"name"`
	Type      string `json:"type"`
}

// Repo describes the repository ref names, through
// GET /v1/projects/{project}/repos/{repo}.
func (c *Client) Repo(ctx context.Context, ref ArtifactRef) (Repo, error) {
	p, r, err := escapeRepo(ref)
	if err != nil {
		return Repo{}, err
	}
	return call[Repo](ctx, c, http.MethodGet, route{path: "/v1/projects/" + p + "/repos/" + r}.with(query(0, 0, "cluster", ref.Cluster)), nil)
}

// List returns one page of the nodes under the folder ref.Path ("" or "/"
// for the repository's root) through
// GET /v1/projects/{project}/repos/{repo}/nodes.
func (c *Client) List(ctx context.Context, ref ArtifactRef, q ListQuery) (NodePage, error) {
	p, r, err := escapeRepo(ref)
	if err != nil {
		return NodePage{}, err
	}
	v := query(q.PageNumber, q.PageSize, "path", "/"+strings.Trim(ref.Path, "/"),
		"recursive", strconv.FormatBool(q.Recursive), "cluster", ref.Cluster)
	return call[NodePage](ctx, c, http.MethodGet, route{path: "/v1/projects/" + p + "/repos/" + r + "/nodes"}.with(v), nil)
}
