package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A headless Chromium for the dashboard's tests (Debian's chromium, which
// .ci/run installs): flags that keep it off the network it would otherwise
// try (this machine's network is closed, and chromium hangs on it), a fresh
// profile per test.

const chromiumPath = "/usr/bin/chromium"

// browser is one headless tab and where its screenshots go.
type browser struct {
	t    *testing.T
	ctx  context.Context
	shot string // directory
}

func newBrowser(t *testing.T, within time.Duration) *browser {
	t.Helper()
	exe := chromiumPath
	if _, err := os.Stat(exe); err != nil {
		exe = needTool(t, "chromium", "chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 900),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true), chromedp.Flag("disable-extensions", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, within)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	dir := os.Getenv("FERRY_UI_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, shot: dir}
	b.run("start chromium", chromedp.Navigate("about:blank"))
	return b
}

func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// text is the visible text of the first element sel matches, "" for none.
func (b *browser) text(sel string) (string, error) {
	return chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel)))
}

// waitText polls the DOM until sel's text holds every one of want.
func (b *browser) waitText(within time.Duration, sel string, want ...string) string {
	b.t.Helper()
	var got string
	eventually(b.t, within, fmt.Sprintf("%s shows %q", sel, want), func() error {
		s, err := b.text(sel)
		if err != nil {
			return err
		}
		got = s
		for _, w := range want {
			if !strings.Contains(s, w) {
				return fmt.Errorf("%q lacks %q", s, w)
			}
		}
		return nil
	})
	return got
}

// click clicks the button labelled label inside the element sel matches,
// once it is there.
func (b *browser) click(within time.Duration, sel, label string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false;
		const btn = [...el.querySelectorAll('button')].find((x) => x.textContent.trim() === %q && !x.disabled);
		if (!btn) return false; btn.click(); return true; })()`, sel, label)
	eventually(b.t, within, "click "+label+" in "+sel, func() error {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no enabled %q button in %s yet", label, sel)
		}
		return nil
	})
}

// screenshot saves the tab's viewport as name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(b.shot, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

// open loads the dashboard page of the agent at base.
func (b *browser) open(base string) {
	b.t.Helper()
	b.run("open "+base, chromedp.Navigate(base+"/ui/"))
}

// view goes to the view hash names (#/runs, #/runs/<id>) in the page: a
// change of hash loads nothing, which chromedp.Navigate would wait for.
func (b *browser) view(hash string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`location.hash = %q`, hash))); err != nil {
		b.t.Fatalf("view %s: %v", hash, err)
	}
}

// login enters tok in the login form and clicks its button.
func (b *browser) login(tok string) {
	b.t.Helper()
	b.run("log in", chromedp.WaitVisible(chromedp.ID("token")), chromedp.SetValue(chromedp.ID("token"), tok),
		chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)))
}
