package intake

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hearken-project/hearken/vault"
)

// checkHeaders asserts the header set every response must carry.
func checkHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, v := range securityHeaders {
		if k == "Cache-Control" {
			continue
		}
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") {
		t.Errorf("%s: CSP names a script source: %q", what, csp)
	}
	if h.Get("Set-Cookie") != "" {
		t.Errorf("%s: sets a cookie", what)
	}
}

var urlRE = regexp.MustCompile(`(?i)(?:https?:)?//[^\s"'<>]+`)

// checkPage asserts what every HTML page must and must not contain.
func checkPage(t *testing.T, e *testEnv, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	checkHeaders(t, what, rec.Header())
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", what, cc)
	}
	body := rec.Body.String()
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Errorf("%s: page has a script", what)
	}
	if strings.Contains(strings.ToLower(body), "style=") {
		t.Errorf("%s: page has an inline style, which the CSP blocks", what)
	}
	allowed := map[string]bool{e.cfg.QuickExitURL: true}
	for _, cs := range e.cfg.Emergency {
		for _, c := range cs {
			if c.URL != "" {
				allowed[c.URL] = true
			}
		}
	}
	for _, u := range urlRE.FindAllString(body, -1) {
		if !allowed[u] {
			t.Errorf("%s: page links to another host: %s", what, u)
		}
	}
	if !strings.Contains(body, `href="`+e.cfg.QuickExitURL+`" rel="noreferrer"`) {
		t.Errorf("%s: no quick-exit link", what)
	}
	if !strings.Contains(body, `href="tel:999"`) && !strings.Contains(body, `href="tel:112"`) {
		t.Errorf("%s: no emergency number", what)
	}
}

func TestEveryPage(t *testing.T) {
	e := newEnv(t, "")
	wantLang := map[string]string{"en": `lang="en" dir="ltr"`, "es": `lang="es"`, "fr": `lang="fr"`,
		"ar": `lang="ar" dir="rtl"`, "zh": `lang="zh-Hans"`}
	paths := []string{"/", "/report", "/check", "/safety", "/nowhere", "/xx/", "/xx/report"}
	for lang := range wantLang {
		for _, p := range []string{"/", "/report", "/check", "/safety"} {
			paths = append(paths, "/"+lang+p)
		}
	}
	for _, p := range paths {
		rec := e.get(p)
		checkPage(t, e, p, rec)
		want := http.StatusOK
		if strings.Contains(p, "nowhere") || strings.HasPrefix(p, "/xx") {
			want = http.StatusNotFound
		}
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", p, rec.Code, want)
		}
		if lang, _, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/"); ok && wantLang[lang] != "" {
			if !strings.Contains(rec.Body.String(), wantLang[lang]) {
				t.Errorf("GET %s: html tag lacks %s", p, wantLang[lang])
			}
		}
	}
	// An unknown language gets a 404 page in the default language.
	if body := e.get("/xx/").Body.String(); !strings.Contains(body, `lang="en"`) || !strings.Contains(body, locales["en"].T("err_404_title")) {
		t.Errorf("unknown language: 404 page not in English")
	}
	// Accept-Language is ignored.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Language", "fr")
	if body := e.do(req).Body.String(); !strings.Contains(body, `lang="en"`) {
		t.Errorf("Accept-Language changed the language")
	}
}

func TestPageSize(t *testing.T) {
	e := newEnv(t, "")
	for _, lang := range e.cfg.Languages {
		for _, p := range []string{"/", "/report", "/check", "/safety"} {
			if n := e.get("/" + lang + p).Body.Len(); n > 16<<10 {
				t.Errorf("/%s%s, its stylesheet inline, is %d bytes, over 16 KiB", lang, p, n)
			}
		}
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, "")
	rec := e.get("/healthz")
	checkHeaders(t, "healthz", rec.Header())
	if rec.Code != 200 || rec.Body.String() != "ok" {
		t.Fatalf("healthz = %d %q", rec.Code, rec.Body.String())
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, "")
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodPut, "/en/report", "GET, HEAD, POST"},
		{http.MethodDelete, "/", "GET, HEAD"},
		{http.MethodGet, "/en/check/add", "POST"},
		{http.MethodPost, "/en/safety", "GET, HEAD"},
	} {
		rec := e.do(httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d Allow %q, want 405 Allow %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.allow)
		}
		checkPage(t, e, tc.method+" "+tc.path, rec)
	}
}

// A path the site does not have is a 404 whatever the method: a 405 with
// Allow would claim the path exists.
func TestUnknownPathAnyMethod(t *testing.T) {
	e := newEnv(t, "")
	for _, path := range []string{"/nowhere", "/xx", "/xx/", "/xx/report", "/xx/check/add", "/en/nowhere"} {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodOptions} {
			rec := e.do(httptest.NewRequest(method, path, nil))
			if rec.Code != http.StatusNotFound || rec.Header().Get("Allow") != "" {
				t.Errorf("%s %s = %d Allow %q, want 404", method, path, rec.Code, rec.Header().Get("Allow"))
			}
		}
	}
}

