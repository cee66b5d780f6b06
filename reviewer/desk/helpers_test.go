package desk

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/internal/testkit"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

func TestMain(m *testing.M) { testkit.Main(m, nil) }

const passphrase = "correct horse battery staple"

// fakeStaff is a staff channel in memory: it serves its queue less what
// was acknowledged, and keeps the replies pushed to it. It checks no
// signatures (the intake's tests do); the end-to-end desk test in
// cmd/reviewer uses the real server.
type fakeStaff struct {
	mu      sync.Mutex
	queue   []staff.Item
	acked   map[string]bool
	replies []staff.ReplyRequest
	srv     *httptest.Server
}

func newFakeStaff(t testing.TB) *fakeStaff {
	fs := &fakeStaff{acked: map[string]bool{}}
	fs.srv = httptest.NewServer(fs)
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *fakeStaff) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case staff.ItemsPath:
		resp := staff.ItemsResponse{Items: []staff.Item{}}
		for _, it := range fs.queue {
			if !fs.acked[it.ID] {
				resp.Items = append(resp.Items, it)
			}
		}
		json.NewEncoder(w).Encode(resp)
	case staff.AcksPath:
		var req staff.AckRequest
		json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req)
		for _, id := range req.IDs {
			fs.acked[id] = true
		}
		json.NewEncoder(w).Encode(staff.AckResponse{Acked: len(req.IDs)})
	case staff.RepliesPath:
		var req staff.ReplyRequest
		json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&req)
		fs.replies = append(fs.replies, req)
		json.NewEncoder(w).Encode(staff.ReplyResponse{Item: staff.Item{ID: req.ID, Thread: req.Thread}})
	default:
		http.NotFound(w, r)
	}
}

// fixture is a desk over a real store and identity, with a fake server
// and a clock the test moves.
type fixture struct {
	t     testing.TB
	dir   string
	m     *vault.Member
	peer  *vault.Member
	team  *vault.Team
	reply *age.HybridIdentity
	srv   *fakeStaff
	d     *Desk
	h     http.Handler
	clock time.Time
	mu    sync.Mutex
	// threads counts the reports made: the nth is case HK-0000-000n.
	threads uint64

	cookie *http.Cookie
	csrf   string
}

