package alert

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/rs/zerolog"
)

// DefaultEvery is the batching window used when Config.Every is zero.
const DefaultEvery = time.Hour

// maxSchool bounds the school name, which is the one configured text in an
// alert.
const maxSchool = 200

// Config says where alerts go and how often.
type Config struct {
	// SMTP is the mail server: "smtps://host[:port]" (implicit TLS, port 465
	// by default) or "smtp://host[:port]" (port 587 by default), which
	// requires STARTTLS unless the host is loopback. Needed when any
	// Recipients has To.
	SMTP string
	// Username and Password, if set, authenticate to the mail server (AUTH
	// PLAIN or LOGIN, only ever over TLS or to a loopback server).
	Username string
	Password Password
	// From is the sender's address.
	From string
	// Default receives the alerts of every route not in Routes.
	Default Recipients
	// Routes gives a route recipients of its own, who are the only ones
	// alerted about it.
	Routes map[string]Recipients
	// School is named in the activity alert.
	School string
	// Every is the batching window for activity alerts (DefaultEvery if
	// zero).
	Every time.Duration
	// RootCAs, if set, replaces the system's roots for verifying the mail
	// server and webhooks.
	RootCAs *x509.CertPool
	// Sockets maps a destination, "host:port" as the smtp or webhook URL
	// names it with the port written out, to a unix socket that leads
	// there: a forwarder outside the sender's sandbox (such as
	// deploy/hearken-alert-relay.socket) for an intake server that has no
	// network of its own (PrivateNetwork=yes). Only the way there changes:
	// TLS, the certificate checked against the host, STARTTLS required, all
	// stay as for a direct connection; and plain SMTP or http:// never goes
	// through a socket, since it could lead anywhere.
	Sockets map[string]string
	// LogOnly writes each alert to Log as "alert sent" with its kind instead
	// of sending it: `intake serve --demo`, which has nobody to alert.
	LogOnly bool
	// Log receives failures, lost alerts and, with LogOnly, the alerts.
	Log zerolog.Logger
}

// Recipients is where one set of routes' alerts go: mail addresses, a chat
// webhook (a JSON POST of {"text": ...}), or both.
type Recipients struct {
	To      []string
	Webhook string
}

func (r Recipients) empty() bool { return len(r.To) == 0 && r.Webhook == "" }

// Validate reports every problem with c, one per line. It does not contact
// any server.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Every < 0 {
		add("the batching window must be positive")
	}
	if err := checkSchool(c.School); err != nil {
		errs = append(errs, err)
	}
	if c.LogOnly {
		return errors.Join(errs...)
	}
	needSMTP := len(c.Default.To) > 0
	if c.Default.empty() && len(c.Routes) == 0 {
		add("no recipients: give at least one address or a webhook")
	}
	check := func(where string, r Recipients) {
		for i, a := range r.To {
			if err := checkAddress(a); err != nil {
				add("%sto[%d]: %v", where, i, err)
			}
		}
		if r.Webhook != "" {
			if _, err := parseWebhook(r.Webhook); err != nil {
				add("%swebhook: %v", where, err)
			}
		}
	}
	check("", c.Default)
	for name, r := range c.Routes {
		where := fmt.Sprintf("route %q: ", name)
		if r.empty() {
			add("%sno recipients: give at least one address or a webhook", where)
		}
		needSMTP = needSMTP || len(r.To) > 0
		check(where, r)
	}
	switch {
	case c.SMTP != "":
		if _, err := parseServer(c.SMTP); err != nil {
			add("smtp: %v", err)
		}
	case needSMTP:
		add("mail recipients need an smtp server")
	}
	switch {
	case c.From != "":
		if err := checkAddress(c.From); err != nil {
			add("from: %v", err)
		}
	case needSMTP:
		add("mail recipients need a from address")
	}
	errs = append(errs, c.checkSockets()...)
	switch {
	case c.Username != "" && !c.Password.set():
		add("a username needs a password")
	case c.Username == "" && c.Password.set():
		add("a password needs a username")
	case strings.ContainsAny(c.Username, "\x00\r\n"):
		add("the username holds a control character")
	}
	return errors.Join(errs...)
}

