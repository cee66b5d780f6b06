package onion

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeTor is a control port that answers each command with a scripted reply.
type fakeTor struct {
	t        *testing.T
	addr     string
	cookie   []byte
	cookieAt string
	// answer returns the reply to one command line; "" closes the connection.
	answer func(cmd string) string
	got    chan string
	done   chan struct{}
}

func newFakeTor(t *testing.T, network string, answer func(f *fakeTor, cmd string) string) *fakeTor {
	t.Helper()
	dir := t.TempDir()
	f := &fakeTor{t: t, cookie: []byte("0123456789abcdef0123456789abcdef"), cookieAt: filepath.Join(dir, "control_auth_cookie"), got: make(chan string, 100), done: make(chan struct{})}
	if err := os.WriteFile(f.cookieAt, f.cookie, 0o600); err != nil {
		t.Fatal(err)
	}
	f.answer = func(cmd string) string { return answer(f, cmd) }
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(dir, "c.sock")
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); close(f.done) })
	f.addr = l.Addr().String()
	if network == "unix" {
		f.addr = "unix:" + f.addr
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeTor) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimSuffix(line, "\r\n")
		f.got <- cmd
		out := f.answer(cmd)
		if out == "" {
			return
		}
		c.Write([]byte(out))
	}
}

// safeCookieTor answers like a tor with cookie authentication; lie makes it
// get the server hash wrong.
func safeCookieTor(lie bool, more func(cmd string) string) func(f *fakeTor, cmd string) string {
	return func(f *fakeTor, cmd string) string {
		switch {
		case cmd == "PROTOCOLINFO 1":
			path := strings.ReplaceAll(f.cookieAt, `\`, `\\`)
			return "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=\"" + path + "\"\r\n250-VERSION Tor=\"0.4.9.11\"\r\n250 OK\r\n"
		case strings.HasPrefix(cmd, "AUTHCHALLENGE SAFECOOKIE "):
			cn, _ := hex.DecodeString(strings.TrimPrefix(cmd, "AUTHCHALLENGE SAFECOOKIE "))
			sn := []byte("fedcba9876543210fedcba9876543210")
			h := hmac.New(sha256.New, []byte(serverToController))
			h.Write(f.cookie)
			h.Write(cn)
			h.Write(sn)
			sh := h.Sum(nil)
			if lie {
				sh[0] ^= 1
			}
			return fmt.Sprintf("250 AUTHCHALLENGE SERVERHASH=%X SERVERNONCE=%X\r\n", sh, sn)
		case strings.HasPrefix(cmd, "AUTHENTICATE "):
			return "250 OK\r\n"
		}
		return more(cmd)
	}
}

func TestControlSafeCookie(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			var wantAuth string
			f := newFakeTor(t, network, safeCookieTor(false, func(cmd string) string {
				switch cmd {
				case "GETINFO version status/bootstrap-phase ns/all":
					return "650 STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED\r\n" +
						"250-version=0.4.9.11\r\n250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"\r\n" +
						"250+ns/all=\r\nr relay1 x\r\n..dot\r\ns Running\r\n.\r\n250 OK\r\n"
				case "SETEVENTS HS_DESC":
					return "250 OK\r\n650 HS_DESC UPLOAD abc UNKNOWN $AA\r\n"
				case "GETINFO nonsense":
					return "552 Unrecognized key \"nonsense\"\r\n"
				}
				return "510 Unrecognized command\r\n"
			}))
			ctx := context.Background()
			c, err := DialControl(ctx, f.addr, "")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for cmd := range len(f.got) {
				got := <-f.got
				if cmd == 2 {
					wantAuth = got
				}
			}
			// The AUTHENTICATE line is the client's SAFECOOKIE hash, not the cookie.
			if !strings.HasPrefix(wantAuth, "AUTHENTICATE ") || strings.Contains(wantAuth, hex.EncodeToString(f.cookie)) {
				t.Errorf("authenticated with %q", wantAuth)
			}
			v, err := c.GetInfo(ctx, "version", "status/bootstrap-phase", "ns/all")
			if err != nil {
				t.Fatal(err)
			}
			if v["version"] != "0.4.9.11" || !strings.Contains(v["status/bootstrap-phase"], "PROGRESS=100") || v["ns/all"] != "r relay1 x\n.dot\ns Running" {
				t.Errorf("GetInfo = %q", v)
			}
			if err := c.SetEvents(ctx, "HS_DESC"); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED", "HS_DESC UPLOAD abc UNKNOWN $AA"} {
				if ev, err := c.NextEvent(ctx); err != nil || ev != want {
					t.Errorf("NextEvent = %q, %v; want %q", ev, err, want)
				}
			}
			var ce *ControlError
			if _, err := c.GetInfo(ctx, "nonsense"); !errors.As(err, &ce) || ce.Code != 552 || !strings.Contains(err.Error(), "Unrecognized key") {
				t.Errorf("GetInfo = %v, want tor's 552", err)
			}
			if _, err := c.GetInfo(ctx, "a b"); err == nil {
				t.Error("GetInfo took a key with a space")
			}
			if err := c.SetEvents(ctx, "CIRC\r\nSIGNAL HALT"); err == nil {
				t.Error("SetEvents took a second line")
			}
		})
	}
}

func TestControlRefusesLiar(t *testing.T) {
	f := newFakeTor(t, "tcp", safeCookieTor(true, func(string) string { return "" }))
	_, err := DialControl(context.Background(), f.addr, "")
	if !errors.Is(err, ErrControlAuth) {
		t.Fatalf("DialControl = %v, want ErrControlAuth", err)
	}
	close(f.got)
	for cmd := range f.got {
		if strings.HasPrefix(cmd, "AUTHENTICATE") {
			t.Errorf("sent %q to a control port that does not know the cookie", cmd)
		}
	}
}

func TestControlPlainCookieOnly(t *testing.T) {
	f := newFakeTor(t, "tcp", func(f *fakeTor, cmd string) string {
		return "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE COOKIEFILE=\"" + f.cookieAt + "\"\r\n250 OK\r\n"
	})
	if _, err := DialControl(context.Background(), f.addr, ""); !errors.Is(err, ErrControlAuth) {
		t.Fatalf("DialControl = %v, want ErrControlAuth", err)
	}
	close(f.got)
	for cmd := range f.got {
		if strings.HasPrefix(cmd, "AUTHENTICATE") {
			t.Errorf("sent %q: plain COOKIE would hand over the file", cmd)
		}
	}
}

func TestControlPasswordAndNull(t *testing.T) {
	const password = "canary-Passw0rd"
	f := newFakeTor(t, "tcp", func(f *fakeTor, cmd string) string {
		switch {
		case cmd == "PROTOCOLINFO 1":
			return "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=HASHEDPASSWORD\r\n250 OK\r\n"
		case cmd == "AUTHENTICATE "+hex.EncodeToString([]byte(password)):
			return "250 OK\r\n"
		case strings.HasPrefix(cmd, "AUTHENTICATE "):
			return "515 Authentication failed: " + strings.TrimPrefix(cmd, "AUTHENTICATE ") + "\r\n"
		}
		return "510 Unrecognized command\r\n"
	})
	ctx := context.Background()
	c, err := DialControl(ctx, f.addr, password)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err = DialControl(ctx, f.addr, "")
	if !errors.Is(err, ErrControlAuth) || !strings.Contains(err.Error(), "password") {
		t.Errorf("no password: %v", err)
	}
	_, err = DialControl(ctx, f.addr, "wrong-canary")
	var ce *ControlError
	if !errors.Is(err, ErrControlAuth) || !errors.As(err, &ce) || ce.Code != 515 {
		t.Errorf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), hex.EncodeToString([]byte("wrong-canary"))) {
		t.Errorf("the error echoes the password: %v", err)
	}

	null := newFakeTor(t, "tcp", func(f *fakeTor, cmd string) string {
		switch cmd {
		case "PROTOCOLINFO 1":
			return "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n250 OK\r\n"
		case "AUTHENTICATE":
			return "250 OK\r\n"
		}
		return "510 Unrecognized command\r\n"
	})
	c, err = DialControl(ctx, null.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestAddClientAuth(t *testing.T) {
	k := alice(t)
	var codes = []string{"250 OK", "251 Client for onion existed and replaced", "252 Registered client and decrypted desc", "512 Failed to decode x25519:" + alicePrivB64}
	i := 0
	f := newFakeTor(t, "tcp", safeCookieTor(false, func(cmd string) string {
		if cmd != "ONION_CLIENT_AUTH_ADD "+torProjectID+" x25519:"+alicePrivB64 {
			return "512 unexpected\r\n"
		}
		i++
		return codes[i-1] + "\r\n"
	}))
	ctx := context.Background()
	c, err := DialControl(ctx, f.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		if err := c.AddClientAuth(ctx, strings.ToUpper(torProjectURL), k); err != nil {
			t.Fatalf("AddClientAuth: %v", err)
		}
	}
	err = c.AddClientAuth(ctx, torProjectURL, k)
	var ce *ControlError
	if !errors.As(err, &ce) || ce.Code != 512 {
		t.Fatalf("AddClientAuth = %v, want tor's 512", err)
	}
	if strings.Contains(err.Error(), alicePrivB64[:10]) {
		t.Errorf("the error echoes the key: %v", err)
	}
	if err := c.AddClientAuth(ctx, "example.onion", k); !errors.Is(err, ErrBadAddress) {
		t.Errorf("AddClientAuth with a bad address = %v", err)
	}
}

func TestControlLimitsAndTimeouts(t *testing.T) {
	var f *fakeTor
	f = newFakeTor(t, "tcp", safeCookieTor(false, func(cmd string) string {
		switch cmd {
		case "GETINFO long":
			return "250-long=" + strings.Repeat("x", maxLine+10) + "\r\n250 OK\r\n"
		case "GETINFO slow":
			<-f.done // never answers; the client's deadline ends the wait
		}
		return "250-" + strings.TrimPrefix(cmd, "GETINFO ") + "=1\r\n250 OK\r\n"
	}))
	ctx := context.Background()
	c, err := DialControl(ctx, f.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.GetInfo(ctx, "long"); !errors.Is(err, errProtocol) {
		t.Errorf("an over-long line: %v", err)
	}
	if _, err := c.GetInfo(ctx, "version"); err == nil {
		t.Error("the connection was used after a broken reply")
	}

	c, err = DialControl(ctx, f.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := c.GetInfo(short, "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a silent tor: %v", err)
	}

	if _, err := DialControl(ctx, "unix:"+filepath.Join(t.TempDir(), "none"), ""); !errors.Is(err, ErrNoControl) {
		t.Errorf("no control port: %v", err)
	}
}

func TestReadReply(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		code int
	}{
		{"250 OK\r\n", true, 250},
		{"250-a=1\r\n250 OK\r\n", true, 250},
		{"250+a=\r\nx\r\n.\r\n250 OK\r\n", true, 250},
		{"650 CIRC 1 BUILT\r\n", true, 650},
		{"250-a=1\r\n251 OK\r\n", false, 0},                                  // codes differ
		{"25 OK\r\n", false, 0},                                              // short
		{"abc OK\r\n", false, 0},                                             // not a code
		{"250*OK\r\n", false, 0},                                             // bad separator
		{"250+a=\r\nx\r\n", false, 0},                                        // unterminated data
		{"250 O\x00K\r\n", false, 0},                                         // control character
		{"250-a=1\r\n", false, 0},                                            // no final line
		{"250 OK", false, 0},                                                 // no line end
		{strings.Repeat("250-a\r\n", maxReply/7+1) + "250 OK\r\n", false, 0}, // too big
	} {
		r, err := readReply(bufio.NewReader(strings.NewReader(tc.in)))
		if (err == nil) != tc.ok || r.code != tc.code {
			t.Errorf("readReply(%.40q) = %d, %v", tc.in, r.code, err)
		}
	}
}

func TestParseKV(t *testing.T) {
	kv, err := parseKV(`METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/a b/\"c\\d\101" word X=`)
	if err != nil || kv["METHODS"] != "COOKIE,SAFECOOKIE" || kv["COOKIEFILE"] != `/a b/"c\dA` || kv["X"] != "" {
		t.Errorf("parseKV = %q, %v", kv, err)
	}
	for _, s := range []string{`A="open`, `A="bad\`, `A="\19"`} {
		if _, err := parseKV(s); err == nil {
			t.Errorf("parseKV(%q) succeeded", s)
		}
	}
}

func FuzzReadReply(f *testing.F) {
	f.Add([]byte("250-PROTOCOLINFO 1\r\n250-AUTH METHODS=SAFECOOKIE COOKIEFILE=\"/x\"\r\n250 OK\r\n"))
	f.Add([]byte("250+ns/all=\r\nr a\r\n..b\r\n.\r\n250 OK\r\n"))
	f.Add([]byte("650 HS_DESC UPLOADED x UNKNOWN $AA\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := readReply(bufio.NewReader(strings.NewReader(string(b))))
		if err != nil {
			return
		}
		if r.code < 0 || r.code > 999 || len(r.lines) == 0 {
			t.Fatalf("reply %+v from %q", r, b)
		}
		for _, l := range r.lines {
			if _, err := parseKV(l.text); err != nil {
				continue
			}
		}
	})
}
