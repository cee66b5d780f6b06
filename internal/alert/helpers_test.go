package alert

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// python is Debian's interpreter, which has python3-aiosmtpd; a pyenv
// python3 earlier on PATH may not.
const python = "/usr/bin/python3"

// guard bounds every wait in these tests. Nothing is expected to take
// anywhere near it: it only turns a hang into a failure.
const guard = 30 * time.Second

// smtpd is a real SMTP server (testdata/smtpd.py on aiosmtpd) run by a test.
type smtpd struct {
	t      *testing.T
	host   string
	port   int
	pool   *x509.CertPool // to reach it over implicit TLS, if it speaks it
	msgs   chan message
	events chan string
	syncN  atomic.Int64
}

type message struct {
	raw  []byte
	meta struct {
		MailFrom      string   `json:"mail_from"`
		RcptTos       []string `json:"rcpt_tos"`
		TLS           bool     `json:"tls"`
		Authenticated bool     `json:"authenticated"`
		Helo          string   `json:"helo"`
	}
}

type smtpdOptions struct {
	host       string // default 127.0.0.1
	port       int    // default: any free port
	starttls   *keyPair
	smtps      *keyPair
	pool       *x509.CertPool // with smtps: the roots its certificate chains to
	authUser   string
	authPass   string
	authMechs  []string
	rejectRcpt string
}

type keyPair struct{ cert, key string }

func startSMTPD(t *testing.T, o smtpdOptions) *smtpd {
	t.Helper()
	if _, err := exec.Command(python, "-c", "import aiosmtpd").CombinedOutput(); err != nil {
		t.Fatalf("these tests need Debian's python3-aiosmtpd (apt-get install python3-aiosmtpd): %v", err)
	}
	if o.host == "" {
		o.host = "127.0.0.1"
	}
	out := t.TempDir()
	args := []string{"testdata/smtpd.py", "--host", o.host, "--port", strconv.Itoa(o.port), "--out", out}
	if o.starttls != nil {
		args = append(args, "--starttls", o.starttls.cert, o.starttls.key)
	}
	if o.smtps != nil {
		args = append(args, "--smtps", o.smtps.cert, o.smtps.key)
	}
	if o.authUser != "" {
		pf := filepath.Join(t.TempDir(), "pass")
		if err := os.WriteFile(pf, []byte(o.authPass), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--auth", o.authUser, pf)
		if len(o.authMechs) > 0 {
			args = append(args, append([]string{"--auth-mechs"}, o.authMechs...)...)
		}
	}
	if o.rejectRcpt != "" {
		args = append(args, "--reject-rcpt", o.rejectRcpt)
	}
	cmd := exec.Command(python, args...)
	// aiosmtpd logs every refused handshake with a traceback: keep it for
	// a failing test only.
	stderr := &logBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("smtpd.py's stderr:\n%s", stderr)
		}
	})
	s := &smtpd{t: t, host: o.host, msgs: make(chan message, 100), events: make(chan string, 1000)}
	if o.smtps != nil {
		s.pool = o.pool
	}
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			verb, rest, _ := strings.Cut(sc.Text(), " ")
			switch verb {
			case "READY":
				port, _ := strconv.Atoi(rest)
				ready <- port
			case "EVENT":
				s.events <- rest
			case "MESSAGE":
				var m message
				raw, err := os.ReadFile(rest)
				if err == nil {
					var meta []byte
					meta, err = os.ReadFile(rest + ".json")
					if err == nil {
						err = json.Unmarshal(meta, &m.meta)
					}
				}
				if err != nil {
					panic(err)
				}
				m.raw = raw
				s.msgs <- m
			}
		}
		close(ready)
	}()
	select {
	case port, ok := <-ready:
		if !ok {
			t.Fatal("smtpd.py exited before it was ready")
		}
		s.port = port
	case <-time.After(guard):
		t.Fatal("smtpd.py did not start")
	}
	return s
}

// count returns how many of events are cmd.
func count(events []string, cmd string) int {
	n := 0
	for _, e := range events {
		if e == cmd {
			n++
		}
	}
	return n
}

func (s *smtpd) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// next returns the next message the server accepts.
func (s *smtpd) next() message {
	s.t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(guard):
		s.t.Fatal("no message arrived")
		return message{}
	}
}

// sync returns the commands the server has seen since the last sync. It
// sends a marker EHLO of its own and reads events up to it, so everything
// the server saw before is in the answer, without any waiting on time.
func (s *smtpd) sync() []string {
	s.t.Helper()
	marker := fmt.Sprintf("sync-%d", s.syncN.Add(1))
	var conn net.Conn
	var err error
	if s.pool != nil {
		conn, err = tls.Dial("tcp", s.addr(), &tls.Config{RootCAs: s.pool, ServerName: "mail.hearken.test"})
	} else {
		conn, err = net.Dial("tcp", s.addr())
	}
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil { // greeting
		s.t.Fatal(err)
	}
	fmt.Fprintf(conn, "EHLO %s\r\n", marker)
	var seen []string
	for {
		select {
		case e := <-s.events:
			if e == "EHLO "+marker {
				return seen
			}
			seen = append(seen, e)
		case <-time.After(guard):
			s.t.Fatal("smtpd.py did not answer")
		}
	}
}

