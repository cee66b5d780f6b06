package intake

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Before a child sends anything, the forms say which files are accepted
// and how big they may be, and the file picker offers only those.
func TestFormsListAcceptedFiles(t *testing.T) {
	e := newEnv(t, "")
	rec := e.postForm("/en/report", url.Values{"message": {"hello"}})
	code := receiptOf(t, rec.Body.String())
	for _, lang := range e.cfg.Languages {
		pages := map[string]string{
			"report form":    e.get("/" + lang + "/report").Body.String(),
			"follow-up form": e.postForm("/"+lang+"/check", url.Values{"receipt": {code}}).Body.String(),
		}
		for what, body := range pages {
			for _, want := range []string{"JPG", "PNG", "PDF", "TXT", " 10 ", " 5 "} {
				if !strings.Contains(body, want) {
					t.Errorf("%s %s does not say %q", lang, what, want)
				}
			}
			if !strings.Contains(body, `accept="`+fileAccept+`"`) {
				t.Errorf("%s %s: the file input does not limit the picker to accepted files", lang, what)
			}
		}
	}
}

// A report or a follow-up refused before the server read the child's
// message (here, over the rate) gets an error page, and that page does not
// promise that the Back button keeps what they wrote: with every page
// no-store, Firefox and Tor Browser keep nothing, and chromium keeps only
// some fields. It says what to do if the words are gone, and does not send
// the child to the start page.
func TestFormErrorPromisesNothing(t *testing.T) {
	e := newEnv(t, "")
	rec := e.postForm("/en/report", url.Values{"message": {"hello"}})
	code := receiptOf(t, rec.Body.String())
	now := time.Now()
	e.srv.rate = newRateLimiter(1, func() time.Time { return now })
	e.srv.rate.allow()
	for _, lang := range e.cfg.Languages {
		p := "/" + lang
		for what, rec := range map[string]*httptest.ResponseRecorder{
			"report":    e.postMultipart(t, p+"/report", [][2]string{{"message", "hi"}}, nil),
			"follow-up": e.postMultipart(t, p+"/check/add", [][2]string{{"receipt", code}, {"message", "hi"}}, nil),
		} {
			body := rec.Body.String()
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, htmlEscape(locales[lang].T("error_back_form"))) {
				t.Errorf("%s %s: %d, without the words about Back", lang, what, rec.Code)
			}
			if strings.Contains(body, `class="button" href="/`+lang+`/"`) {
				t.Errorf("%s %s: the main button leads to the start page", lang, what)
			}
		}
	}
	if strings.Contains(locales["en"].T("error_back_form"), "still there") {
		t.Error("the error page still promises that the words are still there")
	}
	// Errors that are not about a form the child filled in keep the button.
	if body := e.get("/en/nowhere").Body.String(); !strings.Contains(body, `class="button" href="/en/"`) {
		t.Errorf("404 page lost its way back to the start")
	}
}
