package alert

import (
	"net"
	"strings"
	"testing"
)

func FuzzParseServer(f *testing.F) {
	for _, s := range []string{"smtp://mail.example:587", "smtps://mail.example", "smtp://[::1]:25", "smtp://u:p@h", "smtp://h/x?y", "smtps://:0", "smtp://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// Errors never echo the URL: a canary anywhere in it stays out.
		for _, in := range []string{raw + "Zq9Canary", "smtp://" + raw + "Zq9Canary", "Zq9Canary" + raw} {
			if _, err := parseServer(in); err != nil && strings.Contains(err.Error(), "Zq9Canary") {
				t.Fatalf("the error echoes its input: %v", err)
			}
		}
		s, err := parseServer(raw)
		if err != nil {
			return
		}
		host, port, err := net.SplitHostPort(s.addr)
		if err != nil || host != s.host || !validHost(host) || port == "" {
			t.Fatalf("%q parsed to %+v", raw, s)
		}
		if strings.Contains(raw, "@") {
			t.Fatalf("%q accepted with user info", raw)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	for _, s := range []string{"https://chat.example/hooks/x", "http://127.0.0.1:8065/h", "http://chat.example/h", "ftp://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := parseWebhook(raw)
		if err != nil {
			return
		}
		if !validHost(u.Hostname()) || u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname())) {
			t.Fatalf("%q accepted", raw)
		}
	})
}
