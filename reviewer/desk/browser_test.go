package desk

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/browser"
	"github.com/hearken-project/hearken/reviewer/cases"
)

// TestGuidanceInBrowser shows a sextortion case's guidance in English and
// in Arabic in chromium, at 1280 and 390 px (screenshots kept as
// artifacts): the Arabic reads right to left inside the desk's English
// page, nothing is wider than a phone, and axe-core finds nothing wrong.
func TestGuidanceInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a browser test")
	}
	b := browser.Start(t)
	for _, tc := range []struct{ lang, dir, title string }{
		{"en", "ltr", "Online exploitation or sextortion: what to do now"},
		{"ar", "rtl", "الاستغلال عبر الإنترنت أو الابتزاز الجنسي: ما يجب فعله الآن"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			f := newFixture(t)
			f.d.opts.Lang = tc.lang
			f.report("message", "someone is threatening to share my photos unless I send more")
			if err := f.d.Unlock(passphrase); err != nil {
				t.Fatal(err)
			}
			f.sync()
			if _, err := f.d.open.st.Triage(1, cases.TriageChange{Category: "online exploitation or sextortion", Urgency: "immediate"}); err != nil {
				t.Fatal(err)
			}
			base := serveDesk(t, f.d)
			tab := b.NewTab(t, browser.JavaScript()) // the desk has no script; Eval needs one
			if code, err := tab.Load(base+"/open?token="+encode(f.d.token), 1280); err != nil || code != 200 {
				t.Fatalf("the start link: %d, %v", code, err)
			}
			for _, width := range []int{1280, 390} {
				if code, err := tab.Load(base+"/case/HK-0000-0001", width); err != nil || code != 200 {
					t.Fatalf("the case at %d px: %d, %v", width, code, err)
				}
				if _, err := tab.Screenshot("case-guidance-" + tc.lang + "-" + strconv.Itoa(width)); err != nil {
					t.Fatal(err)
				}
				if w, err := tab.ScrollWidth(); err != nil || w > width {
					t.Errorf("the case page is %d px wide at %d px (%v)", w, width, err)
				}
			}
			got, err := browser.Eval[[]string](tab, `(() => {
				const g = document.querySelector("section.guidance"), li = g.querySelector("li"), h1 = document.querySelector("main h1");
				const gs = getComputedStyle(g), lr = li.getBoundingClientRect(), gr = g.getBoundingClientRect();
				// The side the list is indented from, where its bullets are.
				const side = (lr.left - gr.left) > (gr.right - lr.right) ? "left" : "right";
				return [g.lang, gs.direction, getComputedStyle(h1).direction, g.querySelector("h2").textContent, side];
			})()`)
			if err != nil {
				t.Fatal(err)
			}
			side := map[string]string{"ltr": "left", "rtl": "right"}[tc.dir]
			want := []string{map[string]string{"en": "en", "ar": "ar"}[tc.lang], tc.dir, "ltr", tc.title, side}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("the guidance in the browser: %q, want %q", got, want)
			}
			t.Run("axe", func(t *testing.T) {
				res, err := tab.Axe(browser.AxeSource(t))
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range res.Violations {
					t.Errorf("axe: %s", v)
				}
			})
		})
	}
}

// serveDesk serves d on a loopback port until the test ends and returns
// its base URL.
func serveDesk(t *testing.T, d *Desk) string {
	t.Helper()
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ln, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base, _, _ := strings.Cut(strings.TrimSpace(line), "/open?")
	return base
}
