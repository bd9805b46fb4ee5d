package integration

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/api"
)

// The bounded HTTP fuzzer: every route of a real one-agent group gets
// random and mutated requests (bad JSON, huge numbers, bad paths, missing
// and wrong tokens). No answer may be a 5xx, and a refused write (4xx)
// must leave the state as it was. FERRY_FUZZ_REQUESTS sets the total
// (default 20 per route), FERRY_FUZZ_SEED the seed; bench/fuzz-http.sh
// runs it long.
func TestFuzzHTTPEveryRoute(t *testing.T) {
	n := startNode(t, "fz", withBootstrapExpect(1))
	sameLeader(t, 30*time.Second, n)
	makeRepo(t, n.url(), "", "demo", "files", "GENERIC")
	makeRepo(t, n.url(), "", "demo", "img", "DOCKER")
	read := createToken(t, n, mgmtToken, "read")
	// PUT /v1/agent/leave stops the agent it is sent to, by design.
	routes := slices.DeleteFunc(n.a.Routes(), func(rt api.Route) bool { return rt.Path == "/v1/agent/leave" })
	total := len(routes) * 20
	if v, err := strconv.Atoi(os.Getenv("FERRY_FUZZ_REQUESTS")); err == nil && v > 0 {
		total = v
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("FERRY_FUZZ_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("fuzzing %d routes with %d requests, FERRY_FUZZ_SEED=%d", len(routes), total, seed)
	f := &httpFuzzer{t: t, base: n.url(), rnd: rand.New(rand.NewPCG(seed, 1)), tokens: []string{"", "wrong", mgmtToken, read.Secret},
		client: &http.Client{Timeout: 15 * time.Second}, counts: map[int]int{}}
	f.state = f.snapshot()
	start := time.Now()
	for i := range total {
		f.one(routes[i%len(routes)])
		if (i+1)%100_000 == 0 {
			t.Logf("fuzz: %d requests, %.0f requests/s; by status: %s", i+1, float64(i+1)/time.Since(start).Seconds(), f.byStatus())
		}
		if t.Failed() && f.failures > 20 {
			break
		}
	}
	elapsed := time.Since(start)
	t.Logf("fuzz: %d requests in %s, %.0f requests/s; by status: %s", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), f.byStatus())
}

type httpFuzzer struct {
	t        *testing.T
	base     string
	rnd      *rand.Rand
	tokens   []string
	client   *http.Client
	counts   map[int]int
	state    string
	failures int
}

// one sends a mutated request to route and checks the answer.
func (f *httpFuzzer) one(rt api.Route) {
	method := rt.Method
	if method == "*" || f.rnd.IntN(10) == 0 {
		method = f.pick("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS")
	}
	target := f.base + f.path(rt.Path) + f.query()
	body := f.body()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		f.counts[0]++ // not even a request: the client refused the URL
		return
	}
	f.auth(req)
	if f.rnd.IntN(3) == 0 {
		req.Header.Set("Content-Type", f.pick("application/json", "application/octet-stream", "text/plain", "multipart/form-data; boundary=x"))
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.fail("%s %s: %v", method, target, err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	f.counts[resp.StatusCode]++
	write := method != "GET" && method != "HEAD"
	switch {
	case resp.StatusCode >= 500:
		f.fail("%s %s (%d bytes of body): %d", method, target, len(body), resp.StatusCode)
	case resp.StatusCode >= 400 && write:
		if now := f.snapshot(); now != f.state {
			f.fail("%s %s was refused %d but changed the state", method, target, resp.StatusCode)
			f.state = now
		}
	case write:
		f.state = f.snapshot()
	}
}

func (f *httpFuzzer) fail(format string, args ...any) {
	f.t.Helper()
	f.failures++
	f.t.Errorf(format, args...)
}

// snapshot is the state a refused write must not change.
func (f *httpFuzzer) snapshot() string {
	var b strings.Builder
	for _, p := range []string{"/v1/tasks?pageSize=1000", "/v1/runs?pageSize=1000", "/v1/projects", "/v1/acl/tokens", "/v1/acl/access-keys", "/v1/projects/demo/repos", "/v1/projects/demo/repos/files/nodes?path=/&recursive=true&pageSize=1000"} {
		r := call(f.t, "GET", f.base+p, mgmtToken, nil)
		fmt.Fprintf(&b, "%s %d %s\n", p, r.status, r.body)
	}
	return b.String()
}

func (f *httpFuzzer) pick(vs ...string) string { return vs[f.rnd.IntN(len(vs))] }

var fuzzNames = []string{"demo", "files", "img", "img/web", "fuzz", "", "x", "9223372036854775807", "-1", "0", "..", "%2e%2e", "a%00b", "%ff",
	"shanghai", "ünï", "a b", "a/b/c", strings.Repeat("a", 300), strings.Repeat("0", 64), "sha256:" + strings.Repeat("f", 64), "latest", "v1.0"}

// path fills route's parameters with names, real and hostile.
func (f *httpFuzzer) path(pattern string) string {
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, ":"):
			segs[i] = f.pick(fuzzNames...)
		case strings.HasPrefix(s, "*"):
			segs[i] = strings.TrimPrefix(f.pick("a.bin", "dir/a.bin", "../../etc/passwd", "img/web/blobs/uploads/", "img/web/manifests/latest",
				"demo/img/web/tags/list", "", "%2F%2F", strings.Repeat("d/", 100)), "/")
		}
	}
	p := strings.Join(segs, "/")
	if f.rnd.IntN(15) == 0 {
		p += f.pick("/", "//", "/extra", "%", "?")
	}
	return p
}

