package intake

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hearken-project/hearken/internal/attach"
	"github.com/hearken-project/hearken/internal/browser"
	"github.com/hearken-project/hearken/vault"
)

// What a browser's Back button does after a refused form, in chromium
// (Debian's chromium 156, JavaScript off), as TestChromiumRefusedFormKeepsWords
// checks it:
//
//   - The report form: Back loads /report again (every page is no-store,
//     so it is not kept in the back/forward cache), and chromium fills the
//     textareas and radio buttons back in, and even the file input; but
//     not the text inputs "about" and "contact", which have autocomplete
//     off, so a child lost those.
//   - A follow-up: the page before is the answer to the check form's
//     POST, which a no-store page cannot give back: Back shows
//     net::ERR_CACHE_MISS ("Confirm form resubmission"), and the follow-up
//     was lost whole.
//
// Firefox, and so Tor Browser, keeps no form state for a no-store page
// (nsDocShell discards the layout history state of a no-store response),
// so Back there lost everything. The site therefore answers a refused form
// with the form, filled in again. That answer is itself the answer to a
// POST, no-store: once the child has gone on to another page, Back does
// not bring their words up again (net::ERR_CACHE_MISS), for whoever uses
// the device next.
//
// If chromium changes what Back does, the test fails: say what it does
// now here and in SECURITY.md ("In the reporter's browser").

// typeInto types text into the field sel, and a line break as Enter: only
// textareas get them.
func typeInto(t *testing.T, tab *browser.Tab, sel, text string) {
	t.Helper()
	if err := tab.Type(sel, text); err != nil {
		t.Fatal(err)
	}
}

