package alert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearken-project/hearken/internal/testkit"
)

func TestValidate(t *testing.T) {
	good := func() Config { return mailConfig("smtps://mail.school.example") }
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"webhook only", func(c *Config) { *c = Config{Default: Recipients{Webhook: "https://chat.example/h"}} }, ""},
		{"log only", func(c *Config) { *c = Config{LogOnly: true} }, ""},
		{"no recipients", func(c *Config) { c.Default = Recipients{} }, "no recipients"},
		{"route without recipients", func(c *Config) { c.Routes = map[string]Recipients{"head": {}} }, `route "head": no recipients`},
		{"no smtp", func(c *Config) { c.SMTP = "" }, "need an smtp server"},
		{"no from", func(c *Config) { c.From = "" }, "need a from address"},
		{"bad from", func(c *Config) { c.From = "Hearken <h@school.example>" }, "from: not a bare email address"},
		{"bad to", func(c *Config) { c.Default.To = []string{"dsl"} }, "to[0]: not a bare email address"},
		{"header injection", func(c *Config) { c.Default.To = []string{"a@b.example\r\nBcc: x@y.example"} }, "to[0]"},
		{"route's bad to", func(c *Config) { c.Routes = map[string]Recipients{"head": {To: []string{"x"}}} }, `route "head": to[0]`},
		{"scheme", func(c *Config) { c.SMTP = "http://mail.school.example" }, `scheme must be "smtps://" or "smtp://"`},
		{"not a URL", func(c *Config) { c.SMTP = "mail.school.example:587" }, "smtp:"},
		{"password in URL", func(c *Config) { c.SMTP = "smtp://u:p@mail.school.example" }, "no user or password in the URL"},
		{"path", func(c *Config) { c.SMTP = "smtp://mail.school.example/x" }, "only a scheme, a host and a port"},
		{"port", func(c *Config) { c.SMTP = "smtp://mail.school.example:99999" }, "port must be a number"},
		{"no host", func(c *Config) { c.SMTP = "smtp://:25" }, "no host"},
		{"bad host", func(c *Config) { c.SMTP = "smtp://]0" }, "neither a DNS name nor an IP address"},
		{"http webhook", func(c *Config) { c.Default.Webhook = "http://chat.example/h" }, "must be https:// unless the host is loopback"},
		{"loopback http webhook", func(c *Config) { c.Default.Webhook = "http://127.0.0.1:8065/h" }, ""},
		{"webhook scheme", func(c *Config) { c.Default.Webhook = "ftp://chat.example/h" }, "webhook:"},
		{"username alone", func(c *Config) { c.Username = "u" }, "a username needs a password"},
		{"password alone", func(c *Config) { c.Password = NewPassword("p") }, "a password needs a username"},
		{"negative window", func(c *Config) { c.Every = -time.Second }, "must be positive"},
		{"school with newline", func(c *Config) { c.School = "A\nB" }, "control character"},
		{"long school", func(c *Config) { c.School = strings.Repeat("x", 201) }, "longer than 200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.edit(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNotes(t *testing.T) {
	for url, want := range map[string]string{
		"smtp://mail.school.example":  "STARTTLS will be required",
		"smtp://localhost:25":         "without TLS",
		"smtp://[::1]:25":             "without TLS",
		"smtps://mail.school.example": "",
	} {
		c := mailConfig(url)
		notes := strings.Join(c.Notes(), "\n")
		if (want == "") != (notes == "") || !strings.Contains(notes, want) {
			t.Errorf("%s: notes %q, want %q", url, notes, want)
		}
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST.": true, "127.0.0.1": true, "127.0.0.2": true, "::1": true,
		"mail.school.example": false, "localhost.school.example": false, "10.0.0.1": false,
		"192.0.2.2": false, "0.0.0.0": false, "::": false, "::ffff:127.0.0.1": true,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v", host, got)
		}
	}
}

func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for content, want := range map[string]string{
		"s3cret\n":   "s3cret",
		"s3cret\r\n": "s3cret",
		"s3cret":     "s3cret",
		" spaced ":   " spaced ",
	} {
		p, err := ReadPasswordFile(write("ok", content))
		if err != nil || p.reveal() != want {
			t.Errorf("%q: %q, %v", content, p.reveal(), err)
		}
	}
	for content, want := range map[string]string{
		"":                        "is empty",
		"\n":                      "is empty",
		"CANARY-PW\nline2\n":      "more than one line",
		strings.Repeat("x", 2000): "larger than",
	} {
		_, err := ReadPasswordFile(write("bad", content))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.20q: %v, want %q", content, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "CANARY") {
			t.Errorf("the error quotes the file: %v", err)
		}
	}
	if _, err := ReadPasswordFile(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "failed to read password file") {
		t.Errorf("missing file: %v", err)
	}
}

// TestPasswordUnprintable shows a password prints under no verb, on a
// value as on a pointer, nested anywhere.
func TestPasswordUnprintable(t *testing.T) {
	const secret = "canary-password-7Hq2"
	testkit.Unprintable(t, NewPassword(secret), [][]byte{[]byte(secret)}, secret)
}
