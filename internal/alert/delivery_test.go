package alert

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
)

const (
	school = "Riverside Primary"
	from   = "hearken@school.example"
	dsl    = "dsl-alerts@school.example"
)

func mailConfig(smtpURL string) Config {
	return Config{
		SMTP:    smtpURL,
		From:    from,
		Default: Recipients{To: []string{dsl}},
		School:  school,
		Every:   time.Hour,
	}
}

// bodyText decodes a mail's base64 body.
func bodyText(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Content-Transfer-Encoding") != "base64" {
		t.Fatalf("unexpected encoding %q", msg.Header.Get("Content-Transfer-Encoding"))
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(base64.NewDecoder(base64.StdEncoding, msg.Body)); err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(b.String(), " \r\n")
}

// TestDangerArrivesWithinFiveSeconds uses the real clock and New, as the
// intake server does.
func TestDangerArrivesWithinFiveSeconds(t *testing.T) {
	t.Parallel()
	srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
	cfg := mailConfig("smtp://" + srv.Addr())
	logs := &logBuffer{}
	cfg.Log = zerolog.New(logs)
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(context.Background())
	start := time.Now()
	d.Danger("main")
	m := srv.Next()
	took := time.Since(start)
	if took > 5*time.Second {
		t.Fatalf("danger alert took %v", took)
	}
	t.Logf("the danger alert reached the server %v after Danger was called", took)
	if got := header(m.Raw, "Subject"); got != dangerSubject {
		t.Errorf("subject %q", got)
	}
	if got := bodyText(t, m.Raw); got != dangerText {
		t.Errorf("body %q", got)
	}
	if m.From != from || !slices.Equal(m.To, []string{dsl}) {
		t.Errorf("envelope %+v", m)
	}
	if m.Helo != heloName {
		t.Errorf("EHLO %q: this host's name must not go out", m.Helo)
	}
	if err := d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if logs.String() != "" {
		t.Errorf("a delivered alert left log lines: %s", logs)
	}
}

// TestActivityWaitsForItsTick drives the clock by hand: an activity alert
// goes at the first tick after the arrival, inside a window, never before;
// several arrivals make one alert; an arrival after a window's tick waits
// for the next window.
func TestActivityWaitsForItsTick(t *testing.T) {
	t.Parallel()
	srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
	h := newHarness(t, mailConfig("smtp://"+srv.Addr()), nil)
	const every = time.Hour

	arrival := epoch.Add(10 * time.Minute)
	h.clock.set(arrival)
	h.d.Activity("main")
	s := h.waitIdle("mail", func(s snapshot) bool { return s.activity })
	tick := s.next
	if !tick.After(arrival) || !tick.Before(epoch.Add(2*every)) {
		t.Fatalf("activity at %v scheduled for %v", arrival, tick)
	}
	// More arrivals before the tick: still one alert.
	for i := 1; i <= 3; i++ {
		at := arrival.Add(time.Duration(i) * tick.Sub(arrival) / 4)
		if n := h.clock.set(at); n != 0 {
			t.Fatalf("a timer fired at %v, before the tick", at)
		}
		h.d.Activity("main")
		if s := h.waitIdle("mail", func(s snapshot) bool { return s.now.Equal(at) }); !s.next.Equal(tick) {
			t.Fatalf("another arrival moved the tick from %v to %v", tick, s.next)
		}
	}
	if n := h.clock.set(tick.Add(-time.Millisecond)); n != 0 {
		t.Fatal("a timer fired before the tick")
	}
	if ev := srv.Sync(); len(ev) != 0 {
		t.Fatalf("the server saw %v before the tick", ev)
	}
	h.clock.set(tick)
	h.waitIdle("mail", func(s snapshot) bool { return s.sent[kindActivity] == 1 })
	m := srv.Next()
	if got, want := header(m.Raw, "Date"), tick.UTC().Format(time.RFC1123Z); got != want {
		t.Errorf("Date %q, want the tick %q", got, want)
	}
	if got, want := bodyText(t, m.Raw), "There is new activity on Hearken for "+school+". Open reviewer to read it."; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if ev := srv.Sync(); testkit.Count(ev, "DATA") != 1 {
		t.Fatalf("want one message: %v", ev)
	}

	// An arrival after this window's alert waits for the next window.
	windowEnd := epoch.Add(every * time.Duration(tick.Sub(epoch)/every+1))
	late := tick.Add(time.Second)
	h.clock.set(late)
	h.d.Activity("main")
	s = h.waitIdle("mail", func(s snapshot) bool { return s.activity && s.now.Equal(late) })
	if s.next.Before(windowEnd) || !s.next.Before(windowEnd.Add(every)) {
		t.Fatalf("second alert at %v, want inside the next window [%v, %v)", s.next, windowEnd, windowEnd.Add(every))
	}
	if n := h.clock.set(windowEnd); n != 0 && s.next.After(windowEnd) {
		t.Fatal("a timer fired as the window opened, before its tick")
	}
	h.clock.set(s.next)
	h.waitIdle("mail", func(s snapshot) bool { return s.sent[kindActivity] == 2 })
	m = srv.Next()
	if got, want := header(m.Raw, "Date"), s.next.UTC().Format(time.RFC1123Z); got != want {
		t.Errorf("Date %q, want %q", got, want)
	}
}