// value reads a form control's value as the browser holds it now, or
// fails if the page has no such control (a query would wait for it).
func value(t *testing.T, tab *browser.Tab, sel string) string {
	t.Helper()
	v, err := chromedp.Run(tab.Context(), chromedp.Evaluate[string](fmt.Sprintf(
		`(() => { const el = document.querySelector(%q); return el ? el.value : "<no such field>"; })()`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func checked(t *testing.T, tab *browser.Tab, sel string) bool {
	t.Helper()
	v, err := chromedp.Run(tab.Context(), chromedp.Evaluate[bool](fmt.Sprintf(
		`(() => { const el = document.querySelector(%q); return !!el && el.checked; })()`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func filesChosen(t *testing.T, tab *browser.Tab) int {
	t.Helper()
	n, err := chromedp.Run(tab.Context(), chromedp.Evaluate[int](
		`(() => { const el = document.getElementById("file"); return el ? el.files.length : -1; })()`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// send presses the form's Send button and returns the answer's status.
func send(t *testing.T, tab *browser.Tab) int {
	t.Helper()
	resp, err := chromedp.RunResponse(tab.Context(), chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	if err != nil || resp == nil {
		t.Fatalf("sending the form: %v", err)
	}
	return int(resp.Status)
}

// TestChromiumRefusedFormKeepsWords fills in the report form and a
// follow-up in chromium, with JavaScript off, sends each with a file the
// site refuses, and checks that the answer is the form with every word
// still in it, the file input empty; that sending it again without the
// file delivers every word; and logs what Back would have done. It needs
// chromium.
func TestChromiumRefusedFormKeepsWords(t *testing.T) {
	b := browser.Start(t)
	e := newEnv(t, "[limits]\nsubmissions_per_minute = 100000\n")
	ts := httptest.NewServer(e.srv)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	files := map[string]int{"big.txt": 413, "run.exe": 415}
	for name := range files {
		data := []byte("MZ\x90\x00\x03binary")
		if name == "big.txt" {
			data = []byte(strings.Repeat("a", attach.MaxSize+1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code := receiptOf(t, e.postForm("/en/report", map[string][]string{"message": {"first"}}).Body.String())

	for _, lang := range []string{"en", "ar"} {
		for file, status := range files {
			t.Run(lang+"-report-"+file, func(t *testing.T) {
				tab := b.NewTab(t)
				typed := map[string]string{
					"#message":    "They said they would hurt me if I tell (" + lang + " " + file + ").\nخائف & \"scared\"\n\nPlease help.",
					"#about":      "me & my friend <K>",
					"#when_where": "on the bus\nevery day",
					"#contact":    "تواصل معي",
				}
				fill := func() {
					if _, err := tab.Load(ts.URL+"/"+lang+"/report", 390); err != nil {
						t.Fatal(err)
					}
					for sel, text := range typed {
						typeInto(t, tab, sel, text)
					}
					if err := chromedp.Do(tab.Context(),
						chromedp.Click(chromedp.CSS(`input[name="danger"][value="unsure"]`)),
						chromedp.Click(chromedp.CSS(`input[name="role"][value="student"]`)),
						chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{filepath.Join(dir, file)}),
					); err != nil {
						t.Fatal(err)
					}
				}
				look := func(what string) (lost []string) {
					for sel, text := range typed {
						if got := value(t, tab, sel); got != text {
							lost = append(lost, fmt.Sprintf("%s %q", sel, got))
						}
					}
					for _, sel := range []string{`input[name="danger"][value="unsure"]`, `input[name="role"][value="student"]`} {
						if !checked(t, tab, sel) {
							lost = append(lost, sel+" not checked")
						}
					}
					return lost
				}

				// What Back does after a refused report: the form again,
				// with the text inputs that have autocomplete off empty.
				fill()
				if got := send(t, tab); got != status {
					t.Fatalf("the refused report answered %d, want %d", got, status)
				}
				if err := back(tab); err != nil {
					t.Errorf("chromium, Back after a refused report: %v", err)
				} else {
					lost := look("after Back")
					slices.Sort(lost)
					t.Logf("chromium, Back after a refused report: the form, with %d file(s) chosen; lost: %v", filesChosen(t, tab), lost)
					if want := []string{`#about ""`, `#contact ""`}; !slices.Equal(lost, want) {
						t.Errorf("chromium, Back after a refused report lost %v, want %v", lost, want)
					}
					if n := filesChosen(t, tab); n != 1 {
						t.Errorf("chromium, Back after a refused report: %d files chosen, want the 1 it kept", n)
					}
				}

				// What the site does.
				fill()
				if got := send(t, tab); got != status {
					t.Fatalf("the refused report answered %d, want %d", got, status)
				}
				if lost := look("the answer"); len(lost) > 0 {
					html, _ := tab.HTML()
					t.Fatalf("the answer to a refused report lost the child's words: %v\n%s", lost, html)
				}
				if n := filesChosen(t, tab); n != 0 {
					t.Errorf("the form shown again has %d files chosen", n)
				}
				// Gone on to another page and back, the words do not come
				// up again.
				leaveAndBack(t, tab, ts.URL+"/"+lang+"/safety", typed["#message"])
				fill()
				if got := send(t, tab); got != status {
					t.Fatalf("the refused report answered %d, want %d", got, status)
				}
				// Sent again without the file, every word arrives.
				if got := send(t, tab); got != 200 {
					t.Fatalf("sent again: %d", got)
				}
				html, err := tab.HTML()
				if err != nil {
					t.Fatal(err)
				}
				receipt, err := vault.ParseReceipt(receiptOf(t, html))
				if err != nil {
					t.Fatal(err)
				}
				env := reportOf(t, e, receipt)
				for field, sel := range map[string]string{"message": "#message", "about": "#about", "when_where": "#when_where", "contact": "#contact"} {
					if got := env.Field(field); got != typed[sel] {
						t.Errorf("the report's %s is %q, want %q", field, got, typed[sel])
					}
				}
				if env.Field("danger") != "unsure" || env.Field("role") != "student" || len(env.Attachments) != 0 {
					t.Errorf("the report: danger %q, role %q, %d files", env.Field("danger"), env.Field("role"), len(env.Attachments))
				}
			})
		}

		t.Run(lang+"-follow-up", func(t *testing.T) {
			tab := b.NewTab(t)
			more := "It happened again (" + lang + ").\nبعد المدرسة & \"again\""
			open := func() {
				if _, err := tab.Load(ts.URL+"/"+lang+"/check", 390); err != nil {
					t.Fatal(err)
				}
				typeInto(t, tab, "#code", code)
				if got := send(t, tab); got != 200 {
					t.Fatalf("checking the code: %d", got)
				}
				typeInto(t, tab, "#message", more)
				if err := chromedp.Do(tab.Context(), chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{filepath.Join(dir, "run.exe")})); err != nil {
					t.Fatal(err)
				}
				if got := send(t, tab); got != 415 {
					t.Fatalf("the refused follow-up answered %d", got)
				}
			}
			open()
			if err := back(tab); !errors.Is(err, errCacheMiss) {
				t.Errorf("chromium, Back after a refused follow-up: %v (message %q), want %v", err, value(t, tab, "#message"), errCacheMiss)
			}

			open()
			if got := value(t, tab, "#message"); got != more {
				html, _ := tab.HTML()
				t.Fatalf("the answer to a refused follow-up has the message %q, want %q\n%s", got, more, html)
			}
			leaveAndBack(t, tab, ts.URL+"/"+lang+"/safety", more)
			open()
			if got := value(t, tab, `input[name="receipt"]`); got != code {
				t.Errorf("the receipt field holds %q", got)
			}
			if got := send(t, tab); got != 200 {
				t.Fatalf("sent again: %d", got)
			}
			if html, _ := tab.HTML(); !strings.Contains(html, htmlEscape(locales[lang].T("add_sent"))) {
				t.Errorf("sent again, the page does not say it was added:\n%s", html)
			}
			found := false
			items, _, err := e.store.Pending("", 100000, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if it.Kind == vault.KindFollowUp && openItem(t, it).Field("message") == more {
					found = true
				}
			}
			if !found {
				t.Error("the follow-up sent again was not stored")
			}
		})
	}
}

// errCacheMiss is what chromium says when Back leads to the answer to a
// POST that it did not keep.
var errCacheMiss = errors.New("net::ERR_CACHE_MISS")

// back presses the browser's Back button and returns what went wrong, if
// anything did (a page the browser cannot show again), as errCacheMiss
// where it is that.
func back(tab *browser.Tab) error {
	err := chromedp.Do(tab.Context(), chromedp.NavigateBack())
	if err != nil && strings.Contains(err.Error(), errCacheMiss.Error()) {
		return fmt.Errorf("%w (%v)", errCacheMiss, err)
	}
	return err
}

// leaveAndBack goes from a form shown again to the page at url, as the
// child would when done, then presses Back, as whoever uses the device next
// might: the answer to the POST is not shown again, so the words do not
// come back.
func leaveAndBack(t *testing.T, tab *browser.Tab, url, words string) {
	t.Helper()
	if _, err := tab.Load(url, 390); err != nil {
		t.Fatal(err)
	}
	err := back(tab)
	html, _ := tab.HTML()
	if strings.Contains(html, htmlEscape(words)) || value(t, tab, "#message") == words {
		t.Errorf("Back, after the form shown again and another page, shows the child's words again:\n%s", html)
	}
	if !errors.Is(err, errCacheMiss) {
		t.Errorf("Back, after the form shown again and another page: %v, want %v", err, errCacheMiss)
	}
}

// reportOf opens the report of the thread receipt finds.
func reportOf(t *testing.T, e *testEnv, receipt vault.Receipt) *vault.Envelope {
	t.Helper()
	thread, err := e.store.Thread(receipt)
	if err != nil {
		t.Fatal(err)
	}
	items, _, err := e.store.Pending("", 100000, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Thread == thread.ID && it.Kind == vault.KindReport {
			return openItem(t, it)
		}
	}
	t.Fatal("the report was not stored")
	return nil
}
