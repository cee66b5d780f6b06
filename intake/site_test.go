package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hearken-project/hearken/vault"
)

var (
	updateSite = flag.Bool("update-site", false, "rewrite testdata/site.golden from the current site")
	dumpSite   = flag.String("dump-site", "", "write every response TestSiteBytes records into this `directory`, to diff two versions")
)

// TestSiteBytes pins every public page, byte for byte, in every state and
// every language: status, headers and body, with the receipt masked. It is
// what lets the site's plumbing (routing, middleware, rendering) be
// reworked with the proof that no reporter sees a difference.
//
// testdata/site.golden holds a SHA-256 per response. After a deliberate
// change to a page, run
//
//	go test ./intake -run TestSiteBytes -update-site
//
// and to see what changed, run with -dump-site DIR before and after the
// change and diff the two directories.
func TestSiteBytes(t *testing.T) {
	t.Parallel()
	var got []string // "hash name"
	section := ""
	record := func(name string, rec *httptest.ResponseRecorder, receipts ...string) {
		t.Helper()
		name = section + ": " + name
		text := siteResponse(rec, receipts)
		sum := sha256.Sum256([]byte(text))
		got = append(got, hex.EncodeToString(sum[:])+" "+name)
		if *dumpSite != "" {
			file := fmt.Sprintf("%03d %s.txt", len(got), strings.NewReplacer("/", "_", ":", "").Replace(name))
			if err := os.MkdirAll(*dumpSite, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(*dumpSite, file), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	section = "shared"
	siteShared(t, record)
	for _, prefix := range []string{"", "/en", "/es", "/fr", "/ar", "/zh"} {
		section = "default language"
		if prefix != "" {
			section = prefix[1:]
		}
		siteLanguage(t, prefix, record)
	}

	golden := filepath.Join("testdata", "site.golden")
	text := strings.Join(got, "\n") + "\n"
	if *updateSite {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-site to create it)", err)
	}
	wantLines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	for i := 0; i < max(len(got), len(wantLines)); i++ {
		g, w := "", ""
		if i < len(got) {
			g = got[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Errorf("response %d differs:\n got %s\nwant %s", i+1, g, w)
		}
	}
	if t.Failed() {
		t.Log("if the change is deliberate, run: go test ./intake -run TestSiteBytes -update-site")
	}
}

// siteResponse writes out a recorded response: status, sorted headers and
// body, with each receipt masked.
func siteResponse(rec *httptest.ResponseRecorder, receipts []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", rec.Code)
	h := rec.Header()
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	b.Write(rec.Body.Bytes())
	out := b.String()
	for _, r := range receipts {
		if r != "" {
			out = strings.ReplaceAll(out, string(breakableCode(r)), "RECEIPT-MASKED")
			out = strings.ReplaceAll(out, r, "RECEIPT-MASKED")
		}
	}
	return out
}

type recordFunc func(name string, rec *httptest.ResponseRecorder, receipts ...string)

func siteRequest(method, target, contentType string, body []byte) *http.Request {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

const formType = "application/x-www-form-urlencoded"

// siteShared records what does not depend on the language.
func siteShared(t *testing.T, record recordFunc) {
	e := newEnv(t, "")
	for _, c := range []struct{ method, path string }{
		{"GET", "/healthz"},
		{"HEAD", "/healthz"},
		{"POST", "/healthz"},
		{"GET", "/style.css"},
		{"PUT", "/style.css"},
		{"GET", "/en/style.css"},
		{"GET", "/nowhere"},
		{"GET", "/xx"},
		{"GET", "/xx/"},
		{"GET", "/xx/report"},
		{"POST", "/xx/report"},
		{"PUT", "/xx/report"},
		{"GET", "/en/report/"},
		{"GET", "/report/"},
		{"GET", "/en/../report"},
		{"GET", "//report"},
		{"GET", "/EN/report"},
		{"get", "/report"},
		{"BREW", "/"},
		{"OPTIONS", "/check"},
	} {
		record(c.method+" "+c.path, e.do(httptest.NewRequest(c.method, c.path, nil)))
	}
	// Accept-Language changes nothing.
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Language", "ar")
	record("GET / Accept-Language ar", e.do(req))

	onion := strings.Repeat("b", 56) + ".onion"
	o := newEnv(t, `onion_address = "`+onion+`"`)
	record("onion GET /fr/safety", o.get("/fr/safety"))
	record("onion GET /nowhere", o.get("/nowhere"))
	record("onion on the onion GET /fr/safety", o.do(httptest.NewRequest("GET", "http://"+onion+"/fr/safety", nil)))

	// Two routes: the form offers a choice, labelled in the page's language
	// or the default's.
	dir := t.TempDir()
	p := writeConfig(t, dir, "")
	appendFile(t, p, `
[[routes]]
name = "head"
team = "team.txt"
[routes.labels]
en = "The head of school"
fr = "Le directeur"
`)
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	two := newServer(cfg, e.store, e.srv.log)
	for _, path := range []string{"/report", "/en/report", "/fr/report", "/ar/report"} {
		rec := httptest.NewRecorder()
		two.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		record("two routes GET "+path, rec)
	}
}

// siteLanguage records every page and error of one language prefix ("" for
// the unprefixed paths).
func siteLanguage(t *testing.T, prefix string, record recordFunc) {
	e := newEnv(t, "[limits]\nsubmissions_per_minute = 100000\n")
	name := func(method, path, what string) string {
		s := method + " " + path
		if what != "" {
			s += " (" + what + ")"
		}
		return s
	}
	do := func(what string, req *http.Request, receipts ...string) *httptest.ResponseRecorder {
		rec := e.do(req)
		record(name(req.Method, req.URL.RequestURI(), what), rec, receipts...)
		return rec
	}
	form := func(what, path string, vals url.Values, receipts ...string) *httptest.ResponseRecorder {
		return do(what, siteRequest("POST", prefix+path, formType, []byte(vals.Encode())), receipts...)
	}
	multi := func(what, path string, fields [][2]string, files []filePart, receipts ...string) *httptest.ResponseRecorder {
		body, ct := multipartBody(t, fields, files)
		var buf bytes.Buffer
		buf.ReadFrom(body)
		return do(what, siteRequest("POST", prefix+path, ct, buf.Bytes()), receipts...)
	}
	receipt := func(rec *httptest.ResponseRecorder) string {
		t.Helper()
		return receiptOf(t, rec.Body.String())
	}

	// The pages.
	home := prefix + "/"
	if prefix != "" {
		do("", httptest.NewRequest("GET", prefix, nil))
		do("", httptest.NewRequest("HEAD", prefix, nil))
	}
	for _, p := range []string{home, prefix + "/report", prefix + "/check", prefix + "/safety"} {
		do("", httptest.NewRequest("GET", p, nil))
		do("", httptest.NewRequest("HEAD", p, nil))
	}

	// Reports: plain, danger first, with a photo.
	rec := e.postForm(prefix+"/report", url.Values{"message": {"hello"}})
	code := receipt(rec)
	record(name("POST", prefix+"/report", "receipt"), rec, code)
	items, _, err := e.store.Pending("", 10, nil, "")
	if err != nil || len(items) != 1 {
		t.Fatalf("pending = %d, %v", len(items), err)
	}
	report := items[0]

	rec = e.postForm(prefix+"/report", url.Values{"message": {"he has a knife"}, "danger": {"yes"}, "role": {"student"}})
	record(name("POST", prefix+"/report", "receipt, danger"), rec, receipt(rec))
	body, ct := multipartBody(t, [][2]string{{"message", "look"}, {"about", "me"}, {"danger", "unsure"},
		{"when_where", "in class"}, {"role", "staff"}, {"contact", "on"}, {"website", ""}},
		[]filePart{{"photo.png", "image/png", pngFile(t)}, {"", "", nil}})
	req := httptest.NewRequest("POST", prefix+"/report", body)
	req.Header.Set("Content-Type", ct)
	rec = e.do(req)
	record(name("POST", prefix+"/report", "receipt, multipart with a photo"), rec, receipt(rec))

	// Checking a code: the form's answers.
	form("thread, nothing yet", "/check", url.Values{"receipt": {code}}, code)
	form("thread, lower case code", "/check", url.Values{"receipt": {strings.ToLower(code)}}, code, strings.ToLower(code))
	typo := []byte(code)
	if typo[0] == 'A' {
		typo[0] = 'B'
	} else {
		typo[0] = 'A'
	}
	form("typo", "/check", url.Values{"receipt": {string(typo)}}, string(typo))
	unknown, err := vault.NewReceipt()
	if err != nil {
		t.Fatal(err)
	}
	form("unknown", "/check", url.Values{"receipt": {unknown.Reveal()}}, unknown.Reveal())
	form("malformed", "/check", url.Values{"receipt": {"hello"}})
	form("empty", "/check", url.Values{"receipt": {""}})

	// The team replies twice, once with a file, and reads the report.
	env, err := vault.Open(report.Sealed, member(t).Identity())
	if err != nil {
		t.Fatal(err)
	}
	replyTo, err := age.ParseHybridRecipient(env.ReplyTo)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []*vault.Envelope{
		{Kind: vault.KindReply, Day: "2026-01-02", Author: "Ms Rivera",
			Fields: []vault.Field{{Name: "message", Value: "Thank you for telling us.\nWe will talk to you soon <3"}}},
		{Kind: vault.KindReply, Day: "2026-01-03", Author: "Mr O'Neill",
			Fields:      []vault.Field{{Name: "message", Value: "Here is the plan we talked about."}},
			Attachments: []vault.Attachment{{Name: "plan.pdf", Type: "application/pdf", Data: []byte("%PDF-1.4 plan")}}},
	} {
		sealed, err := vault.Seal(r, replyTo, member(t).Recipient())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.AddReply(report.Thread, fmt.Sprintf("6f1c1c52-6d1b-4d7e-9a44-%012d", i), sealed); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.Ack(report.ID, "Sam Lead", []string{"Sam Lead"}); err != nil {
		t.Fatal(err)
	}
	form("thread, read, two replies", "/check", url.Values{"receipt": {code}}, code)

	// Follow-ups.
	form("follow-up sent", "/check/add", url.Values{"receipt": {code}, "message": {"it happened again"}}, code)
	multi("follow-up sent, multipart with a file", "/check/add", [][2]string{{"receipt", code}, {"message", "more"}},
		[]filePart{{"notes.txt", "text/plain", []byte("notes\n")}}, code)
	form("follow-up, typo", "/check/add", url.Values{"receipt": {string(typo)}, "message": {"more"}}, string(typo))
	form("follow-up, unknown", "/check/add", url.Values{"receipt": {unknown.Reveal()}, "message": {"more"}}, unknown.Reveal())
	form("follow-up, no message", "/check/add", url.Values{"receipt": {code}}, code)
	form("follow-up, unknown field", "/check/add", url.Values{"receipt": {code}, "message": {"m"}, "about": {"x"}}, code)

	// A thread whose route the config no longer has: closed to follow-ups.
	cfg := *e.cfg
	cfg.Routes = []route{{Name: "other", TeamFile: "team.txt", Team: e.cfg.Routes[0].Team}}
	closed := newServer(&cfg, e.store, e.srv.log)
	for _, c := range []struct{ what, path string }{{"thread, closed route", "/check"}, {"follow-up, closed route", "/check/add"}} {
		rec := httptest.NewRecorder()
		vals := url.Values{"receipt": {code}, "message": {"more"}}
		if c.path == "/check" {
			vals.Del("message")
		}
		closed.ServeHTTP(rec, siteRequest("POST", prefix+c.path, formType, []byte(vals.Encode())))
		record(name("POST", prefix+c.path, c.what), rec, code)
	}

	// 400s.
	form("400 unknown field", "/report", url.Values{"message": {"hi"}, "name": {"me"}})
	do("400 repeated field", siteRequest("POST", prefix+"/report", formType, []byte("message=hi&message=again")))
	do("400 bad text", siteRequest("POST", prefix+"/report", formType, []byte("message=%FF%FE")))
	form("400 no message", "/report", url.Values{"message": {" \r\n "}})
	form("400 long message", "/report", url.Values{"message": {strings.Repeat("é", maxMessageChars+1)}})
	form("400 bad choice", "/report", url.Values{"message": {"hi"}, "danger": {"maybe"}})
	form("400 unknown route", "/report", url.Values{"message": {"hi"}, "route": {"nobody"}})
	form("400 honeypot", "/report", url.Values{"message": {"hi"}, "website": {"http://spam.example"}})
	small := filePart{"a.txt", "text/plain", []byte("a\n")}
	multi("400 six files", "/report", [][2]string{{"message", "hi"}}, []filePart{small, small, small, small, small, small})
	multi("400 mismatch", "/report", [][2]string{{"message", "hi"}}, []filePart{{"photo.png", "image/png", []byte("%PDF-1.4 not a png")}})
	damaged := pngFile(t)
	damaged[len(damaged)-20] ^= 0xFF
	multi("400 damaged", "/report", [][2]string{{"message", "hi"}}, []filePart{{"photo.png", "image/png", damaged}})
	do("400 malformed multipart", siteRequest("POST", prefix+"/report", "multipart/form-data; boundary=XYZ",
		[]byte("--XYZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nhello\r\n--XY")))
	multi("415 check with multipart", "/check", [][2]string{{"receipt", "x"}}, []filePart{small})

	// 403: a cross-site form post.
	req = siteRequest("POST", prefix+"/report", formType, []byte("message=hello"))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	do("403 cross-site", req)
	req = siteRequest("POST", prefix+"/check/add", formType, []byte("message=hello"))
	req.Header.Set("Origin", "https://elsewhere.example")
	do("403 other origin", req)

	// An unsafe method from another site, on a form's path and on another.
	req = httptest.NewRequest("PUT", prefix+"/report", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	do("cross-site", req)
	req = httptest.NewRequest("DELETE", home, nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	do("cross-site", req)

	// 404.
	do("", httptest.NewRequest("GET", prefix+"/nowhere", nil))
	do("", httptest.NewRequest("POST", prefix+"/nowhere", nil))

	// 405, with Allow.
	for _, c := range []struct{ method, path string }{
		{"PUT", "/report"}, {"DELETE", home}, {"POST", home}, {"GET", "/check/add"}, {"HEAD", "/check/add"},
		{"POST", "/safety"}, {"OPTIONS", "/check"}, {"PATCH", "/check"},
	} {
		path := c.path
		if path != home {
			path = prefix + path
		}
		do("", httptest.NewRequest(c.method, path, nil))
	}
	if prefix != "" {
		do("", httptest.NewRequest("POST", prefix, nil))
	}

	// 413.
	do("413 form", siteRequest("POST", prefix+"/report", formType, []byte("message="+strings.Repeat("a", maxURLEncoded))))
	multi("413 file", "/report", [][2]string{{"message", "hi"}}, []filePart{{"big.txt", "text/plain", bytes.Repeat([]byte("a"), 11<<20)}})
	multi("413 field", "/report", [][2]string{{"message", "hi"}, {"about", strings.Repeat("a", 4*maxFieldChars+1)}}, nil)

	// 415.
	do("415 json", siteRequest("POST", prefix+"/report", "application/json", []byte(`{"message":"hi"}`)))
	do("415 no type", siteRequest("POST", prefix+"/check", "", []byte("receipt=x")))
	multi("415 file type", "/report", [][2]string{{"message", "hi"}}, []filePart{{"run.exe", "application/octet-stream", []byte("MZ\x90\x00\x03binary")}})

	// Refused forms shown again, with every field filled in.
	filled := [][2]string{{"message", "\nthey said <b>\"don't tell\"</b> & laughed"}, {"danger", "yes"}, {"about", "me & \"K\""},
		{"when_where", "bus\nlunch"}, {"role", "student"}, {"route", "safeguarding"}, {"contact", "me <me@example.org>"}, {"website", ""}}
	exe := []filePart{{"run.exe", "application/octet-stream", []byte("MZ\x90\x00\x03binary")}}
	multi("again, every field, wrong file type", "/report", filled, exe)
	multi("again, every field, a good file and a big one", "/report", filled[:3], []filePart{small, {"big.txt", "text/plain", bytes.Repeat([]byte("a"), 11<<20)}})
	multi("again, follow-up, wrong file type", "/check/add", [][2]string{{"receipt", code}, {"message", filled[0][1]}}, exe, code)
	form("again, follow-up, long message", "/check/add", url.Values{"receipt": {code}, "message": {strings.Repeat("ж", maxMessageChars+1)}}, code)
	multi("honeypot and a wrong file type", "/report", [][2]string{{"message", "spam"}, {"website", "x"}}, exe)

	// 503: over the rate, then no free slot.
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e.srv.rate = newRateLimiter(1, func() time.Time { return now })
	e.srv.rate.allow()
	form("503 rate", "/report", url.Values{"message": {"hi"}})
	form("503 rate follow-up", "/check/add", url.Values{"receipt": {code}, "message": {"hi"}}, code)
	e.srv.rate = newRateLimiter(100000, nil)
	e.srv.queueWait = time.Millisecond
	hold, ok := e.srv.slots.acquire(t.Context(), int64(e.cfg.Limits.MaxConcurrentSubmissions))
	if !ok {
		t.Fatal("could not take the slots")
	}
	form("503 busy", "/report", url.Values{"message": {"hi"}})
	multi("503 busy, every field", "/report", filled, nil)
	multi("503 busy, follow-up", "/check/add", [][2]string{{"receipt", code}, {"message", "more"}}, nil, code)
	hold()
}
