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

// DownloadInfo describes a file's content, from the headers of a GET or HEAD.
type DownloadInfo struct {
	Size         int64  // Content-Length; -1 when the agent did not send one
	SHA256       string // X-Checksum-Sha256 (hex), "" when absent
	ETag         string
	LastModified time.Time // zero when absent or unparsable
}

// maxErrorBody bounds how much of an error answer is read to build an *Error.
const maxErrorBody = 64 << 10

// streamHTTP is the http.Client for content transfers: the same Transport as
// c.http but no overall Timeout, which would cut off any transfer that takes
// longer than it. Transfers end with their context instead.
func (c *Client) streamHTTP() *http.Client {
	hc := *c.http
	hc.Timeout = 0
	return &hc
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

// escapeName URL-escapes a project or repository name (one segment).
func escapeName(kind, name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return "", fmt.Errorf("invalid %s name %q", kind, name)
	}
	return url.PathEscape(name), nil
}

// genericURL is the URL of /generic/{project}/{repo}/{path...}.
func (c *Client) genericURL(project, repo, path, cluster string) (string, error) {
	p, err := escapeName("project", project)
	if err != nil {
		return "", err
	}
	r, err := escapeName("repository", repo)
	if err != nil {
		return "", err
	}
	fp, err := escapePath(path)
	if err != nil {
		return "", err
	}
	u := c.base + "/generic/" + p + "/" + r + "/" + fp
	if cluster != "" {
		u += "?" + url.Values{"cluster": {cluster}}.Encode()
	}
	return u, nil
}

// responseError builds an *Error from a non-2xx answer, reading at most
// maxErrorBody bytes of its body.
func responseError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := strings.TrimSpace(string(raw))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if msg == "" {
		msg = strings.ToLower(http.StatusText(resp.StatusCode))
	}
	return &Error{Status: resp.StatusCode, Message: msg, TraceID: resp.Header.Get("X-Trace-Id")}
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

func (c *Client) newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	return req, nil
}

// Upload stores body at project/repo/path through PUT /generic/..., streaming
// it (nothing is buffered in memory).
//
// size is the exact content length, sent as Content-Length; -1 sends the body
// chunked, which an agent may refuse. sha256hex, when not "", is sent as
// X-Checksum-Sha256 and the agent stores nothing unless the content matches.
// meta becomes X-Ferry-Meta-<Key> headers (HTTP may change the keys' case).
// With overwrite false the agent answers 409 when the path already holds a
// file. cluster, when not "", addresses another cluster's store through this
// agent. Upload does not close body.
func (c *Client) Upload(ctx context.Context, project, repo, path string, body io.Reader, size int64, sha256hex string, meta map[string]string, overwrite bool, cluster string) (Node, error) {
	u, err := c.genericURL(project, repo, path, cluster)
	if err != nil {
		return Node{}, err
	}
	if sha256hex != "" {
		if b, err := hex.DecodeString(sha256hex); err != nil || len(b) != 32 {
			return Node{}, fmt.Errorf("invalid sha256 %q: want 64 hex digits", sha256hex)
		}
	}
	var rb io.Reader
	switch {
	case size == 0:
		rb = http.NoBody
	case body == nil:
		return Node{}, fmt.Errorf("upload %s: nil body with size %d", path, size)
	case size > 0:
		// The transport closes request bodies; keep the caller's open, and
		// never send more than the announced length.
		rb = io.NopCloser(io.LimitReader(body, size))
	default:
		rb = io.NopCloser(body)
		size = -1
	}
	req, err := c.newRequest(ctx, http.MethodPut, u, rb)
	if err != nil {
		return Node{}, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	if size != 0 {
		// Lets the agent refuse (auth, 409, no space) before the body is sent.
		req.Header.Set("Expect", "100-continue")
	}
	if sha256hex != "" {
		req.Header.Set("X-Checksum-Sha256", strings.ToLower(sha256hex))
	}
	for k, v := range meta {
		if k == "" {
			return Node{}, fmt.Errorf("empty metadata key")
		}
		req.Header.Set("X-Ferry-Meta-"+k, v)
	}
	if !overwrite {
		req.Header.Set("X-Ferry-Overwrite", "false")
	}
	resp, err := c.streamHTTP().Do(req)
	if err != nil {
		return Node{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return Node{}, responseError(resp)
	}
	var n Node
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&n); err != nil {
		return Node{}, fmt.Errorf("decode PUT %s answer: %w", path, err)
	}
	return n, nil
}

// Download opens project/repo/path for reading through GET /generic/....
// The caller must close the returned body. The body fails with
// io.ErrUnexpectedEOF when the connection ends before Content-Length bytes;
// checking the content against info.SHA256 is left to the caller.
func (c *Client) Download(ctx context.Context, project, repo, path, cluster string) (io.ReadCloser, DownloadInfo, error) {
	resp, err := c.content(ctx, http.MethodGet, project, repo, path, cluster)
	if err != nil {
		return nil, DownloadInfo{}, err
	}
	return resp.Body, downloadInfo(resp), nil
}

// Stat describes project/repo/path through HEAD /generic/..., without its content.
func (c *Client) Stat(ctx context.Context, project, repo, path, cluster string) (DownloadInfo, error) {
	resp, err := c.content(ctx, http.MethodHead, project, repo, path, cluster)
	if err != nil {
		return DownloadInfo{}, err
	}
	resp.Body.Close()
	return downloadInfo(resp), nil
}

func (c *Client) content(ctx context.Context, method, project, repo, path, cluster string) (*http.Response, error) {
	u, err := c.genericURL(project, repo, path, cluster)
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
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}

// List returns one page of the nodes under dir ("/" for the repository's
// root) through GET /v1/projects/{project}/repos/{repo}/nodes. Without
// recursive it lists dir's direct children, folders included; with it, the
// files at any depth. pageNumber (from 1) and pageSize are left to the
// agent's defaults when 0.
func (c *Client) List(ctx context.Context, project, repo, dir string, recursive bool, pageNumber, pageSize int, cluster string) (NodePage, error) {
	p, err := escapeName("project", project)
	if err != nil {
		return NodePage{}, err
	}
	r, err := escapeName("repository", repo)
	if err != nil {
		return NodePage{}, err
	}
	q := url.Values{}
	q.Set("path", "/"+strings.Trim(dir, "/"))
	q.Set("recursive", strconv.FormatBool(recursive))
	if pageNumber > 0 {
		q.Set("pageNumber", strconv.Itoa(pageNumber))
	}
	if pageSize > 0 {
		q.Set("pageSize", strconv.Itoa(pageSize))
	}
	if cluster != "" {
		q.Set("cluster", cluster)
	}
	var out NodePage
	_, err = c.do(ctx, http.MethodGet, "/v1/projects/"+p+"/repos/"+r+"/nodes?"+q.Encode(), nil, &out)
	return out, err
}
