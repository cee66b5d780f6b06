package intake

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

var linkRE = regexp.MustCompile(`<link[^>]*href="([^"]+)"`)

// Nothing the site sends may stay in a shared device's cache: a stylesheet
// cached for a year was a lasting trace that someone visited. Every page
// and everything it loads answers no-store.
func TestNothingLeftInTheCache(t *testing.T) {
	e := newEnv(t, "")
	for _, lang := range e.cfg.Languages {
		for _, p := range []string{"/", "/report", "/check", "/safety", "/nowhere"} {
			rec := e.get("/" + lang + p)
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("/%s%s: Cache-Control %q", lang, p, cc)
			}
			for _, m := range linkRE.FindAllStringSubmatch(rec.Body.String(), -1) {
				sub := e.get(m[1])
				if cc := sub.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("/%s%s loads %s, which answers Cache-Control %q", lang, p, m[1], cc)
				}
			}
		}
	}
}

// The stylesheet is in the page, allowed by its hash in the CSP: a page is
// one request, and no style but the site's own can apply.
func TestStyleInline(t *testing.T) {
	e := newEnv(t, "")
	sum := sha256.Sum256(styleCSS)
	want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	for _, p := range []string{"/", "/en/report", "/ar/check", "/nowhere"} {
		rec := e.get(p)
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, want) || strings.Contains(csp, "'self'; img") {
			t.Errorf("%s: CSP %q does not allow the stylesheet by its hash alone", p, csp)
		}
		body := rec.Body.String()
		if !strings.Contains(body, "<style>"+string(styleCSS)+"</style>") {
			t.Errorf("%s: the stylesheet is not in the page as it is", p)
		}
		if strings.Count(body, "<style") != 1 || strings.Contains(body, "<link") {
			t.Errorf("%s: the page loads or carries another stylesheet", p)
		}
	}
	if rec := e.get("/style.css"); rec.Code != 404 {
		t.Errorf("/style.css: %d, want 404", rec.Code)
	}
}