// A failure is logged with the route's template, never the path a client
// sent, and a path no route has is logged as notfound.
func TestFailureLogNamesTheRoute(t *testing.T) {
	e := newEnv(t, "")
	e.store.Close() // every store operation now fails
	for path, want := range map[string]string{
		"/fr/report": `"route":"/{lang}/report","method":"POST","status":500`,
		"/report":    `"route":"/report","method":"POST","status":500`,
	} {
		rec := e.postForm(path, url.Values{"message": {"hello"}})
		if rec.Code != http.StatusInternalServerError {
			t.Fatalf("%s with a closed store = %d", path, rec.Code)
		}
		if !strings.Contains(e.logs.String(), want) {
			t.Errorf("%s: log lacks %s:\n%s", path, want, e.logs.String())
		}
	}
	if strings.Contains(e.logs.String(), "/fr/") {
		t.Errorf("log holds the request's path:\n%s", e.logs.String())
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	e := newEnv(t, "")
	req := httptest.NewRequest(http.MethodPost, "/en/report", strings.NewReader("message=hello"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := e.do(req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("cross-site POST = %d, want 403", rec.Code)
	}
	checkPage(t, e, "cross-site", rec)
	if n := e.items(t); n != 0 {
		t.Fatalf("cross-site POST stored %d items", n)
	}
}

func TestOnionLocation(t *testing.T) {
	onion := strings.Repeat("a", 56) + ".onion"
	e := newEnv(t, `onion_address = "`+onion+`"`)
	rec := e.get("/en/report")
	if got := rec.Header().Get("Onion-Location"); got != "http://"+onion+"/en/report" {
		t.Errorf("Onion-Location = %q", got)
	}
	req := httptest.NewRequest(http.MethodGet, "http://"+onion+"/en/report", nil)
	if got := e.do(req).Header().Get("Onion-Location"); got != "" {
		t.Errorf("Onion-Location on the onion itself = %q", got)
	}
	if got := newEnv(t, "").get("/").Header().Get("Onion-Location"); got != "" {
		t.Errorf("Onion-Location without an onion address = %q", got)
	}
}

func pngFile(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// openItem opens a queued item as the team member.
func openItem(t *testing.T, it vault.Item) *vault.Envelope {
	t.Helper()
	env, err := vault.Open(it.Sealed, member(t).Identity())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestReportCheckReplyFollowUp(t *testing.T) {
	e := newEnv(t, "")
	const secret = "my teacher shouts at me every day"
	rec := e.postMultipart(t, "/es/report", [][2]string{
		{"message", secret}, {"about", "me"}, {"danger", "no"}, {"role", "student"},
		{"when_where", "in class"}, {"contact", ""}, {"website", ""},
	}, []filePart{{"photo.png", "image/png", pngFile(t)}})
	if rec.Code != http.StatusOK {
		t.Fatalf("report = %d\n%s", rec.Code, rec.Body)
	}
	checkPage(t, e, "receipt", rec)
	body := rec.Body.String()
	code := receiptOf(t, body)
	if strings.Contains(body, secret) {
		t.Errorf("receipt page shows the report text")
	}
	if !strings.Contains(body, `name="receipt" value="`+code+`"`) {
		t.Errorf("receipt page has no form to try the code")
	}
	if strings.Contains(body, `class="urgent"`) {
		t.Errorf("danger=no put the emergency block first")
	}

	items, _, err := e.store.Pending("", 10, nil, "")
	if err != nil || len(items) != 1 {
		t.Fatalf("pending = %d, %v", len(items), err)
	}
	report := openItem(t, items[0])
	if report.Field("message") != secret || report.Field("role") != "student" || report.Field("language") != "es" {
		t.Errorf("sealed fields = %+v", report.Fields)
	}
	if report.Field("contact") != "" {
		t.Errorf("empty contact was sealed")
	}
	if len(report.Attachments) != 1 || report.Attachments[0].Type != "image/png" {
		t.Fatalf("attachments = %d", len(report.Attachments))
	}

	// Checking the code: no replies yet, not read, own words not shown.
	rec = e.postForm("/es/check", url.Values{"receipt": {strings.ToLower(code)}})
	checkPage(t, e, "thread", rec)
	body = rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, locales["es"].T("thread_not_read")) || strings.Contains(body, `class="reply"`) {
		t.Fatalf("check before reply = %d\n%s", rec.Code, body)
	}
	if strings.Contains(body, secret) {
		t.Errorf("check page shows the report text")
	}

	// The team replies, sealed to the thread's reply key and the team.
	replyTo, err := age.ParseHybridRecipient(report.ReplyTo)
	if err != nil {
		t.Fatal(err)
	}
	const answer = "Thank you for telling us. We will talk to you soon."
	sealed, err := vault.Seal(&vault.Envelope{Kind: vault.KindReply, Day: "2026-01-02", Author: "Ms Rivera",
		Fields: []vault.Field{{Name: "message", Value: answer}}}, replyTo, member(t).Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddReply(items[0].Thread, "6f1c1c52-6d1b-4d7e-9a44-0c4f3e8a9b10", sealed); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Ack(items[0].ID, "Sam Lead", []string{"Sam Lead"}); err != nil {
		t.Fatal(err)
	}
	rec = e.postForm("/es/check", url.Values{"receipt": {code}})
	body = rec.Body.String()
	if !strings.Contains(body, `<div class="reply">`) || !strings.Contains(body, answer) || !strings.Contains(body, "Ms Rivera") {
		t.Fatalf("reply not shown:\n%s", body)
	}
	if !strings.Contains(body, locales["es"].T("thread_read")) {
		t.Errorf("read note missing")
	}

	// A follow-up, with the receipt in a hidden field.
	const more = "it happened again today"
	rec = e.postMultipart(t, "/es/check/add", [][2]string{{"receipt", code}, {"message", more}}, nil)
	checkPage(t, e, "add", rec)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), locales["es"].T("add_sent")) {
		t.Fatalf("follow-up = %d\n%s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), more) {
		t.Errorf("follow-up page shows the reporter's words")
	}
	items, _, err = e.store.Pending("", 10, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, it := range items {
		if it.Kind == vault.KindFollowUp {
			found = openItem(t, it).Field("message") == more
		}
	}
	if !found {
		t.Errorf("follow-up not queued for the team")
	}
}

func TestDangerPutsContactsFirst(t *testing.T) {
	e := newEnv(t, "")
	rec := e.postForm("/report", url.Values{"message": {"he has a knife"}, "danger": {"yes"}})
	body := rec.Body.String()
	urgent, exit := strings.Index(body, `class="urgent"`), strings.Index(body, `class="exit"`)
	if rec.Code != 200 || urgent < 0 || urgent > exit || !strings.Contains(body[urgent:exit], "tel:999") {
		t.Fatalf("danger=yes: contacts are not first (%d)\n%s", rec.Code, body)
	}
	receiptOf(t, body)
}

func TestCheckAnswers(t *testing.T) {
	e := newEnv(t, "")
	code := receiptOf(t, e.postForm("/report", url.Values{"message": {"hello"}}).Body.String())

	r, err := vault.NewReceipt()
	if err != nil {
		t.Fatal(err)
	}
	unknown := r.Reveal()
	// Change one symbol so the check symbol fails.
	typo := []byte(code)
	if typo[0] == 'A' {
		typo[0] = 'B'
	} else {
		typo[0] = 'A'
	}

	bodies := map[string]string{}
	for name, c := range map[string]string{"unknown": unknown, "malformed": "hello", "empty": "", "typo": string(typo)} {
		rec := e.postForm("/en/check", url.Values{"receipt": {c}})
		checkPage(t, e, name, rec)
		bodies[name] = rec.Body.String()
	}
	if bodies["unknown"] != bodies["malformed"] || bodies["unknown"] != bodies["empty"] {
		t.Errorf("unknown, malformed and empty codes answer differently")
	}
	if !strings.Contains(bodies["unknown"], locales["en"].T("check_not_found")) {
		t.Errorf("unknown code: no not-found message")
	}
	if !strings.Contains(bodies["typo"], locales["en"].T("check_typo")) {
		t.Errorf("typo: no typo message:\n%s", bodies["typo"])
	}
	// A follow-up with an unknown code stores nothing.
	before := e.items(t)
	e.postForm("/en/check/add", url.Values{"receipt": {unknown}, "message": {"more"}})
	if e.items(t) != before {
		t.Errorf("follow-up to an unknown code was stored")
	}
}

func TestRouteChoice(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, "")
	extra := `
[[routes]]
name = "head"
team = "team.txt"
[routes.labels]
en = "The head of school, for a concern about someone in the safeguarding team"
`
	appendFile(t, p, extra)
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "")
	e.cfg = cfg
	e.srv = newServer(cfg, e.store, e.srv.log)
	if body := e.get("/en/report").Body.String(); !strings.Contains(body, `value="head"`) {
		t.Fatalf("two routes: no route choice on the form")
	}
	if single := newEnv(t, "").get("/en/report").Body.String(); strings.Contains(single, `name="route"`) {
		t.Errorf("one route: route choice shown")
	}
	rec := e.postForm("/en/report", url.Values{"message": {"about the DSL"}, "route": {"head"}})
	receiptOf(t, rec.Body.String())
	items, _, err := e.store.Pending("", 10, []string{"head"}, "")
	if err != nil || len(items) != 1 {
		t.Fatalf("head route items = %d, %v", len(items), err)
	}
	if rec := e.postForm("/en/report", url.Values{"message": {"x"}, "route": {"nobody"}}); rec.Code != 400 {
		t.Errorf("unknown route = %d, want 400", rec.Code)
	}
}

func TestLanguageRedirectAndHead(t *testing.T) {
	e := newEnv(t, "")
	rec := e.get("/fr")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/fr/" {
		t.Errorf("/fr = %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := e.do(httptest.NewRequest(http.MethodHead, "/en/", nil)); rec.Code != 200 {
		t.Errorf("HEAD /en/ = %d", rec.Code)
	}
}
