package intake

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
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

// A rejected submission tells the child that the browser's Back button
// keeps what they wrote, instead of sending them to the start page.
func TestRejectedSubmissionPointsBack(t *testing.T) {
	e := newEnv(t, "")
	rec := e.postForm("/en/report", url.Values{"message": {"hello"}})
	code := receiptOf(t, rec.Body.String())
	exe := []filePart{{"run.exe", "application/octet-stream", []byte("MZ\x90\x00\x03binary")}}
	for _, lang := range e.cfg.Languages {
		p := "/" + lang
		for what, rec := range map[string]*httptest.ResponseRecorder{
			"report, wrong file type":    e.postMultipart(t, p+"/report", [][2]string{{"message", "hi"}}, exe),
			"report, no message":         e.postForm(p+"/report", url.Values{"message": {" "}}),
			"follow-up, wrong file type": e.postMultipart(t, p+"/check/add", [][2]string{{"receipt", code}, {"message", "hi"}}, exe),
		} {
			body := rec.Body.String()
			if !strings.Contains(body, htmlEscape(locales[lang].T("error_back_form"))) {
				t.Errorf("%s %s: does not say that Back keeps what was written", lang, what)
			}
			if strings.Contains(body, `class="button" href="/`+lang+`/"`) {
				t.Errorf("%s %s: the main button still leads to the start page", lang, what)
			}
		}
	}
	// Errors that are not about a form the child filled in keep the button.
	if body := e.get("/en/nowhere").Body.String(); !strings.Contains(body, `class="button" href="/en/"`) {
		t.Errorf("404 page lost its way back to the start")
	}
}
