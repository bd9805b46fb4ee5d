package integration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/config"
)

// do sends a request with a body reader and headers, management token.
func do(t testing.TB, method, url string, body io.Reader, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", mgmtToken)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func mustStatus(t testing.TB, r response, want int, what string) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: %d %s, want %d", what, r.status, r.body, want)
	}
}

// makeRepo creates project/repo of a type on the agent at base (with ?cluster= if given).
func makeRepo(t testing.TB, base, query, project, repo, typ string) {
	t.Helper()
	r := call(t, "POST", base+"/v1/projects"+query, mgmtToken, map[string]string{"name": project})
	if r.status != http.StatusCreated && r.status != http.StatusConflict {
		t.Fatalf("create project: %d %s", r.status, r.body)
	}
	mustStatus(t, call(t, "POST", base+"/v1/projects/"+project+"/repos"+query, mgmtToken, map[string]string{"name": repo, "type": typ}), http.StatusCreated, "create repo")
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// patterned is a deterministic pseudo-random stream of n bytes, generated on
// the fly so that large round trips need no memory or fixture.
func patterned(seed uint64, n int64) io.Reader {
	return io.LimitReader(&prngReader{r: rand.New(rand.NewPCG(seed, seed))}, n)
}

type prngReader struct{ r *rand.Rand }

func (p *prngReader) Read(b []byte) (int, error) {
	for i := 0; i+8 <= len(b); i += 8 {
		v := p.r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(p.r.Uint32())
	}
	return len(b), nil
}

func shaOf(t testing.TB, r io.Reader) (string, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func TestFilePutThroughAnotherRegionReadsBackIdentical(t *testing.T) {
	nodes := startGroup(t, regions)
	sameLeader(t, 30*time.Second, nodes...)
	shanghai, beijing := nodeByID(nodes, "shanghai"), nodeByID(nodes, "beijing")
	eventually(t, 10*time.Second, "registry knows shanghai", func() error {
		if r := call(t, "GET", beijing.url()+"/v1/projects?cluster=shanghai", mgmtToken, nil); r.status != http.StatusOK {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		return nil
	})
	via := "?cluster=shanghai"
	makeRepo(t, beijing.url(), via, "demo", "files", "GENERIC")

	// 256 MiB, streamed through beijing's API into shanghai's store.
	const size = 256 << 20
	want, _ := shaOf(t, patterned(1, size))
	req, _ := http.NewRequest("PUT", beijing.url()+"/generic/demo/files/big/blob.bin"+via, patterned(1, size))
	req.ContentLength = size
	req.Header.Set("X-Auth-Token", mgmtToken)
	req.Header.Set("X-Checksum-Sha256", want)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("put through beijing: %d %s", resp.StatusCode, body)
	}

	// It is in shanghai's store, read directly from shanghai, byte-identical.
	get, err := http.NewRequest("GET", shanghai.url()+"/generic/demo/files/big/blob.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	get.Header.Set("X-Auth-Token", mgmtToken)
	resp, err = httpClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	got, n := shaOf(t, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got != want || n != size || resp.Header.Get("X-Checksum-Sha256") != want ||
		resp.Header.Get("Content-Length") != strconv.Itoa(size) {
		t.Fatalf("read back from shanghai: %d, %d bytes, sha %s (want %s), headers %v", resp.StatusCode, n, got, want, resp.Header)
	}
	// Reads through beijing reach shanghai's file too: whole, HEAD, Range, If-None-Match.
	r := do(t, "GET", beijing.url()+"/generic/demo/files/big/blob.bin"+via, nil, map[string]string{"Range": "bytes=1000-1999"})
	whole, _ := io.ReadAll(io.LimitReader(patterned(1, size), 2000))
	if r.status != http.StatusPartialContent || !bytes.Equal(r.body, whole[1000:2000]) {
		t.Fatalf("range through beijing: %d, %d bytes", r.status, len(r.body))
	}
	if h := do(t, "HEAD", beijing.url()+"/generic/demo/files/big/blob.bin"+via, nil, nil); h.status != http.StatusOK || h.header.Get("X-Checksum-Sha256") != want {
		t.Fatalf("head through beijing: %d %v", h.status, h.header)
	}
	mustStatus(t, do(t, "GET", beijing.url()+"/generic/demo/files/big/blob.bin"+via, nil, map[string]string{"If-None-Match": `"` + want + `"`}), http.StatusNotModified, "if-none-match through beijing")
	get2, _ := http.NewRequest("GET", beijing.url()+"/generic/demo/files/big/blob.bin"+via, nil)
	get2.Header.Set("X-Auth-Token", mgmtToken)
	resp2, err := httpClient.Do(get2)
	if err != nil {
		t.Fatal(err)
	}
	got2, n2 := shaOf(t, resp2.Body)
	resp2.Body.Close()
	if got2 != want || n2 != size {
		t.Fatalf("full read through beijing: %d bytes, sha %s", n2, got2)
	}

	// Not in beijing's own store.
	if r := call(t, "GET", beijing.url()+"/v1/projects/demo", mgmtToken, nil); r.status != http.StatusNotFound {
		t.Fatalf("beijing's own store has the project: %d", r.status)
	}
	// An unknown region is a clear 404.
	if r := call(t, "GET", beijing.url()+"/v1/projects?cluster=atlantis", mgmtToken, nil); r.status != http.StatusNotFound || !strings.Contains(r.errorMessage(), "atlantis") {
		t.Fatalf("unknown cluster: %d %s", r.status, r.body)
	}
}

func TestGenericFiles(t *testing.T) {
	nodes := startGroup(t, regions[:1], withBootstrapExpect(1))
	n := nodes[0]
	sameLeader(t, 30*time.Second, n)
	makeRepo(t, n.url(), "", "demo", "files", "GENERIC")
	base := n.url() + "/generic/demo/files"

	content := bytes.Repeat([]byte("ferry "), 10000)
	r := do(t, "PUT", base+"/dir/a.txt", bytes.NewReader(content), map[string]string{
		"X-Checksum-Sha256": sha(content), "X-Ferry-Meta-Build-Id": "42", "X-Ferry-Meta-Stage": "rc"})
	mustStatus(t, r, http.StatusCreated, "put")

	r = do(t, "GET", base+"/dir/a.txt", nil, nil)
	mustStatus(t, r, http.StatusOK, "get")
	etag := r.header.Get("ETag")
	if !bytes.Equal(r.body, content) || etag != `"`+sha(content)+`"` || r.header.Get("X-Checksum-Sha256") != sha(content) ||
		r.header.Get("Last-Modified") == "" || r.header.Get("X-Ferry-Meta-Build-Id") != "42" || r.header.Get("X-Ferry-Meta-Stage") != "rc" {
		t.Fatalf("get: %d bytes, headers %v", len(r.body), r.header)
	}
	r = do(t, "GET", base+"/dir/a.txt", nil, map[string]string{"Range": "bytes=100-199"})
	if r.status != http.StatusPartialContent || !bytes.Equal(r.body, content[100:200]) || r.header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(content)) {
		t.Fatalf("range: %d %q %v", r.status, r.body, r.header)
	}
	mustStatus(t, do(t, "GET", base+"/dir/a.txt", nil, map[string]string{"If-None-Match": etag}), http.StatusNotModified, "if-none-match")
	head := do(t, "HEAD", base+"/dir/a.txt", nil, nil)
	if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("Content-Length") != strconv.Itoa(len(content)) {
		t.Fatalf("head: %d %v", head.status, head.header)
	}
	mustStatus(t, do(t, "GET", base+"/dir/missing", nil, nil), http.StatusNotFound, "missing path")
	// Reads are counted even when the content goes out by sendfile.
	readBytes := regexp.MustCompile(`(?m)^ferry_store_read_bytes_total (\d+)`)
	if m := readBytes.FindSubmatch(call(t, "GET", n.url()+"/metrics", "", nil).body); m == nil || string(m[1]) != strconv.Itoa(len(content)+100) {
		t.Fatalf("read bytes counted: %s, want %d (one full read and a 100-byte range)", m, len(content)+100)
	}

	// Overwrite control.
	mustStatus(t, do(t, "PUT", base+"/dir/a.txt", strings.NewReader("x"), map[string]string{"X-Ferry-Overwrite": "false"}), http.StatusConflict, "no-overwrite")
	mustStatus(t, do(t, "PUT", base+"/dir/a.txt", strings.NewReader("v2"), nil), http.StatusOK, "overwrite")
	if r := do(t, "GET", base+"/dir/a.txt", nil, nil); string(r.body) != "v2" {
		t.Fatalf("after overwrite: %q", r.body)
	}
	// Deploy by checksum: no body, content the store already holds.
	dep := do(t, "PUT", base+"/copy/a.txt", nil, map[string]string{"X-Checksum-Deploy": "true", "X-Checksum-Sha256": sha([]byte("v2"))})
	mustStatus(t, dep, http.StatusCreated, "checksum deploy")
	if r := do(t, "GET", base+"/copy/a.txt", nil, nil); string(r.body) != "v2" {
		t.Fatalf("checksum-deployed file reads %q", r.body)
	}
	unknown := do(t, "PUT", base+"/copy/b.txt", nil, map[string]string{"X-Checksum-Deploy": "true", "X-Checksum-Sha256": sha([]byte("never stored"))})
	if unknown.status != http.StatusNotFound || !strings.Contains(unknown.errorMessage(), "send the body") && !strings.Contains(unknown.errorMessage(), "no content") {
		t.Fatalf("checksum deploy of unknown content: %d %s", unknown.status, unknown.body)
	}
	mustStatus(t, do(t, "PUT", base+"/copy/c.txt", nil, map[string]string{"X-Checksum-Deploy": "true"}), http.StatusBadRequest, "checksum deploy without a checksum")
	// A wrong checksum stores nothing.
	mustStatus(t, do(t, "PUT", base+"/dir/b.txt", strings.NewReader("abc"), map[string]string{"X-Checksum-Sha256": sha([]byte("xyz"))}), http.StatusBadRequest, "wrong checksum")
	mustStatus(t, do(t, "GET", base+"/dir/b.txt", nil, nil), http.StatusNotFound, "after a wrong checksum")

	// Listing with totals and paging.
	for i := range 5 {
		do(t, "PUT", fmt.Sprintf("%s/dir/sub/f%d", base, i), strings.NewReader(strconv.Itoa(i)), nil)
	}
	var page struct {
		TotalRecords int `json:"totalRecords"`
		TotalPages   int `json:"totalPages"`
		Records      []struct {
			FullPath string `json:"fullPath"`
			Folder   bool   `json:"folder"`
		} `json:"records"`
	}
	call(t, "GET", n.url()+"/v1/projects/demo/repos/files/nodes?path=/dir&recursive=true&pageNumber=2&pageSize=4", mgmtToken, nil).decode(t, &page)
	if page.TotalRecords != 6 || page.TotalPages != 2 || len(page.Records) != 2 {
		t.Fatalf("recursive listing page 2: %+v", page)
	}
	call(t, "GET", n.url()+"/v1/projects/demo/repos/files/nodes?path=/dir", mgmtToken, nil).decode(t, &page)
	if page.TotalRecords != 2 || !page.Records[0].Folder || page.Records[0].FullPath != "/dir/sub" || page.Records[1].FullPath != "/dir/a.txt" {
		t.Fatalf("listing of /dir: %+v", page)
	}

	// Delete, then the change log tells the whole story.
	mustStatus(t, do(t, "DELETE", base+"/dir/a.txt", nil, nil), http.StatusNoContent, "delete")
	mustStatus(t, do(t, "GET", base+"/dir/a.txt", nil, nil), http.StatusNotFound, "after delete")
	var changes []struct {
		Seq  int    `json:"seq"`
		Kind string `json:"kind"`
		Path string `json:"path"`
	}
	call(t, "GET", n.url()+"/v1/projects/demo/repos/files/changes?from=1", mgmtToken, nil).decode(t, &changes)
	if len(changes) != 9 || changes[0].Kind != "NODE_CREATED" || changes[1].Kind != "NODE_UPDATED" || changes[2].Path != "/copy/a.txt" || changes[8].Kind != "NODE_DELETED" || changes[8].Seq != 9 {
		t.Fatalf("changes: %+v", changes)
	}
}

func TestManySmallFilesRoundTrip(t *testing.T) {
	nodes := startGroup(t, regions[:1], withBootstrapExpect(1))
	n := nodes[0]
	sameLeader(t, 30*time.Second, n)
	makeRepo(t, n.url(), "", "demo", "small", "GENERIC")
	base := n.url() + "/generic/demo/small"
	const files = 300
	for i := range files {
		body, _ := io.ReadAll(patterned(uint64(i), int64(1+i*13)))
		mustStatus(t, do(t, "PUT", fmt.Sprintf("%s/d%d/f%d", base, i%7, i), bytes.NewReader(body), map[string]string{"X-Checksum-Sha256": sha(body)}), http.StatusCreated, "put small")
	}
	for i := range files {
		want, _ := io.ReadAll(patterned(uint64(i), int64(1+i*13)))
		if r := do(t, "GET", fmt.Sprintf("%s/d%d/f%d", base, i%7, i), nil, nil); !bytes.Equal(r.body, want) {
			t.Fatalf("file %d differs after the round trip", i)
		}
	}
}

func TestUploadKilledMidStreamLeavesNothing(t *testing.T) {
	nodes := startGroup(t, regions[:1], withBootstrapExpect(1))
	n := nodes[0]
	sameLeader(t, 30*time.Second, n)
	makeRepo(t, n.url(), "", "demo", "files", "GENERIC")

	conn, err := net.Dial("tcp", n.a.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /generic/demo/files/half.bin HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\nContent-Length: %d\r\n\r\n", mgmtToken, 8<<20)
	conn.Write(bytes.Repeat([]byte("h"), 1<<20))
	conn.Close() // the client dies after 1 of 8 MiB

	canceled := regexp.MustCompile(`(?m)^ferry_store_writes_total\{result="(canceled|error)"\} 1$`)
	eventually(t, 10*time.Second, "the broken upload is counted as failed", func() error {
		if m := call(t, "GET", n.url()+"/metrics", "", nil); !canceled.Match(m.body) {
			return fmt.Errorf("no failed write counted yet")
		}
		return nil
	})
	mustStatus(t, do(t, "GET", n.url()+"/generic/demo/files/half.bin", nil, nil), http.StatusNotFound, "half upload")
	m := call(t, "GET", n.url()+"/metrics", "", nil)
	if !regexp.MustCompile(`(?m)^ferry_store_objects 0$`).Match(m.body) {
		t.Fatalf("content stored from a broken upload:\n%s", grepLines(m.body, "ferry_store"))
	}
	var changes []any
	call(t, "GET", n.url()+"/v1/projects/demo/repos/files/changes", mgmtToken, nil).decode(t, &changes)
	if len(changes) != 0 {
		t.Fatalf("a broken upload logged changes: %v", changes)
	}
}

func grepLines(b []byte, prefix string) string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			out = append(out, sc.Text())
		}
	}
	return strings.Join(out, "\n")
}

func TestArtifactBadInput(t *testing.T) {
	nodes := startGroup(t, regions[:1], withBootstrapExpect(1))
	n := nodes[0]
	sameLeader(t, 30*time.Second, n)
	makeRepo(t, n.url(), "", "demo", "files", "GENERIC")
	u := n.url()
	cases := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"project name upper case", "POST", "/v1/projects", map[string]string{"name": "Demo"}, 400},
		{"project name too short", "POST", "/v1/projects", map[string]string{"name": "d"}, 400},
		{"project name starts with digit", "POST", "/v1/projects", map[string]string{"name": "1demo"}, 400},
		{"repo name empty", "POST", "/v1/projects/demo/repos", map[string]string{"name": "", "type": "GENERIC"}, 400},
		{"repo name with slash", "POST", "/v1/projects/demo/repos", map[string]string{"name": "a/b", "type": "GENERIC"}, 400},
		{"unknown repo type", "POST", "/v1/projects/demo/repos", map[string]string{"name": "x", "type": "TARBALL"}, 400},
		{"duplicate repo", "POST", "/v1/projects/demo/repos", map[string]string{"name": "files", "type": "GENERIC"}, 409},
		{"repo in missing project", "POST", "/v1/projects/nope/repos", map[string]string{"name": "x", "type": "GENERIC"}, 404},
		{"unknown field", "POST", "/v1/projects", map[string]string{"name": "okname", "color": "red"}, 400},
		{"bad page", "GET", "/v1/projects/demo/repos/files/nodes?pageSize=-1", nil, 400},
		{"bad from", "GET", "/v1/projects/demo/repos/files/changes?from=x", nil, 400},
		{"listing escapes", "GET", "/v1/projects/demo/repos/files/nodes?path=/../..", nil, 400},
		{"version without packageKey", "GET", "/v1/projects/demo/repos/files/packages/versions", nil, 400},
		{"delete non-empty project", "DELETE", "/v1/projects/demo", nil, 409},
	}
	for _, c := range cases {
		r := call(t, c.method, u+c.path, mgmtToken, c.body)
		if r.status != c.want || r.errorMessage() == "" {
			t.Errorf("%s: %d %s, want %d with an error message", c.name, r.status, r.body, c.want)
		}
	}
	// Paths that escape or are malformed, sent raw so the client does not clean them.
	for _, p := range []string{"/generic/demo/files/a/../../../etc/passwd", "/generic/demo/files/a%00b", "/generic/demo/files/a%5Cb", "/generic/demo/files/" + strings.Repeat("x", 1100)} {
		r := rawRequest(t, n.a.HTTPAddr(), "PUT", p, "data")
		if r != http.StatusBadRequest {
			t.Errorf("PUT %s: %d, want 400", p[:min(len(p), 60)], r)
		}
	}
	mustStatus(t, do(t, "PUT", u+"/generic/demo/files/f", strings.NewReader("x"), map[string]string{"X-Checksum-Sha256": "not-hex"}), 400, "malformed checksum header")
	mustStatus(t, do(t, "PUT", u+"/generic/demo/files/f", strings.NewReader("x"), map[string]string{"X-Ferry-Overwrite": "maybe"}), 400, "malformed overwrite header")
	mustStatus(t, do(t, "PUT", u+"/generic/demo/nope/f", strings.NewReader("x"), nil), 404, "missing repository")
	// Reads need a token; writes need write.
	read := createToken(t, n, mgmtToken, "read")
	req, _ := http.NewRequest("PUT", u+"/generic/demo/files/f", strings.NewReader("x"))
	req.Header.Set("X-Auth-Token", read.Secret)
	if resp, err := httpClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("put with a read token: %v %v", err, resp.StatusCode)
	}
	var nodes2 []any
	call(t, "GET", u+"/v1/projects/demo/repos/files/changes", mgmtToken, nil).decode(t, &nodes2)
	if len(nodes2) != 0 {
		t.Fatalf("bad requests changed the repository: %v", nodes2)
	}
}