// Notes returns remarks on a valid config that an operator should read,
// such as that STARTTLS will be required.
func (c *Config) Notes() []string {
	if c.LogOnly {
		return nil
	}
	var notes []string
	for _, dest := range slices.Sorted(maps.Keys(c.Sockets)) {
		notes = append(notes, fmt.Sprintf("alerts to %s go through the unix socket %s", dest, c.Sockets[dest]))
	}
	s, err := parseServer(c.SMTP)
	if c.SMTP == "" || err != nil {
		return notes
	}
	_, viaSocket := c.Sockets[s.addr]
	switch {
	case s.implicitTLS:
	case loopbackHost(s.host) && !viaSocket:
		notes = append(notes, "the mail server is on this machine: mail goes to it without TLS")
	default:
		notes = append(notes, "smtp:// to a server on another machine or through a socket: STARTTLS will be required, with a valid certificate for "+s.host)
	}
	return notes
}

// destinations returns the "host:port" of the mail server and of every
// webhook, as the dialer is asked for them.
func (c *Config) destinations() map[string]bool {
	d := map[string]bool{}
	if s, err := parseServer(c.SMTP); err == nil && c.SMTP != "" {
		d[s.addr] = true
	}
	hooks := []string{c.Default.Webhook}
	for _, r := range c.Routes {
		hooks = append(hooks, r.Webhook)
	}
	for _, h := range hooks {
		if u, err := parseWebhook(h); err == nil && h != "" {
			port := u.Port()
			if port == "" {
				port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
			}
			d[net.JoinHostPort(strings.ToLower(u.Hostname()), port)] = true
		}
	}
	return d
}

// checkSockets checks Sockets: each a destination in use, each an
// absolute path.
func (c *Config) checkSockets() []error {
	var errs []error
	dests := c.destinations()
	for _, dest := range slices.Sorted(maps.Keys(c.Sockets)) {
		host, port, err := net.SplitHostPort(dest)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil || n < 1 || n > 65535 || !validHost(host):
			errs = append(errs, fmt.Errorf("sockets: %q is not a host and port, like \"mail.school.example:587\"", dest))
		case !dests[normalAddr(dest)]:
			errs = append(errs, fmt.Errorf("sockets: %q is neither the smtp server nor a webhook (give host:port as in their URLs, with the port)", dest))
		}
		if p := c.Sockets[dest]; !filepath.IsAbs(p) {
			errs = append(errs, fmt.Errorf("sockets: the socket for %q must be an absolute path", dest))
		}
	}
	return errs
}

// normalAddr writes "host:port" with the host in lower case, as the
// dialer is asked for it.
func normalAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return net.JoinHostPort(strings.ToLower(host), port)
}

// viaSockets returns a dialer that reaches the destinations in sockets
// through their unix sockets, and anything else as dial does.
func viaSockets(dial dialFunc, sockets map[string]string) dialFunc {
	if len(sockets) == 0 {
		return dial
	}
	byAddr := map[string]string{}
	for dest, path := range sockets {
		byAddr[normalAddr(dest)] = path
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if path, ok := byAddr[normalAddr(addr)]; ok {
			return dial(ctx, "unix", path)
		}
		return dial(ctx, network, addr)
	}
}

func checkSchool(s string) error {
	if len(s) > maxSchool {
		return fmt.Errorf("the school name is longer than %d bytes", maxSchool)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return errors.New("the school name holds a control character or invalid text")
		}
	}
	return nil
}

// checkAddress accepts a bare address (no display name), which is all a
// header or an SMTP envelope needs.
func checkAddress(a string) error {
	p, err := mail.ParseAddress(a)
	if err != nil || p.Name != "" || p.Address != a || !strings.Contains(a, "@") {
		return errors.New("not a bare email address such as dsl@school.example")
	}
	for _, r := range a {
		if r > unicode.MaxASCII {
			return errors.New("only ASCII addresses are supported")
		}
	}
	return nil
}

