package intake

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A handler that panics gets the calm 500 page with every security
// header, and the log says a handler panicked without the panic's value
// (it could hold request data); a panic after the answer began adds
// nothing to it. http.ErrAbortHandler still aborts.
func TestPanicGuard(t *testing.T) {
	e := newEnv(t, "")
	const canary = "canary-report-words-4711"
	h := e.srv.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("late") {
			w.WriteHeader(http.StatusAccepted)
		}
		panic("failed on " + r.URL.RawQuery + " " + canary)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/en/report?"+canary, nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), htmlEscape(locales["en"].T("err_500"))) {
		t.Fatalf("got %d\n%s", rec.Code, rec.Body)
	}
	for k, v := range securityHeaders {
		if rec.Header().Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, rec.Header().Get(k), v)
		}
	}
	if strings.Contains(rec.Body.String(), canary) {
		t.Error("the error page shows the panic")
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/en/report?late", nil))
	if rec.Code != http.StatusAccepted || rec.Body.Len() != 0 {
		t.Errorf("a panic after the answer began: got %d %q", rec.Code, rec.Body)
	}

	logs := e.logs.String()
	if strings.Count(logs, "handler panicked") != 2 || strings.Contains(logs, canary) || strings.Contains(logs, "late") {
		t.Fatalf("log: %s", logs)
	}

	abort := e.srv.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	t.Fatal("ErrAbortHandler did not abort")
}

// A failed request's log line names the route and the method; a method
// of the client's own invention is logged as "other", so a client cannot
// write its words into the log.
func TestFailureLogMethod(t *testing.T) {
	e := newEnv(t, "")
	h := e.srv.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	for _, m := range []string{http.MethodPost, "CANARYMETHOD"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/en/report", nil))
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"method":"POST"`) || !strings.Contains(logs, `"method":"other"`) || strings.Contains(logs, "CANARY") {
		t.Fatalf("log: %s", logs)
	}
}
