package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/testkit"
)

// hookServer is a real HTTP listener standing in for a chat webhook.
type hookServer struct {
	*httptest.Server
	reqs   chan hookRequest
	status atomic.Int32
	block  chan struct{} // if set, each request waits for it
}

type hookRequest struct {
	path   string
	header http.Header
	body   []byte
}

func startHook(t *testing.T, tls bool) *hookServer {
	h := &hookServer{reqs: make(chan hookRequest, 100)}
	h.status.Store(http.StatusNoContent)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.reqs <- hookRequest{r.URL.Path, r.Header.Clone(), body}
		if h.block != nil {
			<-h.block
		}
		w.Header().Set("X-Echo", "CANARY-HOOK-HEADER "+string(body))
		w.WriteHeader(int(h.status.Load()))
		fmt.Fprintf(w, "CANARY-HOOK-REPLY %s", body)
	})
	if tls {
		h.Server = httptest.NewTLSServer(handler)
	} else {
		h.Server = httptest.NewServer(handler)
	}
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) next(t *testing.T) hookRequest {
	t.Helper()
	select {
	case r := <-h.reqs:
		return r
	case <-time.After(guard):
		t.Fatal("no webhook request")
		return hookRequest{}
	}
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			t.Parallel()
			hook := startHook(t, useTLS)
			cfg := Config{Default: Recipients{Webhook: hook.URL + "/hooks/abc"}, School: school}
			if useTLS {
				cfg.RootCAs = hook.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			}
			h := newHarness(t, cfg, nil)
			bodies := map[kind][]byte{}

			h.d.Danger("main")
			h.waitIdle("webhook", func(s snapshot) bool { return s.sent[kindDanger] == 1 })
			r := hook.next(t)
			bodies[kindDanger] = r.body
			if r.path != "/hooks/abc" || r.header.Get("Content-Type") != "application/json" || r.header.Get("User-Agent") != "Hearken" {
				t.Errorf("request %s %v", r.path, r.header)
			}

			h.d.Activity("main")
			s := h.waitIdle("webhook", func(s snapshot) bool { return s.activity })
			h.clock.set(s.next)
			h.waitIdle("webhook", func(s snapshot) bool { return s.sent[kindActivity] == 1 })
			bodies[kindActivity] = hook.next(t).body

			if err := h.d.SendTest(context.Background()); err != nil {
				t.Fatal(err)
			}
			bodies[kindTest] = hook.next(t).body

			tx := newTexts(school)
			for k, b := range bodies {
				var v map[string]string
				if err := json.Unmarshal(b, &v); err != nil {
					t.Fatalf("%v: not JSON: %q", k, b)
				}
				if len(v) != 1 || v["text"] != tx[k] {
					t.Errorf("%v: %q, want only the text %q", k, b, tx[k])
				}
				if want := webhookBody(&tx, k); string(b) != string(want) {
					t.Errorf("%v: %q, want the fixed bytes %q", k, b, want)
				}
				if len(b) != len(bodies[kindDanger]) {
					t.Errorf("%v body is %d bytes, the danger one %d", k, len(b), len(bodies[kindDanger]))
				}
			}
		})
	}
}

func TestWebhookFailureIsRetried(t *testing.T) {
	t.Parallel()
	hook := startHook(t, false)
	hook.status.Store(http.StatusInternalServerError)
	h := newHarness(t, Config{Default: Recipients{Webhook: hook.URL}, School: school}, nil)
	h.d.Danger("main")
	s := h.waitIdle("webhook", func(s snapshot) bool { return s.attempts == 1 })
	hook.next(t)
	if l := h.logs.lines(t); len(l) != 1 || l[0]["class"] != classWebhookCode || l[0]["code"] != 500.0 {
		t.Fatalf("log %v", l)
	}
	hook.status.Store(http.StatusOK)
	h.clock.set(s.next)
	h.waitIdle("webhook", func(s snapshot) bool { return s.sent[kindDanger] == 1 })
	if r := hook.next(t); !strings.Contains(string(r.body), dangerText) {
		t.Fatalf("%q", r.body)
	}
}

