package testkit

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Python is Debian's interpreter, which has python3-aiosmtpd; a pyenv
// python3 earlier on PATH may not.
const Python = "/usr/bin/python3"

//go:embed smtpd.py
var smtpdScript string

// SMTPD is a real SMTP server for a test: smtpd.py on Debian's
// python3-aiosmtpd, in a child process the test's cleanup stops.
type SMTPD struct {
	t      testing.TB
	Host   string
	Port   int
	tls    *tls.Config // to reach it over implicit TLS, if it speaks it
	mails  chan Mail
	events chan string
	syncN  atomic.Int64
}

// Mail is one message the server accepted, exactly as it arrived.
type Mail struct {
	Raw           []byte
	From          string   `json:"mail_from"`
	To            []string `json:"rcpt_tos"`
	TLS           bool     `json:"tls"`
	Authenticated bool     `json:"authenticated"`
	Helo          string   `json:"helo"`
}

// SMTPDOptions configure StartSMTPD. The zero value is a plain server on
// 127.0.0.1 at any free port.
type SMTPDOptions struct {
	Host      string
	Port      int
	STARTTLS  *KeyPair // offer STARTTLS with this certificate
	SMTPS     *KeyPair // implicit TLS with this certificate
	SMTPSName string   // with SMTPS: a name the certificate holds
	Roots     *x509.CertPool
	AuthUser  string // require AUTH with AuthUser and AuthPass
	AuthPass  string
	AuthMechs []string // offer only these of PLAIN and LOGIN
	// RejectRcpt, if set, is the reply to every RCPT, such as "550 ...".
	RejectRcpt string
}

// StartSMTPD starts a server and waits until it listens.
func StartSMTPD(t testing.TB, o SMTPDOptions) *SMTPD {
	t.Helper()
	if out, err := exec.Command(Python, "-c", "import aiosmtpd").CombinedOutput(); err != nil {
		t.Fatalf("this test needs Debian's python3-aiosmtpd (apt-get install python3-aiosmtpd): %v\n%s", err, out)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	dir := t.TempDir()
	args := []string{"-c", smtpdScript, "--host", o.Host, "--port", strconv.Itoa(o.Port), "--out", dir}
	if o.STARTTLS != nil {
		args = append(args, "--starttls", o.STARTTLS.Cert, o.STARTTLS.Key)
	}
	if o.SMTPS != nil {
		args = append(args, "--smtps", o.SMTPS.Cert, o.SMTPS.Key)
	}
	if o.AuthUser != "" {
		pf := filepath.Join(dir, "password")
		if err := os.WriteFile(pf, []byte(o.AuthPass), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--auth", o.AuthUser, pf)
		if len(o.AuthMechs) > 0 {
			args = append(args, append([]string{"--auth-mechs"}, o.AuthMechs...)...)
		}
	}
	if o.RejectRcpt != "" {
		args = append(args, "--reject-rcpt", o.RejectRcpt)
	}
	cmd := exec.Command(Python, args...)
	// aiosmtpd logs every refused handshake with a traceback: keep its
	// output for a failing test only.
	stderr := &Buffer{}
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
	s := &SMTPD{t: t, Host: o.Host, mails: make(chan Mail, 100), events: make(chan string, 1000)}
	if o.SMTPS != nil {
		s.tls = &tls.Config{RootCAs: o.Roots, ServerName: o.SMTPSName}
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
				m, err := readMail(rest)
				if err != nil {
					panic(err) // the test's own files: cannot happen
				}
				s.mails <- m
			}
		}
		close(ready)
	}()
	select {
	case port, ok := <-ready:
		if !ok {
			t.Fatalf("smtpd.py exited before it was ready:\n%s", stderr)
		}
		s.Port = port
	case <-time.After(Patience):
		t.Fatal("smtpd.py did not start")
	}
	return s
}

func readMail(path string) (Mail, error) {
	var m Mail
	meta, err := os.ReadFile(path + ".json")
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(meta, &m); err != nil {
		return m, err
	}
	m.Raw, err = os.ReadFile(path)
	return m, err
}

// Addr is the server's host:port.
func (s *SMTPD) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Next returns the next message the server accepts.
func (s *SMTPD) Next() Mail {
	s.t.Helper()
	select {
	case m := <-s.mails:
		return m
	case <-time.After(Patience):
		s.t.Fatal("no mail arrived")
		return Mail{}
	}
}

// Sync returns the commands the server has seen since the last Sync:
// "EHLO name", "STARTTLS", "AUTH mechanism", "MAIL", "RCPT", "DATA". It
// sends a marker EHLO of its own and reads up to it, so the answer holds
// everything the server saw before, with no waiting on time.
func (s *SMTPD) Sync() []string {
	s.t.Helper()
	marker := fmt.Sprintf("sync-%d", s.syncN.Add(1))
	var conn net.Conn
	var err error
	if s.tls != nil {
		conn, err = tls.Dial("tcp", s.Addr(), s.tls)
	} else {
		conn, err = net.Dial("tcp", s.Addr())
	}
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil { // the greeting
		s.t.Fatal(err)
	}
	fmt.Fprintf(conn, "EHLO %s\r\n", marker)
	var seen []string
	deadline := time.After(Patience)
	for {
		select {
		case e := <-s.events:
			if e == "EHLO "+marker {
				return seen
			}
			seen = append(seen, e)
		case <-deadline:
			s.t.Fatal("smtpd.py did not answer")
		}
	}
}

// Count returns how many of events are cmd.
func Count(events []string, cmd string) int {
	n := 0
	for _, e := range events {
		if e == cmd {
			n++
		}
	}
	return n
}

// CA is a certificate authority made for one test.
type CA struct {
	t    testing.TB
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	Pool *x509.CertPool // holds the CA alone
}

// KeyPair names a certificate's and its key's PEM files.
type KeyPair struct{ Cert, Key string }

// NewCA makes a CA valid for a day.
func NewCA(t testing.TB) *CA {
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
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{t: t, cert: cert, key: key, Pool: pool}
}

var serial atomic.Int64

// Issue writes a server certificate for the DNS names to PEM files.
func (ca *CA) Issue(names ...string) *KeyPair {
	t := ca.t
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1) + 1),
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
	kp := &KeyPair{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(kp.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kp.Key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return kp
}
