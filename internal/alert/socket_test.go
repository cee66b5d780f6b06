package alert

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/testkit"
)

// forwarder is a unix socket that passes every connection on to addr, as
// systemd-socket-proxyd does for deploy/hearken-alert-relay.socket.
func forwarder(t *testing.T, addr string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "mail.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return sock
}

// A server with no network of its own sends through a unix socket that
// leads to the mail server: the alert arrives, over STARTTLS checked
// against the mail server's name, with AUTH. The name resolves nowhere, so
// only the socket can have carried it.
func TestSMTPThroughSocket(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t)
	const password = "CANARY-PASSWORD-5d1f"
	srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{STARTTLS: ca.Issue("mail.hearken.test"), AuthUser: "hearken", AuthPass: password})
	cfg := mailConfig("smtp://mail.hearken.test:587")
	cfg.Username, cfg.Password, cfg.RootCAs = "hearken", NewPassword(password), ca.Pool
	cfg.Sockets = map[string]string{"Mail.Hearken.Test:587": forwarder(t, srv.Addr())}
	h := newHarness(t, cfg, mapDial(nil))
	h.d.Danger("main")
	h.waitIdle("mail", func(s snapshot) bool { return s.sent[kindDanger] == 1 })
	if m := srv.Next(); !m.TLS || !m.Authenticated {
		t.Fatalf("delivered without TLS or AUTH: %+v", m)
	}
	notes := strings.Join(cfg.Notes(), "\n")
	if !strings.Contains(notes, "go through the unix socket") || !strings.Contains(notes, "STARTTLS will be required") {
		t.Errorf("notes:\n%s", notes)
	}
}

// Plain SMTP is never sent through a socket, even to a loopback host: the
// socket could lead anywhere.
func TestPlainSMTPNotThroughSocket(t *testing.T) {
	t.Parallel()
	srv := testkit.StartSMTPD(t, testkit.SMTPDOptions{})
	_, port, _ := net.SplitHostPort(srv.Addr())
	cfg := mailConfig("smtp://127.0.0.1:" + port)
	cfg.Sockets = map[string]string{"127.0.0.1:" + port: forwarder(t, srv.Addr())}
	h := newHarness(t, cfg, mapDial(nil))
	if err := h.d.SendTest(context.Background()); err == nil || !strings.Contains(err.Error(), classSMTPNoTLS) {
		t.Fatalf("SendTest = %v, want %s", err, classSMTPNoTLS)
	}
}

func TestSocketsChecked(t *testing.T) {
	cfg := mailConfig("smtp://mail.school.example:587")
	cfg.Default.Webhook = "https://chat.school.example/hooks/x"
	cfg.Sockets = map[string]string{
		"mail.school.example:587": "/run/hearken-alert-relay/mail.sock",
		"chat.school.example:443": "/run/hearken-alert-relay/chat.sock",
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for dest, want := range map[string]string{
		"mail.school.example:25": "is neither the smtp server nor a webhook",
		"mail.school.example":    "is not a host and port",
	} {
		cfg.Sockets = map[string]string{dest: "/run/x.sock"}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", dest, err, want)
		}
	}
	cfg.Sockets = map[string]string{"mail.school.example:587": "relay/mail.sock"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "absolute path") {
		t.Errorf("a relative socket: %v", err)
	}
}