// server is a parsed SMTP URL.
type server struct {
	host        string // without brackets
	addr        string // host:port to dial
	implicitTLS bool
}

func parseServer(raw string) (server, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return server{}, errors.New(`not a URL such as "smtps://mail.school.example" or "smtp://mail.school.example:587"`)
	}
	var s server
	port := ""
	switch u.Scheme {
	case "smtps":
		s.implicitTLS, port = true, "465"
	case "smtp":
		port = "587"
	default:
		return server{}, errors.New(`the scheme must be "smtps://" or "smtp://"`)
	}
	if u.User != nil {
		return server{}, errors.New("no user or password in the URL: use username and a password file")
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return server{}, errors.New("only a scheme, a host and a port are allowed")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return server{}, errors.New("no host")
	}
	if !validHost(s.host) {
		return server{}, errors.New("the host is neither a DNS name nor an IP address")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return server{}, errors.New("the port must be a number from 1 to 65535")
		}
		port = p
	}
	s.addr = net.JoinHostPort(s.host, port)
	return s, nil
}

// parseWebhook accepts https URLs, and http ones only to a loopback host.
func parseWebhook(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, errors.New(`not a URL such as "https://chat.school.example/hooks/..."`)
	}
	if !validHost(u.Hostname()) {
		return nil, errors.New("the host is neither a DNS name nor an IP address")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errors.New("the port must be a number from 1 to 65535")
		}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopbackHost(u.Hostname()) {
			return nil, errors.New("must be https:// unless the host is loopback")
		}
	default:
		return nil, errors.New(`the scheme must be "https://"`)
	}
	return u, nil
}

// validHost accepts an IP address or a DNS name of letters, digits and
// hyphens.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// loopbackHost says whether a configured host names this machine: "localhost"
// or a loopback IP literal (127.0.0.0/8, ::1). A name that merely resolves to
// a loopback address does not count: what it resolves to can change. The
// connection's peer is checked as well (see peerIsLoopback).
func loopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// peerIsLoopback says whether a connection really goes to this machine.
func peerIsLoopback(c net.Conn) bool {
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// Password is the mail server's password. It prints as [REDACTED] under
// every formatting verb and encoding.
type Password struct{ p *string }

// NewPassword wraps a password the caller read from a file.
func NewPassword(s string) Password { return Password{&s} }

func (p Password) set() bool { return p.p != nil && *p.p != "" }

func (p Password) reveal() string {
	if p.p == nil {
		return ""
	}
	return *p.p
}

// String returns "[REDACTED]".
func (Password) String() string { return "[REDACTED]" }

// GoString returns "[REDACTED]", for %#v.
func (Password) GoString() string { return "[REDACTED]" }

// Format prints "[REDACTED]" for every verb.
func (Password) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }

// MarshalText returns "[REDACTED]", so encoders such as JSON reveal nothing.
func (Password) MarshalText() ([]byte, error) { return []byte("[REDACTED]"), nil }

// maxPassword bounds a password file.
const maxPassword = 1024

// ReadPasswordFile reads a password from a file holding it alone, such as a
// systemd credential. One trailing newline is dropped. Errors never quote
// the file's contents.
func ReadPasswordFile(path string) (Password, error) {
	f, err := os.Open(path)
	if err != nil {
		return Password{}, fmt.Errorf("failed to read password file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPassword+1))
	if err != nil {
		return Password{}, fmt.Errorf("failed to read password file: %w", err)
	}
	if len(b) > maxPassword {
		return Password{}, fmt.Errorf("password file %s is larger than %d bytes", path, maxPassword)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return Password{}, fmt.Errorf("password file %s is empty", path)
	}
	if strings.ContainsAny(s, "\x00\r\n") {
		return Password{}, fmt.Errorf("password file %s holds more than one line", path)
	}
	return NewPassword(s), nil
}