// testCA is a certificate authority made for one test.
type testCA struct {
	t    *testing.T
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Hearken test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{t: t, cert: cert, key: key, pool: pool}
}

// issue writes a server certificate for names and its key to PEM files.
func (ca *testCA) issue(names ...string) *keyPair {
	t := ca.t
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kp := &keyPair{cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(kp.cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kp.key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return kp
}

// mapDial returns a dialer that reaches the hosts in names (host:port ->
// real address) and anything else as usual: how a test reaches
// "mail.hearken.test", a name that is not loopback, on a local server.
func mapDial(names map[string]string) dialFunc {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if real, ok := names[addr]; ok {
			addr = real
		}
		return d.DialContext(ctx, network, addr)
	}
}

// fakeClock is a clock that moves only when the test sets it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

var epoch = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func newFakeClock() *fakeClock { return &fakeClock{now: epoch} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Timer(at time.Time) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ft := &fakeTimer{at: at, c: make(chan time.Time, 1)}
	if !at.After(c.now) {
		ft.c <- c.now
		return ft.c, func() {}
	}
	c.timers = append(c.timers, ft)
	return ft.c, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.timers {
			if x == ft {
				c.timers = append(c.timers[:i], c.timers[i+1:]...)
				return
			}
		}
	}
}

// set moves the clock to now and fires the timers due by then. It returns
// how many fired: none means no waiting target was woken.
func (c *fakeClock) set(now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	fired := 0
	kept := c.timers[:0]
	for _, ft := range c.timers {
		if !ft.at.After(now) {
			ft.c <- now
			fired++
		} else {
			kept = append(kept, ft)
		}
	}
	c.timers = kept
	return fired
}

// logBuffer collects a dispatcher's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the log lines, decoded.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// harness runs a dispatcher on a fake clock with deterministic randomness
// and collects a report each time one of its targets goes to wait.
type harness struct {
	t     *testing.T
	d     *Dispatcher
	clock *fakeClock
	logs  *logBuffer

	mu      sync.Mutex
	reports []idleReport
	more    chan struct{}
}

type idleReport struct {
	name string
	s    snapshot
}

func newHarness(t *testing.T, cfg Config, dial dialFunc) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(), logs: &logBuffer{}, more: make(chan struct{}, 1)}
	cfg.Log = zerolog.New(h.logs)
	if dial == nil {
		dial = mapDial(nil)
	}
	var seed atomic.Uint64
	d, err := newDispatcher(cfg, options{
		clock:   h.clock,
		newRand: func() *mrand.Rand { n := seed.Add(1); return mrand.New(mrand.NewPCG(n, n*7919)) },
		dial:    dial,
		idle: func(name string, s snapshot) {
			h.mu.Lock()
			h.reports = append(h.reports, idleReport{name, s})
			h.mu.Unlock()
			select {
			case h.more <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	t.Cleanup(func() { _ = d.Shutdown(context.Background()) })
	return h
}

// waitIdle returns the first report that satisfies ok from the target
// named name: "mail" (or "webhook", "log") alone, or followed by " for " and
// the recipients it serves, as in `mail for route "head"`. That target's
// earlier reports are dropped; other targets' are kept for their turn.
func (h *harness) waitIdle(name string, ok func(snapshot) bool) snapshot {
	h.t.Helper()
	deadline := time.After(guard)
	for {
		h.mu.Lock()
		for i := 0; i < len(h.reports); i++ {
			r := h.reports[i]
			short, _, _ := strings.Cut(r.name, " for ")
			if r.name != name && short != name {
				continue
			}
			h.reports = append(h.reports[:i], h.reports[i+1:]...)
			i--
			if ok(r.s) {
				h.mu.Unlock()
				return r.s
			}
		}
		h.mu.Unlock()
		select {
		case <-h.more:
		case <-deadline:
			h.t.Fatalf("target %s never reached the expected state", name)
		}
	}
}

// stripVarying removes the headers that differ between two alerts of one
// kind, Date and Message-ID, and nothing else.
func stripVarying(t *testing.T, raw []byte) []byte {
	t.Helper()
	var out []byte
	n := 0
	for _, line := range bytes.SplitAfter(raw, []byte("\r\n")) {
		if bytes.HasPrefix(line, []byte("Date: ")) || bytes.HasPrefix(line, []byte("Message-ID: ")) {
			n++
			continue
		}
		out = append(out, line...)
	}
	if n != 2 {
		t.Fatalf("expected one Date and one Message-ID header, removed %d lines", n)
	}
	return out
}

func header(raw []byte, name string) string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return v
		}
		if line == "" {
			break
		}
	}
	return ""
}
