// Package browser drives a real browser, Debian's headless chromium, from
// Go tests through chromedp: load a page at a viewport width, measure how
// wide the document is, take a screenshot for people to look at.
//
// It is for tests only: import it from _test.go files, never from a
// program. Tabs run without JavaScript unless asked, as Tor Browser at its
// "Safest" level does, because the public site must work that way.
//
// A test that needs chromium gets it from [Start]. Where chromium is not
// installed the test is skipped, except under CI (the CI variable set),
// where it fails: a browser test that quietly skips proves nothing.
//
// Screenshots go to [ArtifactDir]: $HEARKEN_ARTIFACTS/<test name> when
// that variable is set, so CI keeps them, and a temporary directory
// otherwise.
package browser

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromium is where Debian's chromium package installs the browser.
const Chromium = "/usr/bin/chromium"

// patience bounds one browser step: a last guard against a hang on a busy
// machine, never a way to synchronise.
const patience = 60 * time.Second

// Browser is one headless chromium, with a fresh profile, for one test.
type Browser struct {
	ctx context.Context // the browser's own chromedp context
}

// Start starts chromium for t and stops it when t ends. With -short it
// skips t: a real browser is the slowest part of the suite.
func Start(t testing.TB) *Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("a real browser is slow: go test -short leaves it out")
	}
	path, err := execPath()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skipf("chromium is not installed (%v); apt-get install chromium", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests may run as root, where the sandbox will not start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// Start the browser now, so a failure to start is reported here. The
	// first run of a context must not be given a derived context: chromedp
	// ties the browser's life to it.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("failed to start chromium: %v", err)
	}
	return &Browser{ctx: bctx}
}

func execPath() (string, error) {
	if _, err := os.Stat(Chromium); err == nil {
		return Chromium, nil
	}
	return exec.LookPath("chromium")
}

// TabOption changes how a tab is opened.
type TabOption func(*tabConfig)

type tabConfig struct{ javascript bool }

// JavaScript lets the tab's pages run scripts (for tools such as axe-core
// that run inside the page). Tabs have it off otherwise.
func JavaScript() TabOption { return func(c *tabConfig) { c.javascript = true } }

// Tab is one browser tab.
type Tab struct {
	t          testing.TB
	ctx        context.Context
	javascript bool // the page's own scripts may run
}

// NewTab opens a tab that closes when t ends.
func (b *Browser) NewTab(t testing.TB, opts ...TabOption) *Tab {
	t.Helper()
	var cfg tabConfig
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	// As in Start, the first run gets the tab's own context.
	err := chromedp.Do(ctx, scripts(cfg.javascript))
	if err != nil {
		t.Fatalf("failed to open a tab: %v", err)
	}
	return &Tab{t: t, ctx: ctx, javascript: cfg.javascript}
}

// scripts turns the page's scripts on or off.
func scripts(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled,
			emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	})
}

// Context is the tab's chromedp context, for what this package does not
// do itself: chromedp.Do(tab.Context(), chromedp.Click(...)).
func (tab *Tab) Context() context.Context { return tab.ctx }

// Load sets the viewport to width CSS pixels (a phone's shape and touch
// below 600, a desktop's above), loads url, waits for it to finish
// loading, and returns the page's HTTP status.
func (tab *Tab) Load(url string, width int) (int, error) {
	height, mobile := 900, false
	if width < 600 {
		height, mobile = 844, true
	}
	viewport := chromedp.EmulateViewport(int64(width), int64(height), func(p *emulation.SetDeviceMetricsOverrideParams, touch *emulation.SetTouchEmulationEnabledParams) {
		p.Mobile = mobile
		touch.Enabled = mobile
	})
	if err := run(tab.ctx, viewport); err != nil {
		return 0, fmt.Errorf("failed to set the viewport: %w", err)
	}
	ctx, cancel := context.WithTimeout(tab.ctx, patience)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	if err != nil {
		return 0, fmt.Errorf("failed to load %s: %w", url, err)
	}
	if resp == nil {
		return 0, fmt.Errorf("failed to load %s: no response", url)
	}
	return int(resp.Status), nil
}

// ScrollWidth returns the width of the document's scrollable area in CSS
// pixels: wider than the viewport means the reader must scroll sideways,
// or on a phone sees the page zoomed out to a blank strip. It asks the
// browser's layout, not a script, so it works with JavaScript off.
func (tab *Tab) ScrollWidth() (int, error) {
	m, err := layout(tab.ctx)
	if err != nil {
		return 0, err
	}
	return int(math.Ceil(m.CSSContentSize.Width)), nil
}

func layout(ctx context.Context) (page.GetLayoutMetricsResult, error) {
	var m page.GetLayoutMetricsResult
	err := run(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		var err error
		m, err = chromedp.Call(ctx, page.GetLayoutMetrics, struct{}{})
		return err
	}))
	if err == nil && m.CSSContentSize == nil {
		err = errors.New("the browser gave no content size")
	}
	if err != nil {
		return m, fmt.Errorf("failed to read the layout: %w", err)
	}
	return m, nil
}

// Screenshot saves the whole page, not only the viewport, as a PNG named
// name (".png" is added) in ArtifactDir, and returns its path.
func (tab *Tab) Screenshot(name string) (string, error) {
	ctx, cancel := context.WithTimeout(tab.ctx, patience)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", fmt.Errorf("failed to take a screenshot: %w", err)
	}
	path := filepath.Join(ArtifactDir(tab.t), fileName(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", fmt.Errorf("failed to save a screenshot: %w", err)
	}
	return path, nil
}

// ArtifactDir returns the directory where t's screenshots are kept:
// $HEARKEN_ARTIFACTS/<test name> if that is set, a temporary directory
// otherwise. The same t always gets the same directory.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	root := os.Getenv("HEARKEN_ARTIFACTS")
	if root == "" {
		return tempDir(t)
	}
	dir := filepath.Join(root, fileName(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("failed to create the artifact directory: %v", err)
	}
	return dir
}

// tempDirs remembers each test's temporary artifact directory, since
// t.TempDir makes a new one on every call.
var (
	tempMu   sync.Mutex
	tempDirs = map[string]string{}
)

func tempDir(t testing.TB) string {
	tempMu.Lock()
	defer tempMu.Unlock()
	if d, ok := tempDirs[t.Name()]; ok {
		return d
	}
	d := t.TempDir()
	tempDirs[t.Name()] = d
	t.Cleanup(func() {
		tempMu.Lock()
		delete(tempDirs, t.Name())
		tempMu.Unlock()
	})
	return d
}

// fileName turns a test or page name into a safe file name.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

func run(ctx context.Context, a chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	return chromedp.Do(ctx, a)
}

// Eval evaluates a JavaScript expression in tab's page and returns its
// value, decoded from JSON into T; a promise is awaited, as axe.run's is.
// The tab must have been opened with [JavaScript]; the page itself need
// not have any script.
func Eval[T any](tab *Tab, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tab.ctx, patience)
	defer cancel()
	await := true
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, func(p *runtime.EvaluateParams) { p.AwaitPromise = &await }))
	if err != nil {
		return v, fmt.Errorf("failed to evaluate a script: %w", err)
	}
	return v, nil
}