// TestAlertsOfAKindAreIdentical compares raw messages as the server got
// them. Only Date and Message-ID may differ; every kind has one length.
func TestAlertsOfAKindAreIdentical(t *testing.T) {
	t.Parallel()
	srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
	h := newHarness(t, mailConfig("smtp://"+srv.Addr()), nil)
	var raws [numKinds][][]byte
	for i := 1; i <= 3; i++ {
		h.d.Activity("main")
		s := h.waitIdle("mail", func(s snapshot) bool { return s.activity })
		now := s.next
		h.clock.set(now)
		h.waitIdle("mail", func(s snapshot) bool { return s.sent[kindActivity] == i })
		raws[kindActivity] = append(raws[kindActivity], srv.Next().Raw)

		now = now.Add(dangerGap)
		h.clock.set(now)
		h.d.Danger("main")
		h.waitIdle("mail", func(s snapshot) bool { return s.sent[kindDanger] == i })
		raws[kindDanger] = append(raws[kindDanger], srv.Next().Raw)

		if err := h.d.SendTest(context.Background()); err != nil {
			t.Fatal(err)
		}
		raws[kindTest] = append(raws[kindTest], srv.Next().Raw)
	}
	length := len(raws[0][0])
	ids := map[string]bool{}
	idRE := regexp.MustCompile(`^<[0-9a-f]{32}@school\.example>$`)
	for k, rs := range raws {
		for i, r := range rs {
			if !bytes.Equal(stripVarying(t, r), stripVarying(t, rs[0])) {
				t.Errorf("%v alert %d differs from the first beyond Date and Message-ID:\n%s\n---\n%s", kind(k), i, r, rs[0])
			}
			if len(r) != length {
				t.Errorf("%v alert is %d bytes, another kind %d", kind(k), len(r), length)
			}
			id := header(r, "Message-ID")
			if !idRE.MatchString(id) || ids[id] {
				t.Errorf("Message-ID %q is not a fresh random id on the sender's domain", id)
			}
			ids[id] = true
			if d := header(r, "Date"); !strings.HasSuffix(d, " +0000") {
				t.Errorf("Date %q is not in UTC", d)
			}
			for _, bad := range []string{"X-Mailer", "User-Agent", "Received", "X-Originating"} {
				if bytes.Contains(r, []byte(bad)) {
					t.Errorf("%v alert has %s", kind(k), bad)
				}
			}
		}
	}
}

func reservePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestRetryUntilServerIsUp: the mail server is down when a danger report
// arrives; the alert goes out on a retry once it is up.
func TestRetryUntilServerIsUp(t *testing.T) {
	t.Parallel()
	port := reservePort(t)
	h := newHarness(t, mailConfig("smtp://127.0.0.1:"+strconv.Itoa(port)), nil)
	h.d.Danger("main")
	s := h.waitIdle("mail", func(s snapshot) bool { return s.attempts == 1 })
	if !s.danger {
		t.Fatal("the danger alert was dropped after a failure")
	}
	if wait := s.next.Sub(s.now); wait < retryBase/2 || wait > retryBase {
		t.Fatalf("first retry after %v", wait)
	}
	lines := h.logs.lines(t)
	if len(lines) != 1 || lines[0]["class"] != classSMTPConnect {
		t.Fatalf("log %v, want one smtp_connect failure", lines)
	}

	srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{Port: port})
	h.clock.set(s.next)
	h.waitIdle("mail", func(s snapshot) bool { return s.sent[kindDanger] == 1 })
	if got := bodyText(t, srv.Next().Raw); got != dangerText {
		t.Fatalf("body %q", got)
	}
	lines = h.logs.lines(t)
	if len(lines) != 2 || lines[1]["message"] != "alert delivered after retrying" {
		t.Fatalf("log %v", lines)
	}
}

// TestPlainSMTPOnlyToLoopback: smtp:// to a host that is not loopback
// needs STARTTLS, and nothing (no AUTH, no sender, no message) is sent to a
// server that lacks it. "mail.hearken.test" is a name, not loopback, that
// the test's dialer maps to a local server; the machine's own non-loopback
// address is tried too where there is one.
func TestPlainSMTPOnlyToLoopback(t *testing.T) {
	t.Parallel()
	password := "CANARY-PASSWORD-6b1f"
	refused := func(t *testing.T, srv *testkit.SMTPD, smtpURL string, dial dialFunc) {
		t.Helper()
		cfg := mailConfig(smtpURL)
		cfg.Username, cfg.Password = "hearken", NewPassword(password)
		h := newHarness(t, cfg, dial)
		err := h.d.SendTest(context.Background())
		if err == nil || !strings.Contains(err.Error(), classSMTPNoTLS) {
			t.Fatalf("SendTest = %v, want %s", err, classSMTPNoTLS)
		}
		if ev := srv.Sync(); len(ev) != 1 || !strings.HasPrefix(ev[0], "EHLO") {
			t.Fatalf("the server saw %v; want EHLO alone", ev)
		}
		h.d.Danger("main")
		h.waitIdle("mail", func(s snapshot) bool { return s.attempts == 1 })
		if ev := srv.Sync(); len(ev) != 1 || !strings.HasPrefix(ev[0], "EHLO") {
			t.Fatalf("the server saw %v; want EHLO alone", ev)
		}
		if l := h.logs.lines(t); len(l) != 1 || l[0]["class"] != classSMTPNoTLS {
			t.Fatalf("log %v", l)
		}
	}
	t.Run("a name", func(t *testing.T) {
		t.Parallel()
		srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
		refused(t, srv, "smtp://mail.hearken.test:2525", mapDial(map[string]string{"mail.hearken.test:2525": srv.Addr()}))
	})
	t.Run("localhost reaching another machine", func(t *testing.T) {
		t.Parallel()
		ip := nonLoopbackIP(t)
		srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{Host: ip})
		refused(t, srv, "smtp://localhost:2525", mapDial(map[string]string{"localhost:2525": srv.Addr()}))
	})
	t.Run("a non-loopback address of this machine", func(t *testing.T) {
		t.Parallel()
		ip := nonLoopbackIP(t)
		srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{Host: ip})
		refused(t, srv, "smtp://"+srv.Addr(), nil)
	})

	for _, host := range []string{"127.0.0.1", "127.0.0.2", "localhost"} {
		t.Run("plain to "+host, func(t *testing.T) {
			t.Parallel()
			bind := host
			if host == "localhost" {
				bind = "127.0.0.1"
			}
			srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{Host: bind})
			h := newHarness(t, mailConfig("smtp://"+net.JoinHostPort(host, strconv.Itoa(srv.Port))), nil)
			if err := h.d.SendTest(context.Background()); err != nil {
				t.Fatal(err)
			}
			if m := srv.Next(); m.TLS {
				t.Fatal("expected plain SMTP on loopback")
			}
		})
	}
}

// nonLoopbackIP returns an IPv4 address of this machine that is not
// loopback, or skips: the name-based subtest covers the rule everywhere.
func nonLoopbackIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address")
	return ""
}

