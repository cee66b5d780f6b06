package browser

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// axe-core runs in a tab whose page scripts are off, on a page whose
// Content-Security-Policy allows no script, and finds what is wrong.
func TestAxeFindsViolations(t *testing.T) {
	src := AxeSource(t)
	pages := map[string]string{
		"/good": `<!doctype html><html lang="en"><head><title>Good</title></head><body><main><h1>Hello</h1>` +
			`<form><label for="m">Message</label><textarea id="m"></textarea></form></main></body></html>`,
		"/bad": `<!doctype html><html><head><title>Bad</title></head><body><main>` +
			`<p style="color:#aaa;background:#fff">faint text</p><input type="text"></main>` +
			`<script>document.body.dataset.ran = "yes"</script></body></html>`,
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Write([]byte(pages[r.URL.Path]))
	}))
	defer ts.Close()
	tab := Start(t).NewTab(t)

	if _, err := tab.Load(ts.URL+"/good", 390); err != nil {
		t.Fatal(err)
	}
	res, err := tab.Axe(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) != 0 || res.Passes == 0 {
		t.Errorf("a good page: %d rules passed, violations %v", res.Passes, res.Violations)
	}

	if _, err := tab.Load(ts.URL+"/bad", 390); err != nil {
		t.Fatal(err)
	}
	res, err = tab.Axe(src)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, v := range res.Violations {
		found[v.ID] = true
	}
	for _, id := range []string{"html-has-lang", "color-contrast", "label"} {
		if !found[id] {
			t.Errorf("axe did not find %s: %v", id, res.Violations)
		}
	}
	// The page's own script stayed off.
	ran, err := Eval[string](tab, `document.body.dataset.ran || "no"`)
	if err != nil || ran != "no" {
		t.Errorf("the page's script ran: %q %v", ran, err)
	}
	if s := res.Violations[0].String(); !strings.Contains(s, res.Violations[0].ID) {
		t.Errorf("String() = %q", s)
	}
}
