package loadtest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The fixture mimics the intake server's public-site contract.
const (
	fixtureCSS     = "body{font:16px/1.5 sans-serif;max-width:40em;margin:auto}\n"
	fixtureLanding = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hearken</title>` +
		`<style>` + fixtureCSS + `</style></head><body>` +
		`<a class="exit" href="https://www.example.org/weather">Leave this site</a>` +
		`<a href="/en/">English</a> <a href="/cy/">Cymraeg</a> <a href="/en/report">Tell us</a>` +
		`</body></html>`
	fixtureReport = `<!doctype html><html><head><style>` + fixtureCSS + `</style></head><body>` +
		`<form method="post" action="/en/report"><input type="hidden" name="route" value="school">` +
		`<textarea name="message"></textarea>` +
		`<input type="radio" name="danger" value="yes"><input type="radio" name="danger" value="no" checked>` +
		`<button>Send</button></form></body></html>`
	fixtureCheck = `<!doctype html><html><head><style>` + fixtureCSS + `</style></head><body>` +
		`<form method="post"><input name="receipt"><button>Check</button></form></body></html>`
)

type fixture struct {
	*httptest.Server
	reports atomic.Int64 // POSTs to report
	checks  atomic.Int64 // POSTs to check
	mu      sync.Mutex
	issued  map[string]bool
}

// newFixture starts the fixture; report, if non-nil, replaces the report
// POST handler.
func newFixture(t *testing.T, report http.HandlerFunc) *fixture {
	t.Helper()
	f := &fixture{issued: map[string]bool{}}
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, body)
		}
	}
	mux.HandleFunc("GET /static/site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, fixtureCSS)
	})
	mux.HandleFunc("GET /{$}", page(fixtureLanding))
	mux.HandleFunc("GET /{lang}/{$}", page(fixtureLanding))
	mux.HandleFunc("GET /{lang}/report", page(fixtureReport))
	mux.HandleFunc("GET /{lang}/check", page(fixtureCheck))
	mux.HandleFunc("GET /{lang}/safety", page(`<!doctype html><p>Staying safe</p>`))
	if report == nil {
		report = f.report
	}
	mux.HandleFunc("POST /{lang}/report", func(w http.ResponseWriter, r *http.Request) {
		f.reports.Add(1)
		report(w, r)
	})
	mux.HandleFunc("POST /{lang}/check", f.check)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func (f *fixture) report(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	// The form's hidden field must come along, as a browser would send it.
	if len(r.PostForm.Get("message")) < 500 || r.PostForm.Get("danger") != "no" || r.PostForm.Get("route") != "school" ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	b := make([]byte, 21)
	rand.Read(b)
	var code strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			code.WriteByte('-')
		}
		code.WriteByte(crockford[c%32])
	}
	f.mu.Lock()
	f.issued[code.String()] = true
	f.mu.Unlock()
	fmt.Fprintf(w, `<!doctype html><p>Keep this code:</p><p><strong id="receipt">%s</strong></p>`, code.String())
}

func (f *fixture) check(w http.ResponseWriter, r *http.Request) {
	f.checks.Add(1)
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	ok := f.issued[r.PostForm.Get("receipt")]
	f.mu.Unlock()
	if !ok {
		http.Error(w, "no such code", http.StatusNotFound)
		return
	}
	fmt.Fprint(w, `<!doctype html><p>No replies yet.</p><form method="post" action="/en/check/add"><textarea name="message"></textarea></form>`)
}
