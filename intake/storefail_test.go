package intake

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// When the store fails under a reporter who came back with a receipt (a
// disk gone, a file closed under the server), checking the code or adding
// to the thread answers a calm 500 page, in their language, that neither
// shows the receipt nor says whether the code was a real one; the log
// records what failed and never the receipt or the message.
func TestCheckStoreFailure(t *testing.T) {
	e := newEnv(t, "")
	code := receiptOf(t, e.postForm("/report", url.Values{"message": {"hello"}}).Body.String())
	e.store.Close()

	for _, tt := range []struct {
		path string
		vals url.Values
		log  string
	}{
		{"/es/check", url.Values{"receipt": {code}}, "failed to open replies"},
		{"/es/check/add", url.Values{"receipt": {code}, "message": {"canary follow-up words"}}, "failed to look up thread"},
	} {
		rec := e.postForm(tt.path, tt.vals)
		body := rec.Body.String()
		if rec.Code != http.StatusInternalServerError || !strings.Contains(body, `lang="es"`) {
			t.Fatalf("%s: got %d\n%s", tt.path, rec.Code, body)
		}
		if !strings.Contains(body, htmlEscape(locales["es"].T("err_500"))) {
			t.Errorf("%s: the page does not say what happened:\n%s", tt.path, body)
		}
		if strings.Contains(body, code) || strings.Contains(body, `id="receipt"`) || strings.Contains(body, "canary") {
			t.Errorf("%s: the error page shows the receipt or the message", tt.path)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q", tt.path, got)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, tt.log) {
			t.Errorf("%s: the log does not say %q: %s", tt.path, tt.log, logs)
		}
		if strings.Contains(logs, code) || strings.Contains(logs, strings.ReplaceAll(code, "-", "")) || strings.Contains(logs, "canary") {
			t.Errorf("%s: the log holds the receipt or the message: %s", tt.path, logs)
		}
	}
}
