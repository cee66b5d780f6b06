package desk

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTokenOnce: the printed token opens one session, once; a wrong token
// opens nothing and does not use the right one up.
func TestTokenOnce(t *testing.T) {
	f := newFixture(t)
	token := encode(f.d.token)
	wrong := f.do(httptest.NewRequest("GET", "/open?token="+encode(make([]byte, 32)), nil))
	wantBody(t, wrong, http.StatusForbidden, "This link has been used")
	if len(wrong.Result().Cookies()) != 0 {
		t.Error("a wrong token set a cookie")
	}
	for _, bad := range []string{"", "%00", strings.Repeat("A", 4000)} {
		if rec := f.do(httptest.NewRequest("GET", "/open?token="+bad, nil)); rec.Code != http.StatusForbidden {
			t.Errorf("token %.10q: %d", bad, rec.Code)
		}
	}
	first := f.do(httptest.NewRequest("GET", "/open?token="+token, nil))
	if first.Code != http.StatusSeeOther || first.Header().Get("Location") != "/" {
		t.Fatalf("first use: %d to %q", first.Code, first.Header().Get("Location"))
	}
	cookies := first.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	c := cookies[0]
	raw := first.Header().Get("Set-Cookie")
	if c.Name != cookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" ||
		c.Domain != "" || c.MaxAge != 0 || !c.Expires.IsZero() || strings.Contains(raw, token) || len(c.Value) < 43 {
		t.Errorf("cookie %q", raw)
	}
	second := f.do(httptest.NewRequest("GET", "/open?token="+token, nil))
	wantBody(t, second, http.StatusForbidden, "This link has been used")
	if len(second.Result().Cookies()) != 0 {
		t.Error("a used token set a cookie")
	}
	// The cookie, not the token, is the session now.
	f.cookie = c
	wantBody(t, f.get("/"), http.StatusOK, "Open the desk", `type="password"`)
}

