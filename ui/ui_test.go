package ui

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// routerOf registers the dashboard on a bare httprouter, the policy of
// each route kept for the test to check.
type routerOf struct {
	*httprouter.Router
	needs map[string]fsm.Policy
}

func (r routerOf) Handle(method, path string, need fsm.Policy, _ api.AuthFailure, h httprouter.Handle) {
	r.needs[method+" "+path] = need
	r.Router.Handle(method, path, h)
}

func dashboard(t *testing.T) routerOf {
	t.Helper()
	r := routerOf{httprouter.New(), map[string]fsm.Policy{}}
	r.RedirectTrailingSlash = false
	Register(r)
	return r
}

func get(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestThePageIsOpenStrictAndRevalidated(t *testing.T) {
	r := dashboard(t)
	for route, need := range r.needs {
		if need != "" {
			t.Errorf("%s needs %q: the page holds no data and must load before a token is entered", route, need)
		}
	}
	if w := get(r, "/ui"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/ui/" {
		t.Fatalf("GET /ui: %d %q", w.Code, w.Header().Get("Location"))
	}
	w := get(r, "/ui/")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /ui/: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if w.Header().Get("Cache-Control") != "no-cache" || w.Header().Get("ETag") == "" {
		t.Errorf("cache headers: %v", w.Header())
	}
	if again := get(r, "/ui/", "If-None-Match", w.Header().Get("ETag")); again.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d", again.Code)
	}
	if w := get(r, "/ui/nope.js"); w.Code != http.StatusNotFound {
		t.Errorf("GET /ui/nope.js: %d", w.Code)
	}
}

// TestEveryReferencedAssetIsEmbeddedWithItsType follows the page's links
// and every module's imports: a missing or mistyped file would fail only
// in a browser.
func TestEveryReferencedAssetIsEmbeddedWithItsType(t *testing.T) {
	r := dashboard(t)
	ref := regexp.MustCompile(`(?:href|src)="([^"#:]+)"|from '\./([^']+)'`)
	seen := map[string]bool{}
	queue := []string{"index.html"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		w := get(r, Prefix+name)
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d", name, w.Code)
			continue
		}
		want := map[string]string{".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
		for ext, ct := range want {
			if strings.HasSuffix(name, ext) && !strings.HasPrefix(w.Header().Get("Content-Type"), ct) {
				t.Errorf("%s: Content-Type %q", name, w.Header().Get("Content-Type"))
			}
		}
		dir := ""
		if i := strings.LastIndex(name, "/"); i >= 0 {
			dir = name[:i+1]
		}
		for _, m := range ref.FindAllStringSubmatch(w.Body.String(), -1) {
			if m[1] != "" {
				queue = append(queue, m[1])
			} else {
				queue = append(queue, dir+m[2])
			}
		}
	}
	if len(seen) < 10 {
		t.Fatalf("followed only %v", seen)
	}
	for name := range assets {
		if name != "" && !seen[name] {
			t.Errorf("%s is embedded but nothing refers to it", name)
		}
	}
}

// TestNoInlineScriptOrTokenInURLs keeps the page within its CSP and the
// token out of every URL the scripts build.
func TestNoInlineScriptOrTokenInURLs(t *testing.T) {
	page := string(assets["index.html"].body)
	if regexp.MustCompile(`<script[^>]*>\s*[^<\s]`).MatchString(page) || strings.Contains(page, " style=") || regexp.MustCompile(` on[a-z]+=`).MatchString(page) {
		t.Error("index.html has inline script, style or handlers")
	}
	for name, a := range assets {
		if strings.HasSuffix(name, ".js") && regexp.MustCompile(`(?i)[?&]token=|new EventSource|localStorage`).Match(a.body) {
			t.Errorf("%s puts the token in a URL or beyond the session", name)
		}
	}
}

func TestHeadAnswersAsGetDoes(t *testing.T) {
	r := dashboard(t)
	req := httptest.NewRequest(http.MethodHead, "/ui/app.css", nil)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Fatalf("HEAD /ui/app.css: %d %v", w.Code, w.Header())
	}
}
