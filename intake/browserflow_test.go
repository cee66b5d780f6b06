package intake

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/hearken-project/hearken/internal/browser"
	"github.com/hearken-project/hearken/vault"
)

// The reporter's whole path through the site, in a real browser with
// JavaScript off (Tor Browser at "Safest"): home, the form with a photo,
// the receipt, the team's reply, a follow-up. Every page on the way is
// checked with axe-core (WCAG 2.2 AA) and must fit the viewport.

// flowTab is a browser tab walking the site at one width.
type flowTab struct {
	t      *testing.T
	tab    *browser.Tab
	width  int
	lang   string
	axe    string
	shoot  bool // keep screenshots of every page (English and Arabic)
	checks int  // pages checked with axe
}

// follow runs actions that load a page (a click on a link or a submit
// button) in the tab's own context (a derived context loses track of the
// page's nodes; go test's -timeout guards a hang) and returns the page's
// status.
func (f *flowTab) follow(what string, actions ...chromedp.Action[chromedp.Void]) int {
	f.t.Helper()
	resp, err := chromedp.RunResponse(f.tab.Context(), actions...)
	if err != nil || resp == nil {
		f.t.Fatalf("%s at %d px: %v", what, f.width, err)
	}
	return int(resp.Status)
}

// do runs actions that stay on the page (typing, choosing a file).
func (f *flowTab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	f.t.Helper()
	if err := chromedp.Do(f.tab.Context(), actions...); err != nil {
		f.t.Fatalf("%s at %d px: %v", what, f.width, err)
	}
}