// TestRoutesAlertOnlyTheirRecipients: the head-of-school route has its own
// recipients, who alone hear of it; two routes with the same recipients
// share one batched alert.
func TestRoutesAlertOnlyTheirRecipients(t *testing.T) {
	t.Parallel()
	srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
	const governors = "governors@school.example"
	cfg := mailConfig("smtp://" + srv.Addr())
	cfg.Routes = map[string]Recipients{
		"head":  {To: []string{governors}},
		"staff": {To: []string{dsl}},
	}
	h := newHarness(t, cfg, nil)
	const headT = `mail for route "head"`
	const shared = `mail for the default recipients, route "staff"`

	h.d.Danger("head")
	h.waitIdle(headT, func(s snapshot) bool { return s.sent[kindDanger] == 1 })
	if m := srv.Next(); !slices.Equal(m.To, []string{governors}) || header(m.Raw, "To") != governors {
		t.Fatalf("head's danger alert went to %v", m.To)
	}

	h.d.Activity("main")
	h.d.Activity("staff")
	h.d.Activity("a route with no recipients of its own")
	s := h.waitIdle(shared, func(s snapshot) bool { return s.activity })
	h.clock.set(s.next)
	h.waitIdle(shared, func(s snapshot) bool { return s.sent[kindActivity] == 1 })
	if m := srv.Next(); !slices.Equal(m.To, []string{dsl}) {
		t.Fatalf("shared alert went to %v", m.To)
	}
	if ev := srv.Sync(); testkit.Count(ev, "DATA") != 2 {
		t.Fatalf("want the head's danger alert and one shared activity alert: %v", ev)
	}
	if err := h.d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.logs.String() != "" {
		t.Fatalf("the head route's target had something waiting: %s", h.logs)
	}
}

// TestNothingLeaks sends alerts about a route with a canary name, with
// canary addresses and password, to servers that answer with canaries, and
// searches every mail, webhook body and log line.
func TestNothingLeaks(t *testing.T) {
	t.Parallel()
	const (
		route    = "CANARY-ROUTE-5d2e"
		password = "CANARY-PASSWORD-a41c"
		to       = "canary-to-e91b@school.example"
		sender   = "canary-from-3f07@school.example"
		reply    = "CANARY-REPLY-77c1"
	)
	ca := testkit.NewCA(t)
	srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{STARTTLS: ca.Issue("mail.hearken.test"), AuthUser: "hearken", AuthPass: password})
	hook := startHook(t, false)
	cfg := Config{
		SMTP: "smtp://mail.hearken.test:587", Username: "hearken", Password: NewPassword(password),
		From: sender, School: school, RootCAs: ca.Pool,
		Routes: map[string]Recipients{route: {To: []string{to}, Webhook: hook.URL + "/" + route}},
	}
	dial := mapDial(map[string]string{"mail.hearken.test:587": srv.Addr()})
	h := newHarness(t, cfg, dial)
	var out []string
	h.d.Danger(route)
	h.d.Activity(route)
	for _, name := range []string{"mail", "webhook"} {
		h.waitIdle(name, func(s snapshot) bool { return s.sent[kindDanger] == 1 && s.activity })
	}
	out = append(out, string(srv.Next().Raw), string(hook.next(t).body))
	// Take both targets past their ticks.
	h.clock.set(epoch.Add(2 * time.Hour))
	for _, name := range []string{"mail", "webhook"} {
		h.waitIdle(name, func(s snapshot) bool { return s.sent[kindActivity] == 1 })
	}
	out = append(out, string(srv.Next().Raw), string(hook.next(t).body))
	for _, o := range out {
		if strings.Contains(o, route) || strings.Contains(o, password) || strings.Contains(o, reply) {
			t.Errorf("a canary in an alert:\n%s", o)
		}
	}

	// A server that rejects with a canary, and a webhook that fails with one.
	bad := testkit.StartSMTPD(t, testkit.SMTPDOptions{STARTTLS: ca.Issue("mail.hearken.test"), AuthUser: "hearken", AuthPass: password,
		RejectRcpt: "550 5.1.1 " + reply + " " + to + " unknown"})
	hook.status.Store(http.StatusForbidden)
	cfg.Routes[route] = Recipients{To: []string{to}, Webhook: hook.URL + "/" + route}
	h2 := newHarness(t, cfg, mapDial(map[string]string{"mail.hearken.test:587": bad.Addr()}))
	err := h2.d.SendTest(context.Background())
	if err == nil || !strings.Contains(err.Error(), "smtp_rejected (550)") || !strings.Contains(err.Error(), "webhook_status (403)") {
		t.Fatalf("SendTest = %v", err)
	}
	hook.next(t)
	h2.d.Danger(route)
	for _, name := range []string{"mail", "webhook"} {
		h2.waitIdle(name, func(s snapshot) bool { return s.attempts == 1 })
	}
	hook.next(t)
	if err := h2.d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	logs := h.logs.String() + h2.logs.String()
	if !strings.Contains(logs, classSMTPRejected) || !strings.Contains(logs, classWebhookCode) {
		t.Fatalf("expected the failures in the log:\n%s", logs)
	}
	for _, c := range []string{route, password, to, sender, reply, "CANARY-HOOK", "hearken@", "mail.hearken.test", "127.0.0.1"} {
		if strings.Contains(logs, c) {
			t.Errorf("%q in the log:\n%s", c, logs)
		}
		// SendTest's error is for the operator running intake alert-test:
		// it names routes, from the config, to say which failed.
		if c != route && strings.Contains(err.Error(), c) {
			t.Errorf("%q in SendTest's error: %v", c, err)
		}
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		if s := fmt.Sprintf(f, cfg); strings.Contains(s, password) || strings.Contains(s, fmt.Sprintf("%x", password)) {
			t.Errorf("the password shows in %s: %s", f, s)
		}
	}
	if b, _ := json.Marshal(cfg.Password); string(b) != `"[REDACTED]"` {
		t.Errorf("JSON of the password: %s", b)
	}
}