// TestSTARTTLSAndAuth: STARTTLS with a certificate from a test CA, then
// AUTH PLAIN or LOGIN; a certificate for another name, or one the roots do
// not vouch for, is refused before anything is sent.
func TestSTARTTLSAndAuth(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t)
	const password = "CANARY-PASSWORD-0c4e"
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{STARTTLS: ca.Issue("mail.hearken.test"), AuthUser: "hearken", AuthPass: password, AuthMechs: []string{mech}})
			cfg := mailConfig("smtp://mail.hearken.test:587")
			cfg.Username, cfg.Password, cfg.RootCAs = "hearken", NewPassword(password), ca.Pool
			h := newHarness(t, cfg, mapDial(map[string]string{"mail.hearken.test:587": srv.Addr()}))
			h.d.Danger("main")
			h.waitIdle("mail", func(s snapshot) bool { return s.sent[kindDanger] == 1 })
			m := srv.Next()
			if !m.TLS || !m.Authenticated {
				t.Fatalf("delivered without TLS or AUTH: %+v", m)
			}
			if ev := srv.Sync(); !slices.Contains(ev, "AUTH "+mech) {
				t.Fatalf("events %v, want AUTH %s", ev, mech)
			}
			if strings.Contains(h.logs.String(), password) {
				t.Fatal("password in the log")
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{STARTTLS: ca.Issue("mail.hearken.test"), AuthUser: "hearken", AuthPass: password})
		cfg := mailConfig("smtp://mail.hearken.test:587")
		cfg.Username, cfg.Password, cfg.RootCAs = "hearken", NewPassword("not-"+password), ca.Pool
		h := newHarness(t, cfg, mapDial(map[string]string{"mail.hearken.test:587": srv.Addr()}))
		err := h.d.SendTest(context.Background())
		if err == nil || !strings.Contains(err.Error(), "smtp_auth (535)") {
			t.Fatalf("SendTest = %v", err)
		}
	})
	for name, tc := range map[string]struct {
		cert  *testkit.KeyPair
		roots bool
	}{
		"certificate for another name": {ca.Issue("other.hearken.test"), true},
		"unknown authority":            {ca.Issue("mail.hearken.test"), false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{STARTTLS: tc.cert, AuthUser: "hearken", AuthPass: password})
			cfg := mailConfig("smtp://mail.hearken.test:587")
			cfg.Username, cfg.Password = "hearken", NewPassword(password)
			if tc.roots {
				cfg.RootCAs = ca.Pool
			}
			h := newHarness(t, cfg, mapDial(map[string]string{"mail.hearken.test:587": srv.Addr()}))
			err := h.d.SendTest(context.Background())
			if err == nil || !strings.Contains(err.Error(), classSMTPTLS) {
				t.Fatalf("SendTest = %v, want %s", err, classSMTPTLS)
			}
			for _, e := range srv.Sync() {
				if strings.HasPrefix(e, "AUTH") || e == "MAIL" || e == "DATA" {
					t.Fatalf("the server saw %s over a connection that failed verification", e)
				}
			}
		})
	}
}

func TestSMTPS(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t)
	const password = "CANARY-PASSWORD-93aa"
	srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{SMTPS: ca.Issue("mail.hearken.test"), SMTPSName: "mail.hearken.test", Roots: ca.Pool, AuthUser: "hearken", AuthPass: password})
	cfg := mailConfig("smtps://mail.hearken.test")
	cfg.Username, cfg.Password, cfg.RootCAs = "hearken", NewPassword(password), ca.Pool
	h := newHarness(t, cfg, mapDial(map[string]string{"mail.hearken.test:465": srv.Addr()}))
	h.d.Danger("main")
	h.waitIdle("mail", func(s snapshot) bool { return s.sent[kindDanger] == 1 })
	if m := srv.Next(); !m.TLS || !m.Authenticated {
		t.Fatalf("%+v", m)
	}

	cfg.RootCAs = nil // the system's roots do not know the test CA
	h = newHarness(t, cfg, mapDial(map[string]string{"mail.hearken.test:465": srv.Addr()}))
	if err := h.d.SendTest(context.Background()); err == nil || !strings.Contains(err.Error(), classSMTPTLS) {
		t.Fatalf("SendTest = %v, want %s", err, classSMTPTLS)
	}
}