// text returns the text of the first element matching sel.
func (f *flowTab) text(sel string) string {
	f.t.Helper()
	s, err := chromedp.Run(f.tab.Context(), chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		f.t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

// html returns the page as the browser holds it.
func (f *flowTab) html() string {
	f.t.Helper()
	s, err := chromedp.Run(f.tab.Context(), chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// check looks at the page now loaded, named name: it answered status,
// fits the viewport, and axe-core finds nothing wrong. It keeps a
// screenshot when asked to, and always of a page that fails.
func (f *flowTab) check(name string, status, want int) {
	f.t.Helper()
	shot := func() string {
		p, err := f.tab.Screenshot(fmt.Sprintf("flow-%s-%d-%s", f.lang, f.width, name))
		if err != nil {
			f.t.Fatal(err)
		}
		return p
	}
	var path string
	if f.shoot {
		path = shot()
	}
	if status != want {
		f.t.Fatalf("%s: status %d, want %d (screenshot %s)\n%s", name, status, want, shot(), f.html())
	}
	wide, err := f.tab.ScrollWidth()
	if err != nil {
		f.t.Fatal(err)
	}
	if wide > f.width {
		if path == "" {
			path = shot()
		}
		f.t.Errorf("%s at %d px is %d px wide (screenshot %s)", name, f.width, wide, path)
	}
	res, err := f.tab.Axe(f.axe)
	if err != nil {
		f.t.Fatal(err)
	}
	f.checks++
	for _, v := range res.Violations {
		if path == "" {
			path = shot()
		}
		f.t.Errorf("axe, %s at %d px (screenshot %s): %s", name, f.width, path, v)
	}
}

// photoFile writes a small JPEG photo for the form's file input.
func photoFile(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "IMG_20260310_142233.jpg")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChromiumReporterFlow walks a reporter through the site in every
// language at a phone's width, and in English and Arabic at a desktop's
// too, in chromium with JavaScript off: from the home page to the form,
// a report with a photo, the receipt, a check that shows the team's
// reply, and a follow-up. The team's side is the store's own API, as the
// staff channel would call it. Screenshots of English and Arabic are kept
// in browser.ArtifactDir. It needs chromium and axe-core.
func TestChromiumReporterFlow(t *testing.T) {
	t.Parallel() // its waits are on the browser
	b := browser.Start(t)
	axe := browser.AxeSource(t)
	e := newEnv(t, "[limits]\nsubmissions_per_minute = 100000\n")
	ts := httptest.NewServer(e.srv)
	t.Cleanup(ts.Close)
	photo := photoFile(t)

	for _, lang := range e.cfg.Languages {
		widths := []int{390}
		if lang == "en" || lang == "ar" {
			widths = append(widths, 1280)
		}
		for _, width := range widths {
			t.Run(fmt.Sprintf("%s-%d", lang, width), func(t *testing.T) {
				f := &flowTab{t: t, tab: b.NewTab(t), width: width, lang: lang, axe: axe, shoot: lang == "en" || lang == "ar"}
				reporterFlow(t, e, f, ts.URL, photo)
				t.Logf("%d pages checked with axe-core %s: no violations", f.checks, browser.AxeVersion)
			})
		}
	}
}

// dateOrder is a script that returns the parts of the date in the first
// reply's "from" line in the order the browser laid them out, left to
// right.
const dateOrder = `(() => {
	const el = document.querySelector(".reply .from");
	const text = el.firstChild;
	const at = text.data.indexOf("2026");
	const parts = [[at, 4], [at + 5, 2], [at + 8, 2]].map(([i, n]) => {
		const r = document.createRange();
		r.setStart(text, i);
		r.setEnd(text, i + n);
		return {s: text.data.slice(i, i + n), x: r.getBoundingClientRect().left};
	});
	return parts.sort((a, b) => a.x - b.x).map(p => p.s).join(" ");
})()`

func reporterFlow(t *testing.T, e *testEnv, f *flowTab, base, photo string) {
	lang := f.lang
	secret := fmt.Sprintf("The older boys take my phone at lunch (%s, %d px).", lang, f.width)
	status, err := f.tab.Load(base+"/"+lang+"/", f.width)
	if err != nil {
		t.Fatal(err)
	}
	f.check("1-home", status, 200)

	// The home page's button leads to the form.
	f.check("2-form", f.follow("following the report link", chromedp.Click(chromedp.CSS(`main a[href="/`+lang+`/report"]`))), 200)
	f.do("filling in the form",
		chromedp.SendKeys(chromedp.CSS("#message"), secret),
		chromedp.Click(chromedp.CSS(`input[name="danger"][value="no"]`)),
		chromedp.Click(chromedp.CSS(`input[name="role"][value="student"]`)),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{photo}),
	)
	f.check("3-receipt", f.follow("sending the report", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))), 200)
	code := strings.TrimSpace(f.text("#receipt"))
	receipt, err := vault.ParseReceipt(code)
	if err != nil {
		t.Fatalf("the receipt page shows %q: %v", code, err)
	}
	if strings.Contains(f.html(), secret) {
		t.Error("the receipt page shows the reporter's words")
	}

	// The report was stored, with the photo, cleaned and renamed.
	thread, err := e.store.Thread(receipt)
	if err != nil {
		t.Fatal(err)
	}
	var report *vault.Envelope
	items, _, err := e.store.Pending("", 100000, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Thread == thread.ID {
			report = openItem(t, it)
		}
	}
	if report == nil || report.Field("message") != secret || report.Field("language") != lang || report.Field("danger") != "no" {
		t.Fatalf("the sealed report is not what was sent: %+v", report)
	}
	if len(report.Attachments) != 1 || report.Attachments[0].Type != "image/jpeg" || report.Attachments[0].Name != "attachment-1.jpg" {
		t.Fatalf("the photo was not sealed as a cleaned JPEG: %+v", report.Attachments)
	}

	// The team replies.
	replyTo, err := age.ParseHybridRecipient(report.ReplyTo)
	if err != nil {
		t.Fatal(err)
	}
	answer := "Thank you for telling us. Come to the library at break: " + lang
	sealed, err := vault.Seal(&vault.Envelope{Kind: vault.KindReply, Day: "2026-03-11", Author: "Ms Rivera",
		Fields: []vault.Field{{Name: "message", Value: answer}}}, replyTo, member(t).Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddReply(thread.ID, uuid.NewString(), sealed); err != nil {
		t.Fatal(err)
	}

	// The reporter comes back with the code, typed as a child might.
	status, err = f.tab.Load(base+"/"+lang+"/check", f.width)
	if err != nil {
		t.Fatal(err)
	}
	f.check("4-check", status, 200)
	f.do("typing the code", chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(strings.ReplaceAll(code, "-", " "))))
	f.check("5-thread-reply", f.follow("checking the code", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))), 200)
	if got := f.text(".reply .text"); got != answer {
		t.Fatalf("the thread shows %q, want the team's reply", got)
	}
	if strings.Contains(f.html(), secret) {
		t.Error("the thread shows the reporter's words")
	}
	// The reply's date reads as written, year first, in every script.
	order, err := browser.Eval[string](f.tab, dateOrder)
	if err != nil || order != "2026 03 11" {
		t.Errorf("the reply's date is laid out as %q (%v), want 2026 03 11", order, err)
	}

	// A follow-up.
	more := "It happened again today by the bus stop (" + lang + ")."
	f.do("writing a follow-up", chromedp.SendKeys(chromedp.CSS("#message"), more))
	f.check("6-follow-up-sent", f.follow("sending the follow-up", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))), 200)
	if got := f.text(".notice"); got != locales[lang].T("add_sent") {
		t.Errorf("after the follow-up the page says %q", got)
	}
	items, _, err = e.store.Pending("", 100000, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, it := range items {
		if it.Thread == thread.ID && it.Kind == vault.KindFollowUp {
			found = openItem(t, it).Field("message") == more
		}
	}
	if !found {
		t.Error("the follow-up was not stored")
	}
}

// TestChromiumAxe checks every public page and state (the forms, the
// receipt, a thread with replies, every error, 404 and 405) in every
// language with axe-core's WCAG 2.2 AA rules, at a phone's width, in
// chromium with JavaScript off. TestChromiumReporterFlow checks the pages
// a reporter walks through at a desktop's width too.
func TestChromiumAxe(t *testing.T) {
	t.Parallel() // its waits are on the browser
	b := browser.Start(t)
	axe := browser.AxeSource(t)
	e := newEnv(t, "[limits]\nsubmissions_per_minute = 100000\n")
	snap := &snapshots{site: e.srv, pages: map[string]*httptest.ResponseRecorder{}}
	ts := httptest.NewServer(snap)
	t.Cleanup(ts.Close)
	for _, lang := range e.cfg.Languages {
		t.Run(lang, func(t *testing.T) {
			tab := b.NewTab(t)
			states := pageStates(t, e, snap, lang)
			names := slices.Sorted(maps.Keys(states))
			for _, name := range names {
				if _, err := tab.Load(ts.URL+states[name], 390); err != nil {
					t.Fatal(err)
				}
				res, err := tab.Axe(axe)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range res.Violations {
					shot, _ := tab.Screenshot("axe-" + lang + "-" + name)
					t.Errorf("%s %s (screenshot %s): %s", lang, name, shot, v)
				}
			}
			t.Logf("%d pages checked with axe-core %s", len(names), browser.AxeVersion)
		})
	}
}