var fuzzParams = []string{"pageNumber", "pageSize", "size", "offset", "cluster", "path", "recursive", "from", "since", "packageKey", "version",
	"project", "repo", "consistent", "limit", "skip", "digest", "name", "status", "md5", "by", "n", "last", "mount", "sortType"}

var fuzzValues = []string{"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-1", "0", "1", "1e400", "NaN", "", "true",
	"/", "demo", "files", "shanghai", "atlantis", "sha256:", strings.Repeat("9", 40), "%zz", "a&b=c"}

func (f *httpFuzzer) query() string {
	var q []string
	for range f.rnd.IntN(4) {
		q = append(q, f.pick(fuzzParams...)+"="+f.pick(fuzzValues...))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + strings.Join(q, "&")
}

var fuzzBodies = []string{"", "{", "}", "null", "[]", "{}", `"x"`, "1e400", `{"name":"fuzz"}`, `{"name":"fuzz","type":"GENERIC"}`,
	`{"name":1e400}`, `{"pageSize":9223372036854775808}`, `{"description":"d","policy":"admin"}`, `{"policy":"nope"}`,
	`{"key":"fz","name":"fz","replicaType":"RUN_ONCE","setting":{},"replicaObjectType":"REPOSITORY","targets":[{"clusterId":"atlantis"}]}`,
	`{"type":"task.fire","data":{"key":"x","slot":"9999-01-01T00:00:00Z"}}`, `{"objects":[{"path":"/a","size":-1}]}`,
	`{"entries":[{"path":"/a","size":9223372036854775807}]}`, strings.Repeat("[", 10000), `{"a":` + strings.Repeat(`{"a":`, 500) + `1` + strings.Repeat("}", 501)}

// body is a known hostile body, sometimes mutated, sometimes random bytes.
func (f *httpFuzzer) body() []byte {
	switch f.rnd.IntN(6) {
	case 0:
		b := make([]byte, f.rnd.IntN(2048))
		for i := range b {
			b[i] = byte(f.rnd.Uint32())
		}
		return b
	case 1:
		b := []byte(f.pick(fuzzBodies...))
		for range 1 + f.rnd.IntN(3) {
			if len(b) > 0 {
				b[f.rnd.IntN(len(b))] = byte(f.rnd.Uint32())
			}
		}
		return b
	}
	return []byte(f.pick(fuzzBodies...))
}

func (f *httpFuzzer) auth(req *http.Request) {
	tok := f.tokens[f.rnd.IntN(len(f.tokens))]
	switch f.rnd.IntN(4) {
	case 0:
		req.Header.Set("Authorization", "Bearer "+tok)
	case 1:
		req.SetBasicAuth("fuzz", tok)
	case 2:
		req.Header.Set("Authorization", f.pick("SDK-HMAC-SHA256 Access=x, SignedHeaders=host, Signature=00", "Basic !!!", "Digest x", "Bearer"))
	default:
		if tok != "" {
			req.Header.Set(api.HeaderAuthToken, tok)
		}
	}
}

func (f *httpFuzzer) byStatus() string {
	codes := make([]int, 0, len(f.counts))
	for c := range f.counts {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d:%d", c, f.counts[c]))
	}
	return strings.Join(slices.Clip(parts), " ")
}
