package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// AxeVersion is the version of axe-core the tests are checked with. .ci/run
// installs exactly this one with npm.
const AxeVersion = "4.14.1"

// AxeTags are axe-core's rule sets for WCAG 2.2 at level AA: the level A
// and AA rules of WCAG 2.0, 2.1 and 2.2.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// AxeSource returns axe-core's script, from $HEARKEN_AXE_CORE (a path to
// axe.min.js) or from .ci/npm/node_modules/axe-core/axe.min.js in the
// repository, where .ci/run installs it:
//
//	npm install --no-save --prefix .ci/npm axe-core@4.14.1
//
// Without it the test is skipped, except under CI, where it fails.
func AxeSource(t testing.TB) string {
	t.Helper()
	path := os.Getenv("HEARKEN_AXE_CORE")
	if path == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, ".ci", "npm", "node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is required in CI: %v", err)
		}
		t.Skipf("axe-core is not installed (%v): npm install --no-save --prefix .ci/npm axe-core@%s", err, AxeVersion)
	}
	return string(src)
}

// moduleRoot finds the directory holding go.mod, from the test's working
// directory (its package's) upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// AxeViolation is one rule the page breaks, with every element that
// breaks it.
type AxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"` // CSS selector: what is wrong
}

func (v AxeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s\n    %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n    "))
}

// AxeResult is what axe-core found on one page.
type AxeResult struct {
	Violations []AxeViolation `json:"violations"`
	Passes     int            `json:"passes"` // rules checked and passed
	Version    string         `json:"version"`
}

// axeRun runs axe on the document with the WCAG 2.2 AA rule sets and
// returns what it found as JSON, with each failing element named by its
// selector and what is wrong with it.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]}).then(r => JSON.stringify({
	version: axe.version,
	passes: r.passes.length,
	violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
		nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})),
}))`

// Axe runs axe-core (src, from [AxeSource]) on the page loaded in tab and
// returns what it found. The page is checked as it was loaded: with its
// own scripts off, as Tor Browser at "Safest" shows it. axe is injected
// through DevTools; its checks wait on timers, which a page with scripts
// off never fires, so scripts are let run while axe does (a loaded
// page's own scripts do not run then: they ran, or did not, as it loaded).
func (tab *Tab) Axe(src string) (AxeResult, error) {
	var res AxeResult
	tags, _ := json.Marshal(AxeTags)
	ctx, cancel := context.WithTimeout(tab.ctx, patience)
	defer cancel()
	if !tab.javascript {
		if err := chromedp.Do(ctx, scripts(true)); err != nil {
			return res, fmt.Errorf("failed to let axe-core run: %w", err)
		}
		defer chromedp.Do(tab.ctx, scripts(false))
	}
	// Into each document anew: a page loaded since has no axe.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+"\n;true")); err != nil {
		return res, fmt.Errorf("failed to inject axe-core: %w", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(axeRun, tags), chromedp.EvalAwaitPromise))
	if err != nil {
		return res, fmt.Errorf("failed to run axe-core: %w", err)
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return res, fmt.Errorf("failed to read axe-core's answer: %w", err)
	}
	if res.Version != AxeVersion {
		return res, fmt.Errorf("axe-core %s is installed, the tests are checked with %s", res.Version, AxeVersion)
	}
	return res, nil
}
