package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hearken-project/hearken/internal/testkit"
)

// headerCanaries go in every request of the alert tests.
var headerCanaries = map[string]string{
	"X-Forwarded-For": "203.0.113.91",
	"User-Agent":      "CanaryAgent/4.2",
	"Referer":         "https://canary-referer-alerts.example/",
	"Cookie":          "canary=cookie-8123",
}

// postAs sends a form as a browser would, with the header canaries.
func postAs(t *testing.T, u string, vals url.Values) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(vals.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headerCanaries {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s = %d\n%s", u, resp.StatusCode, body)
	}
	return string(body)
}

// hook is a chat webhook that keeps what it is sent.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	got    chan struct{}
}

func startHook(t *testing.T) *hook {
	h := &hook{got: make(chan struct{}, 100)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		h.got <- struct{}{}
	}))
	t.Cleanup(h.Close)
	return h
}

// wait waits for the webhook's next delivery.
func (h *hook) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.got:
	case <-time.After(testkit.Patience):
		t.Fatal("the webhook got nothing")
	}
}

func (h *hook) all() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

func subject(t *testing.T, m testkit.Mail) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.Header.Get("Subject")
}

// withoutDateAndID drops the two headers that differ between alerts of a
// kind.
func withoutDateAndID(raw []byte) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(raw), "\r\n") {
		if !strings.HasPrefix(line, "Date: ") && !strings.HasPrefix(line, "Message-ID: ") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestAlertsEndToEnd runs the real server with [alerts] pointing at a real
// SMTP server and a webhook. A danger report alerts at once, before the
// batched activity alert; follow-ups and ordinary reports alert in their
// window; the receipt says when the team reads messages; and no report
// text, receipt or header value reaches a mail, the webhook or the log.
func TestAlertsEndToEnd(t *testing.T) {
	t.Parallel()
	smtpd := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
	hk := startHook(t)
	dir := t.TempDir()
	cfg, err := loadConfig(writeConfig(t, dir, fmt.Sprintf(`
[team_hours]
en = "The team reads messages on school days before 4 pm."

[alerts]
smtp = "smtp://%s"
from = "hearken@hillside.example"
to = ["dsl-alerts@hillside.example"]
every = "1s"
webhook = "%s/hooks/team"
`, smtpd.Addr(), hk.URL)))
	if err != nil {
		t.Fatal(err)
	}
	ls := runServer(t, cfg, filepath.Join(dir, "data"), "127.0.0.1:0", "")

	const message = "canary-alert-message-okapi-7741"
	start := time.Now()
	page := postAs(t, ls.url("/en/report"), url.Values{"message": {message}, "about": {message}, "danger": {"yes"}})
	receipt := receiptOf(t, page)
	for _, want := range []string{"The team reads messages on school days before 4 pm.", locales["en"].T("receipt_danger")} {
		if !strings.Contains(page, want) {
			t.Errorf("the danger receipt lacks %q", want)
		}
	}
	if strings.Index(page, `class="urgent"`) > strings.Index(page, "<main>") {
		t.Error("the emergency numbers are not at the top of the danger receipt")
	}

	var mails []testkit.Mail
	danger := smtpd.Next()
	took := time.Since(start)
	if took > 5*time.Second {
		t.Fatalf("the danger alert took %v", took)
	}
	t.Logf("danger alert in %v after the report was sent", took)
	if got := subject(t, danger); got != "Urgent: danger reported" {
		t.Fatalf("first mail %q, want the danger alert", got)
	}
	mails = append(mails, danger)
	// The same report's activity alert, at the window's tick.
	activity := smtpd.Next()
	if got := subject(t, activity); got != "New activity on Hearken" {
		t.Fatalf("second mail %q, want the activity alert", got)
	}
	mails = append(mails, activity)
	hk.wait(t)
	hk.wait(t)

	// A follow-up, then an ordinary report: an activity alert each. Each
	// is sent only once the last alerts are in, so none are batched
	// together and none is waiting when the server stops.
	postAs(t, ls.url("/en/check/add"), url.Values{"receipt": {receipt}, "message": {message}})
	mails = append(mails, smtpd.Next())
	hk.wait(t)
	page = postAs(t, ls.url("/en/report"), url.Values{"message": {message}, "danger": {"no"}})
	if strings.Contains(page, "school days before 4 pm") {
		t.Error("an ordinary receipt shows the danger text")
	}
	receipt2 := receiptOf(t, page)
	mails = append(mails, smtpd.Next())
	hk.wait(t)
	if err := ls.stop(); err != nil {
		t.Fatal(err)
	}
	for _, m := range mails[2:] {
		if got := subject(t, m); got != "New activity on Hearken" {
			t.Errorf("mail %q, want the activity alert", got)
		}
		if withoutDateAndID(m.Raw) != withoutDateAndID(activity.Raw) {
			t.Errorf("activity alerts differ beyond Date and Message-ID:\n%s\n---\n%s", m.Raw, activity.Raw)
		}
	}
	if ev := smtpd.Sync(); testkit.Count(ev, "DATA") != len(mails) {
		t.Errorf("more mail than expected: %v", ev)
	}
	if n := len(hk.all()); n != 4 {
		t.Errorf("the webhook got %d alerts, want 4", n)
	}

	canaries := []string{message, receipt, strings.ReplaceAll(receipt, "-", ""), receipt2, "cookie-8123"}
	for _, v := range headerCanaries {
		canaries = append(canaries, v)
	}
	var out []string
	for _, m := range mails {
		out = append(out, string(m.Raw))
	}
	for _, b := range hk.all() {
		var v map[string]string
		if err := json.Unmarshal(b, &v); err != nil || len(v) != 1 || v["text"] == "" {
			t.Errorf("webhook body %q", b)
		}
		out = append(out, string(b))
	}
	logs := ls.logs.String() + ls.errLogs.String()
	out = append(out, logs)
	for _, c := range canaries {
		for _, o := range out {
			if strings.Contains(strings.ToLower(o), strings.ToLower(c)) {
				t.Errorf("%q leaked into:\n%s", c, o)
			}
		}
	}
	if strings.Contains(logs, "alert") {
		t.Errorf("delivered alerts left log lines:\n%s", logs)
	}
	// The danger answer is sealed inside the report and nowhere else.
	err = filepath.WalkDir(ls.dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(bytes.ToLower(b), []byte("danger")) {
			t.Errorf("%s holds the word danger", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAlertsPerRoute: a route with its own `to` alerts only them, and the
// others hear nothing of it.
func TestAlertsPerRoute(t *testing.T) {
	t.Parallel()
	smtpd := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
	dir := t.TempDir()
	p := writeConfig(t, dir, fmt.Sprintf(`
[alerts]
smtp = "smtp://%s"
from = "hearken@hillside.example"
to = ["dsl-alerts@hillside.example"]
every = "1s"
`, smtpd.Addr()))
	cfgText, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cfgText = append(cfgText, []byte(`
[[routes]]
name = "head"
team = "team.txt"
to = ["head@hillside.example"]
[routes.labels]
en = "The head of school"
`)...)
	if err := os.WriteFile(p, cfgText, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	ls := runServer(t, cfg, filepath.Join(dir, "data"), "127.0.0.1:0", "")

	postAs(t, ls.url("/en/report"), url.Values{"message": {"x"}, "route": {"head"}, "danger": {"yes"}})
	for range 2 { // danger, then activity
		if m := smtpd.Next(); len(m.To) != 1 || m.To[0] != "head@hillside.example" {
			t.Fatalf("a head-of-school report alerted %v", m.To)
		}
	}
	postAs(t, ls.url("/en/report"), url.Values{"message": {"x"}, "route": {"safeguarding"}})
	if m := smtpd.Next(); len(m.To) != 1 || m.To[0] != "dsl-alerts@hillside.example" {
		t.Fatalf("a safeguarding report alerted %v", m.To)
	}
	if err := ls.stop(); err != nil {
		t.Fatal(err)
	}
	if ev := smtpd.Sync(); testkit.Count(ev, "DATA") != 3 {
		t.Fatalf("want three alerts in all: %v", ev)
	}
}

// TestDemoAlertsInTheLog: serve --demo writes each alert to the log.
func TestDemoAlertsInTheLog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, _, err := demoConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	ls := runServer(t, cfg, dir, "127.0.0.1:0", "")
	postAs(t, ls.url("/en/report"), url.Values{"message": {"x"}, "danger": {"yes"}})
	const line = `{"level":"info","kind":"danger","message":"alert sent"}`
	if err := testkit.WaitFor(testkit.Patience, func() bool { return strings.Contains(ls.logs.String(), line) }); err != nil {
		t.Fatalf("no %s in the log:\n%s", line, ls.logs)
	}
}

func TestAlertsConfig(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "smtp-password")
	if err := os.WriteFile(pw, []byte("s3cret-CANARY\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const good = `
[alerts]
smtp = "smtp://mail.hillside.example:587"
username = "hearken"
password_file = "smtp-password"
from = "hearken@hillside.example"
to = ["dsl-alerts@hillside.example"]
`
	for _, tc := range []struct {
		name, extra string
		want        []string // problems; none for a valid config
	}{
		{"good", good, nil},
		{"no to", strings.Replace(good, `to = ["dsl-alerts@hillside.example"]`, "", 1), []string{`routes[1] (safeguarding): nobody would be alerted`}},
		{"bad url", strings.Replace(good, "smtp://mail.hillside.example:587", "mail.hillside.example", 1), []string{`alerts: smtp: the scheme must be`}},
		{"password in url", strings.Replace(good, "smtp://mail", "smtp://hearken:pw@mail", 1), []string{`no user or password in the URL`}},
		{"unreadable password file", strings.Replace(good, `"smtp-password"`, `"missing-password"`, 1), []string{`alerts: password_file: failed to read password file`}},
		{"bad address", strings.Replace(good, `"dsl-alerts@hillside.example"`, `"DSL <dsl@x.example>"`, 1), []string{`alerts: to[0]: not a bare email address`}},
		{"bad every", good + `every = "5"` + "\n", []string{`alerts: every: "5" is not a duration`}},
		{"short every", good + `every = "10ms"` + "\n", []string{`every must be at least 1s`}},
		{"http webhook", good + `webhook = "http://chat.hillside.example/h"` + "\n", []string{`alerts: webhook: must be https://`}},
		{"unknown key", good + `pasword_file = "x"` + "\n", []string{`unknown setting "alerts.pasword_file"`}},
		{"team hours for a language not served", "[team_hours]\nde = \"Montags\"\n", []string{`team_hours.de: language is not in languages`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(writeConfig(t, dir, tc.extra))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %v\nwant %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Errorf("the error quotes the password: %v", err)
			}
		})
	}

	cfg, err := loadConfig(writeConfig(t, dir, good))
	if err != nil {
		t.Fatal(err)
	}
	sum := cfg.summary()
	for _, want := range []string{"alerts: mail to 1 address(es); other activity at most once every 1h0m0s", "STARTTLS will be required"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", cfg, cfg.Alerts, *cfg.Alerts), "s3cret") {
		t.Error("the password prints")
	}

	t.Run("systemd credential", func(t *testing.T) {
		noFile := strings.Replace(good, `password_file = "smtp-password"`, "", 1)
		t.Setenv("CREDENTIALS_DIRECTORY", "")
		cfg, err := loadConfig(writeConfig(t, dir, noFile))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cfg.summary(), "systemd credential smtp-password") {
			t.Errorf("summary:\n%s", cfg.summary())
		}
		if _, err := newAlerter(cfg, zerolog.Nop()); err == nil || !errors.Is(err, errNoPassword) {
			t.Errorf("serving without the password: %v", err)
		}
		creds := t.TempDir()
		t.Setenv("CREDENTIALS_DIRECTORY", creds)
		if _, err := loadConfig(writeConfig(t, dir, noFile)); err == nil || !strings.Contains(err.Error(), "systemd credential smtp-password") {
			t.Errorf("missing credential: %v", err)
		}
		if err := os.WriteFile(filepath.Join(creds, "smtp-password"), []byte("pw\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err = loadConfig(writeConfig(t, dir, noFile))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Alerts.passwordLater || cfg.Alerts.passwordFailed {
			t.Error("the credential was not read")
		}
		d, err := newAlerter(cfg, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		d.Shutdown(context.Background())
	})
}

// TestExampleAlertsParse uncomments the example config's [alerts],
// [team_hours] and the head route's `to`, and loads it: the documentation
// an operator copies must be a config intake accepts.
func TestExampleAlertsParse(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"safeguarding", "head"} {
		if err := os.MkdirAll(filepath.Join(dir, "teams"), 0o755); err != nil {
			t.Fatal(err)
		}
		team := "# test team\n" + member(t).TeamLine() + "\n"
		if err := os.WriteFile(filepath.Join(dir, "teams", name+".txt"), []byte(team), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pw := filepath.Join(dir, "smtp-password")
	if err := os.WriteFile(pw, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out []string
	inTLS := false // the [tls] example is left commented: it needs a reachable CA
	for _, line := range strings.Split(string(exampleConfig), "\n") {
		inTLS = line == "# [tls]" || inTLS && line != ""
		setting, ok := strings.CutPrefix(line, "# ")
		if ok && !inTLS && (setting == "[alerts]" || setting == "[alerts.sockets]" || setting == "[team_hours]" || strings.Contains(setting, " = ") && !strings.HasPrefix(setting, "backup") &&
			!strings.HasPrefix(setting, "purge") && !strings.HasPrefix(setting, "onion")) {
			line = strings.Replace(setting, "/etc/hearken/smtp-password", pw, 1)
		}
		out = append(out, line)
	}
	p := filepath.Join(dir, "intake.toml")
	if err := os.WriteFile(p, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := cfg.routeByName("head")
	if cfg.Alerts == nil || len(cfg.Alerts.To) != 1 || len(head.To) != 1 || cfg.TeamHours["en"] == "" || len(cfg.Alerts.Sockets) != 1 {
		t.Fatalf("the example's alerts did not all load: %+v %+v", cfg.Alerts, head)
	}
}

// TestAlertTestCommand runs `intake alert-test` against real servers.
func TestAlertTestCommand(t *testing.T) {
	good := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
	const reply = "CANARY-REPLY-5e0d"
	bad := testkit.StartSMTPD(t, testkit.SMTPDOptions{RejectRcpt: "550 5.1.1 " + reply + " no such user"})
	hk := startHook(t)
	alerts := func(addr string) string {
		return fmt.Sprintf(`
[alerts]
smtp = "smtp://%s"
from = "hearken@hillside.example"
to = ["dsl-alerts@hillside.example"]
webhook = "%s/hooks/team"
`, addr, hk.URL)
	}
	run := func(cfg string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		status := Main([]string{"alert-test", "--config", cfg}, &stdout, &stderr)
		return status, stdout.String(), stderr.String()
	}

	status, stdout, stderr := run(writeConfig(t, t.TempDir(), alerts(good.Addr())))
	if status != 0 || !strings.Contains(stdout, "test alert sent to every destination") {
		t.Fatalf("alert-test = %d\n%s%s", status, stdout, stderr)
	}
	if got := subject(t, good.Next()); got != "Test alert from Hearken" {
		t.Errorf("subject %q", got)
	}
	hk.wait(t)
	if b := hk.all()[0]; !strings.Contains(string(b), "This is a test alert from Hearken for Hillside School.") {
		t.Errorf("webhook got %s", b)
	}

	status, _, stderr = run(writeConfig(t, t.TempDir(), alerts(bad.Addr())))
	if status != 1 || !strings.Contains(stderr, "mail for the default recipients: smtp_rejected (550)") {
		t.Fatalf("alert-test to a refusing server = %d\n%s", status, stderr)
	}
	if strings.Contains(stderr, reply) || strings.Contains(stderr, "dsl-alerts@") {
		t.Errorf("the error repeats the server's reply or an address:\n%s", stderr)
	}
	hk.wait(t)

	status, _, stderr = run(writeConfig(t, t.TempDir(), ""))
	if status != 1 || !strings.Contains(stderr, "intake: hint: add an [alerts] section") {
		t.Errorf("alert-test without [alerts] = %d\n%s", status, stderr)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	status, _, stderr = run(writeConfig(t, t.TempDir(), alerts(good.Addr())+`username = "hearken"`+"\n"))
	if status != 1 || !strings.Contains(stderr, "LoadCredential=smtp-password:FILE") {
		t.Errorf("alert-test without the password = %d\n%s", status, stderr)
	}
}