func TestShutdownSaysAnAlertWasLost(t *testing.T) {
	t.Parallel()
	t.Run("nothing waiting", func(t *testing.T) {
		t.Parallel()
		srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
		h := newHarness(t, mailConfig("smtp://"+srv.Addr()), nil)
		h.d.Danger("main")
		h.waitIdle("mail", func(s snapshot) bool { return s.sent[kindDanger] == 1 })
		if err := h.d.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if h.logs.String() != "" {
			t.Fatalf("log: %s", h.logs)
		}
	})
	t.Run("activity waiting", func(t *testing.T) {
		t.Parallel()
		srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
		h := newHarness(t, mailConfig("smtp://"+srv.Addr()), nil)
		h.d.Activity("main")
		h.waitIdle("mail", func(s snapshot) bool { return s.activity })
		if err := h.d.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		l := h.logs.lines(t)
		if len(l) != 1 || len(l[0]) != 2 || l[0]["level"] != "error" || !strings.Contains(l[0]["message"].(string), "lost") {
			t.Fatalf("log %v, want one line with a level and a message only", l)
		}
		if ev := srv.Sync(); len(ev) != 0 {
			t.Fatalf("shutdown sent something: %v", ev)
		}
	})
	t.Run("delivery under way finishes", func(t *testing.T) {
		t.Parallel()
		hook := startHook(t, false)
		hook.block = make(chan struct{})
		h := newHarness(t, Config{Default: Recipients{Webhook: hook.URL}, School: school}, nil)
		h.d.Danger("main")
		hook.next(t) // the request is in, and held
		done := make(chan error)
		go func() { done <- h.d.Shutdown(context.Background()) }()
		close(hook.block)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if h.logs.String() != "" {
			t.Fatalf("log: %s", h.logs)
		}
	})
	t.Run("delivery cut off", func(t *testing.T) {
		t.Parallel()
		hook := startHook(t, false)
		hook.block = make(chan struct{})
		defer close(hook.block)
		h := newHarness(t, Config{Default: Recipients{Webhook: hook.URL}, School: school}, nil)
		h.d.Danger("main")
		hook.next(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := h.d.Shutdown(ctx); err == nil {
			t.Fatal("Shutdown with a done context returned nil")
		}
		if l := h.logs.lines(t); len(l) != 1 || len(l[0]) != 2 || !strings.Contains(l[0]["message"].(string), "lost") {
			t.Fatalf("log %v", l)
		}
	})
}

func TestLogOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{LogOnly: true, School: school, Every: time.Minute}, nil)
	h.d.Danger("main")
	h.waitIdle("log", func(s snapshot) bool { return s.sent[kindDanger] == 1 })
	h.d.Activity("main")
	s := h.waitIdle("log", func(s snapshot) bool { return s.activity })
	if s.next.Sub(epoch) >= 2*time.Minute {
		t.Fatalf("activity scheduled for %v", s.next)
	}
	h.clock.set(s.next)
	h.waitIdle("log", func(s snapshot) bool { return s.sent[kindActivity] == 1 })
	if err := h.d.SendTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range h.logs.lines(t) {
		if l["message"] != "alert sent" || len(l) != 3 {
			t.Fatalf("log line %v", l)
		}
		kinds = append(kinds, l["kind"].(string))
	}
	if !slices.Equal(kinds, []string{"danger", "activity", "test"}) {
		t.Fatalf("kinds %v", kinds)
	}
}

func TestNilDispatcher(t *testing.T) {
	t.Parallel()
	var d *Dispatcher
	d.Activity("main")
	d.Danger("main")
	if err := d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := d.SendTest(context.Background()); err == nil {
		t.Fatal("SendTest on nil succeeded")
	}
}