// rawRequest sends a request line exactly as given (no client-side cleaning).
func rawRequest(t testing.TB, addr, method, path, body string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", method, path, mgmtToken, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestPackagesAPI(t *testing.T) {
	nodes := startGroup(t, regions[:1], withBootstrapExpect(1))
	n := nodes[0]
	sameLeader(t, 30*time.Second, n)
	makeRepo(t, n.url(), "", "demo", "maven", "MAVEN")
	makeRepo(t, n.url(), "", "demo", "npm", "NPM")
	u := n.url() + "/v1/projects/demo/repos/"

	// Files at the conventional layout register versions by themselves.
	mustStatus(t, do(t, "PUT", n.url()+"/generic/demo/maven/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", strings.NewReader("jar"), nil), 201, "maven jar")
	mustStatus(t, do(t, "PUT", n.url()+"/generic/demo/maven/com/alibaba/fastjson/1.2.48/fastjson-1.2.48.jar", strings.NewReader("jar2"), nil), 201, "maven jar 2")
	mustStatus(t, do(t, "PUT", n.url()+"/generic/demo/npm/helloworld/-/helloworld-1.0.0.tgz", strings.NewReader("tgz"), nil), 201, "npm tarball")
	var v struct {
		PackageKey string   `json:"packageKey"`
		Name       string   `json:"name"`
		Paths      []string `json:"paths"`
	}
	call(t, "GET", u+"maven/packages/version?packageKey=gav://com.alibaba:fastjson&version=1.2.47", mgmtToken, nil).decode(t, &v)
	if v.Name != "1.2.47" || len(v.Paths) != 1 || v.Paths[0] != "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar" {
		t.Fatalf("maven version: %+v", v)
	}
	if r := call(t, "GET", u+"npm/packages/version?packageKey=npm://helloworld&version=1.0.0", mgmtToken, nil); r.status != 200 {
		t.Fatalf("npm version: %d %s", r.status, r.body)
	}
	var pkgs struct {
		TotalRecords int `json:"totalRecords"`
		Records      []struct {
			Key      string `json:"key"`
			Versions int    `json:"versions"`
		} `json:"records"`
	}
	call(t, "GET", u+"maven/packages?prefix=gav://com.alibaba", mgmtToken, nil).decode(t, &pkgs)
	if pkgs.TotalRecords != 1 || pkgs.Records[0].Versions != 2 {
		t.Fatalf("packages: %+v", pkgs)
	}
	var versions struct {
		TotalRecords int `json:"totalRecords"`
	}
	call(t, "GET", u+"maven/packages/versions?packageKey=gav://com.alibaba:fastjson", mgmtToken, nil).decode(t, &versions)
	if versions.TotalRecords != 2 {
		t.Fatalf("versions: %+v", versions)
	}
	// A version by hand, with metadata; then delete it.
	mustStatus(t, call(t, "POST", u+"maven/packages", mgmtToken, map[string]any{
		"packageKey": "gav://com.alibaba:fastjson", "version": "1.2.47", "paths": []string{"/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar"},
		"metadata": map[string]string{"status": "released"}}), 200, "put version")
	mustStatus(t, call(t, "POST", u+"maven/packages", mgmtToken, map[string]any{
		"packageKey": "gav://x:y", "version": "1", "paths": []string{"/not/there"}}), 400, "version with a missing path")
	mustStatus(t, call(t, "DELETE", u+"maven/packages/version?packageKey=gav://com.alibaba:fastjson&version=1.2.48", mgmtToken, nil), 204, "delete version")
	mustStatus(t, call(t, "GET", u+"maven/packages/version?packageKey=gav://com.alibaba:fastjson&version=1.2.48", mgmtToken, nil), 404, "deleted version")
}

// A full disk answers 507 and leaves nothing behind.
func TestFullDiskIs507(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	n := startNode(t, "small", withBootstrapExpect(1), configure(func(c *config.Config) { c.DataDir = dir }))
	sameLeader(t, 30*time.Second, n)
	makeRepo(t, n.url(), "", "demo", "files", "GENERIC")
	r := do(t, "PUT", n.url()+"/generic/demo/files/big.bin", patterned(3, 8<<20), nil)
	if r.status != http.StatusInsufficientStorage || r.errorMessage() == "" {
		t.Fatalf("upload larger than the disk: %d %s", r.status, r.body)
	}
	mustStatus(t, do(t, "GET", n.url()+"/generic/demo/files/big.bin", nil, nil), http.StatusNotFound, "after 507")
	if left, _ := os.ReadDir(filepath.Join(dir, "store", "tmp")); len(left) != 0 {
		t.Fatalf("a refused upload left %d temporary files", len(left))
	}
	mustStatus(t, do(t, "PUT", n.url()+"/generic/demo/files/small.txt", strings.NewReader("fits"), nil), http.StatusCreated, "small upload after 507")
}