const host = "127.0.0.1:8450"

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), clock: time.Now().UTC()}
	var err error
	if f.m, err = vault.GenerateMember("Dana Lead"); err != nil {
		t.Fatal(err)
	}
	if err := vault.SaveMember(filepath.Join(f.dir, "member.identity"), f.m, passphrase); err != nil {
		t.Fatal(err)
	}
	// A colleague, whose replies the fixture signs as his reviewer does.
	if f.peer, err = vault.GenerateMember("Sam Deputy"); err != nil {
		t.Fatal(err)
	}
	teamFile := filepath.Join(f.dir, "team-src.txt")
	if err := os.WriteFile(teamFile, []byte(f.m.TeamLine()+"\n"+f.peer.TeamLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f.team, _, err = cases.InstallTeam(f.dir, teamFile, "students"); err != nil {
		t.Fatal(err)
	}
	if f.reply, err = age.GenerateHybridIdentity(); err != nil {
		t.Fatal(err)
	}
	f.srv = newFakeStaff(t)
	if err := cases.SaveConfig(f.dir, cases.Config{Server: f.srv.srv.URL}); err != nil {
		t.Fatal(err)
	}
	f.d, err = New(Options{Store: f.dir, Identity: filepath.Join(f.dir, "member.identity"), SyncEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	f.d.now = f.now
	f.d.setHosts(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8450})
	f.h = f.d.handler()
	t.Cleanup(f.d.lock)
	return f
}

func (f *fixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.clock = f.clock.Add(d)
	f.mu.Unlock()
}

// daysAgo is the calendar day n days before the fixture's today. The
// store counts waiting days by the real clock, so reports are dated from it.
func (f *fixture) daysAgo(n int) string { return vault.Today(time.Now().AddDate(0, 0, -n)) }

// report queues a report on the fake server, with fields in pairs. The
// fixture's nth report is case HK-0000-000n (threadN).
func (f *fixture) report(fields ...string) string {
	f.t.Helper()
	f.threads++
	thread := threadN(f.threads)
	f.item(thread, vault.KindReport, f.daysAgo(8), nil, fields...)
	return thread
}

// threadN is a random thread id whose case number is n.
func threadN(n uint64) string {
	u := uuid.New()
	for i := 4; i >= 0; i-- {
		u[i] = byte(n)
		n >>= 8
	}
	return u.String()
}

func (f *fixture) item(thread string, kind vault.Kind, day string, files []vault.Attachment, fields ...string) {
	f.t.Helper()
	id := uuid.NewString()
	e := &vault.Envelope{Kind: kind, Day: day, Route: "students", Attachments: files}
	if kind == vault.KindReport {
		e.ReplyTo = f.reply.Recipient().String()
	}
	for i := 0; i+1 < len(fields); i += 2 {
		e.Fields = append(e.Fields, vault.Field{Name: fields[i], Value: fields[i+1]})
	}
	if kind == vault.KindReply {
		var err error
		if e, err = vault.SignItem(f.peer, &vault.Signed{Thread: thread, ID: id, Kind: kind, Lamport: 1, Day: day,
			Route: "students", Fields: e.Fields}); err != nil {
			f.t.Fatal(err)
		}
	}
	sealed, err := vault.Seal(e, f.team.Recipients()...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.srv.mu.Lock()
	f.srv.queue = append(f.srv.queue, staff.Item{ID: id, Thread: thread, Route: "students", Kind: kind, Day: day, Sealed: sealed})
	f.srv.mu.Unlock()
}

// open redeems the token, unlocks and syncs: a desk ready to use.
func (f *fixture) open() {
	f.t.Helper()
	f.login()
	if err := f.d.Unlock(passphrase); err != nil {
		f.t.Fatal(err)
	}
	f.sync()
}

func (f *fixture) sync() {
	f.t.Helper()
	f.d.syncer.start()
	f.d.syncer.wait()
	if v := f.d.syncer.view(f.now()); v.Error != "" {
		f.t.Fatalf("sync: %s", v.Error)
	}
}

// login redeems the one-time token and keeps the cookie and CSRF token.
func (f *fixture) login() {
	f.t.Helper()
	rec := f.do(httptest.NewRequest("GET", "/open?token="+encode(f.d.token), nil))
	if rec.Code != http.StatusSeeOther {
		f.t.Fatalf("open: %d %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookieName {
			f.cookie = c
		}
	}
	if f.cookie == nil {
		f.t.Fatal("no session cookie")
	}
	f.csrf = encode(f.d.sess.csrf)
}

// do sends a request to the desk as the browser would: the desk's Host.
func (f *fixture) do(r *http.Request) *httptest.ResponseRecorder {
	if r.Host == "example.com" {
		r.Host = host
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	return rec
}

func (f *fixture) get(path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	if f.cookie != nil {
		r.AddCookie(f.cookie)
	}
	return f.do(r)
}

// post sends a form from the desk's own page, with the CSRF token.
func (f *fixture) post(path string, form url.Values) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	if form.Get(csrfField) == "" {
		form.Set(csrfField, f.csrf)
	}
	return f.postRaw(path, form, map[string]string{"Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"})
}

func (f *fixture) postRaw(path string, form url.Values, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	if f.cookie != nil {
		r.AddCookie(f.cookie)
	}
	return f.do(r)
}

// follow returns the page a 303 leads to.
func (f *fixture) follow(rec *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	f.t.Helper()
	if rec.Code != http.StatusSeeOther {
		f.t.Fatalf("want a redirect, got %d:\n%s", rec.Code, rec.Body)
	}
	loc, _, _ := strings.Cut(rec.Header().Get("Location"), "#")
	return f.get(loc)
}

func wantBody(t testing.TB, rec *httptest.ResponseRecorder, code int, patterns ...string) {
	t.Helper()
	if rec.Code != code {
		t.Errorf("status %d, want %d", rec.Code, code)
	}
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(rec.Body.String()) {
			t.Errorf("body does not match %q:\n%s", p, rec.Body)
		}
	}
}

func notBody(t testing.TB, rec *httptest.ResponseRecorder, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if regexp.MustCompile(p).MatchString(rec.Body.String()) {
			t.Errorf("body matches %q:\n%s", p, rec.Body)
		}
	}
}