// TestSessionRequired: without the session cookie, or with another value,
// every page and action is refused; so is a foreign Host header, even with
// the cookie (DNS rebinding).
func TestSessionRequired(t *testing.T) {
	f := newFixture(t)
	f.login()
	good := f.cookie
	for _, c := range []*http.Cookie{nil, {Name: cookieName, Value: encode(make([]byte, 32))}, {Name: cookieName, Value: "x"}} {
		f.cookie = c
		for _, path := range []string{"/", "/case/HK-0000-0001", "/stats", "/sync", "/nowhere"} {
			rec := f.get(path)
			wantBody(t, rec, http.StatusForbidden, "reviewer serve")
		}
		if rec := f.post("/lock", nil); rec.Code != http.StatusForbidden {
			t.Errorf("lock without session: %d", rec.Code)
		}
	}
	f.cookie = good
	for _, h := range []string{"evil.example", "evil.example:8450", "127.0.0.1:9999", "127.0.0.2:8450", "", "[::1]:8450"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = h
		if h == "" {
			r.Host = " "
		}
		r.AddCookie(good)
		rec := f.do(r)
		if rec.Code != http.StatusMisdirectedRequest || strings.Contains(rec.Body.String(), "Inbox") {
			t.Errorf("Host %q: %d", h, rec.Code)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "LOCALHOST:8450"
	r.AddCookie(good)
	if rec := f.do(r); rec.Code != http.StatusOK {
		t.Errorf("localhost: %d", rec.Code)
	}
	// A token sent to a foreign Host is not used up.
	r = httptest.NewRequest("GET", "/open?token="+encode(f.d.token), nil)
	r.Host = "evil.example:8450"
	if rec := f.do(r); rec.Code != http.StatusMisdirectedRequest {
		t.Errorf("token on a foreign host: %d", rec.Code)
	}
}

// TestCSRFAndOrigin: a POST needs the session's CSRF token and must come
// from the desk's own pages; one that fails changes nothing.
func TestCSRFAndOrigin(t *testing.T) {
	f := newFixture(t)
	f.report("message", "someone took my phone")
	f.open()
	same := map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}
	triage := func(csrf string, headers map[string]string) int {
		form := url.Values{"status": {"closed"}, csrfField: {csrf}}
		return f.postRaw("/case/HK-0000-0001/triage", form, headers).Code
	}
	for name, c := range map[string]struct {
		csrf    string
		headers map[string]string
	}{
		"no token":          {"", same},
		"wrong token":       {encode(make([]byte, 32)), same},
		"bad token":         {"!!", same},
		"another origin":    {f.csrf, map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}},
		"another port":      {f.csrf, map[string]string{"Origin": "http://127.0.0.1:9999", "Sec-Fetch-Site": "same-site"}},
		"cross-site":        {f.csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"same-site":         {f.csrf, map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-site"}},
		"null, cross-site":  {f.csrf, map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"}},
		"null, no fetch":    {f.csrf, map[string]string{"Origin": "null"}},
		"no origin at all":  {f.csrf, map[string]string{}},
		"origin, wrong one": {f.csrf, map[string]string{"Origin": "http://localhost:8450"}},
	} {
		if code := triage(c.csrf, c.headers); code != http.StatusForbidden {
			t.Errorf("%s: %d", name, code)
		}
	}
	if cv, _ := f.d.open.st.Show(1); cv.Status != "new" {
		t.Fatalf("a refused POST changed the case: %s", cv.Status)
	}
	// A multipart body is refused before it is read.
	r := httptest.NewRequest("POST", "/lock", strings.NewReader("--x--"))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	for k, v := range same {
		r.Header.Set(k, v)
	}
	r.AddCookie(f.cookie)
	if rec := f.do(r); rec.Code != http.StatusUnsupportedMediaType || f.d.locked() {
		t.Errorf("multipart: %d", rec.Code)
	}
	// Browsers that sent Origin: null because of no-referrer, and older
	// ones without Sec-Fetch-Site, are accepted.
	for _, h := range []map[string]string{
		{"Origin": "null", "Sec-Fetch-Site": "same-origin"},
		{"Sec-Fetch-Site": "same-origin"},
		{"Origin": "http://" + host},
	} {
		if code := triage(f.csrf, h); code != http.StatusSeeOther {
			t.Errorf("%v: %d", h, code)
		}
	}
	// Too big a body.
	big := url.Values{"note": {strings.Repeat("x", maxForm)}, csrfField: {f.csrf}}
	if rec := f.postRaw("/case/HK-0000-0001/note", big, same); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d", rec.Code)
	}
}

// TestHeaders: every response forbids framing, scripts, other hosts,
// caching and referrers, pages and refusals alike.
func TestHeaders(t *testing.T) {
	f := newFixture(t)
	f.report("message", "hello")
	var recs = map[string]*httptest.ResponseRecorder{}
	recs["no session"] = f.get("/")
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "evil.example"
	recs["foreign host"] = f.do(r)
	recs["token used"] = f.do(httptest.NewRequest("GET", "/open?token=x", nil))
	f.open()
	recs["css"] = f.get("/static/desk.css")
	recs["inbox"] = f.get("/")
	recs["case"] = f.get("/case/HK-0000-0001")
	recs["404"] = f.get("/nowhere")
	recs["405"] = f.do(httptest.NewRequest("PUT", "/", nil))
	recs["refused post"] = f.postRaw("/lock", url.Values{}, nil)
	for name, rec := range recs {
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", name, h)
		}
	}
	if !strings.HasPrefix(recs["css"].Header().Get("Content-Type"), "text/css") {
		t.Error("stylesheet type")
	}
	// No page has a script or anything from another host.
	for _, name := range []string{"inbox", "case", "no session"} {
		body := recs[name].Body.String()
		if strings.Contains(body, "<script") || regexp.MustCompile(`(src|href|action)="(https?:)?//`).MatchString(body) {
			t.Errorf("%s has a script or a link to another host", name)
		}
	}
}

// TestIdleLock: after the idle period without a request from the lead,
// the desk forgets the member, the store and its caches, and asks for the
// passphrase; automatic reloads do not count as use; a form sent while
// locked is not acted on.
func TestIdleLock(t *testing.T) {
	f := newFixture(t)
	f.report("message", "a locker was broken into")
	f.open()
	wantBody(t, f.get("/?q=locker"), http.StatusOK, "HK-0000-0001")
	cache := f.d.open.cache
	f.advance(14 * time.Minute)
	wantBody(t, f.get("/"), http.StatusOK, "HK-0000-0001") // use: the period starts again
	f.advance(10 * time.Minute)
	wantBody(t, f.get("/?auto=1"), http.StatusOK, "HK-0000-0001") // not use
	f.advance(5 * time.Minute)
	f.d.lockIfIdle() // the ticker, with no request at all
	if !f.d.locked() {
		t.Fatal("still unlocked after 15 minutes without use")
	}
	if f.d.open != nil || cache.list != nil || cache.text != nil {
		t.Error("locking kept decrypted state")
	}
	page := f.get("/")
	wantBody(t, page, http.StatusOK, "The desk is locked", `type="password"`, `name="next" value="/"`)
	notBody(t, page, "HK-0000-0001", "locker")
	// A form sent while locked is not acted on, and says so.
	rec := f.post("/case/HK-0000-0001/triage", url.Values{"status": {"closed"}})
	wantBody(t, rec, http.StatusOK, "The desk is locked", "was not saved", `name="next" value="/case/HK-0000-0001"`)
	// A wrong passphrase, then the right one, which leads back.
	wrong := "Tr0ub4dor&3-canary"
	rec = f.post("/unlock", url.Values{"passphrase": {wrong}, "next": {"/case/HK-0000-0001"}})
	wantBody(t, rec, http.StatusUnauthorized, "does not open your identity")
	if strings.Contains(rec.Body.String(), wrong) || !f.d.locked() {
		t.Error("a wrong passphrase was echoed, or unlocked")
	}
	rec = f.post("/unlock", url.Values{"passphrase": {passphrase}, "next": {"//evil.example/"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" || f.d.locked() {
		t.Fatalf("unlock: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if cv, _ := f.d.open.st.Show(1); cv.Status != "new" {
		t.Errorf("the form sent while locked was acted on: %s", cv.Status)
	}
	// The lead can lock at once.
	if rec := f.post("/lock", nil); rec.Code != http.StatusSeeOther || !f.d.locked() {
		t.Errorf("lock now: %d", rec.Code)
	}
}

// TestListenLoopbackOnly refuses any address but loopback.
func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.168.1.10:0", "example.com:0", "[::]:0", "8450"} {
		if ln, err := Listen(addr); err == nil {
			ln.Close()
			t.Errorf("%s accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		ln, err := Listen(addr)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		ln.Close()
	}
}

// TestServePrintsOneLine starts a real server: one line on standard
// output, the address with the token, which opens the desk over HTTP.
func TestServePrintsOneLine(t *testing.T) {
	f := newFixture(t)
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.d.Serve(ctx, ln, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/open\?token=[A-Za-z0-9_-]{43}\n$`).MatchString(line) {
		t.Fatalf("printed %q", line)
	}
	jar := &cookieJar{}
	client := &http.Client{Jar: jar}
	resp, err := client.Get(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" || resp.Request.URL.RawQuery != "" {
		t.Errorf("open: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Error(err)
	}
}

type cookieJar struct {
	mu sync.Mutex
	c  []*http.Cookie
}

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	j.c = append(j.c, cs...)
	j.mu.Unlock()
}

func (j *cookieJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.c
}
