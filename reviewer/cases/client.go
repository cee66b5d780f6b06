package cases

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// ErrNotKnown means the server refused the member's signature: the member
// is not in its team files, or this computer's clock is wrong.
var ErrNotKnown = errors.New("this server does not know your key")

// maxResponse bounds what the client reads of one response: a full items
// page (staff.MaxBatchBytes in base64) and its JSON.
const maxResponse = staff.MaxBatchBytes/3*4 + 16<<20

// Client talks to the intake server's staff channel as one member.
type Client struct {
	base   *url.URL
	server string // as the member wrote it, for messages
	hc     *http.Client
	m      *vault.Member
	now    func() time.Time
	tor    *torDialer // nil when the server is dialled directly
	onion  string     // the onion service's id, for an onion server

	// PageSize is how many items one request asks for; at most
	// staff.MaxItems.
	PageSize int
	// Tor says where this computer's tor takes the member's onion key, for
	// an onion server (Config.Tor); Sync gives the key unless ConnectTor
	// already has.
	Tor       TorOptions
	torReport *TorReport
}

// NewClient returns a client for server, which is "http://host:port",
// "https://host", "unix:/path/to/staff.sock" or an onion address (with a
// SOCKS5 proxyURL such as "socks5://127.0.0.1:9050" for Tor). The proxy is
// never used for a unix socket or a server on this computer (dial.go).
func NewClient(server, proxyURL string, m *vault.Member) (*Client, error) {
	addr, err := parseServer(server)
	if err != nil {
		return nil, err
	}
	dial, tor, err := dialerFor(addr, proxyURL)
	if err != nil {
		return nil, err
	}
	// No proxy from the environment: a school's web proxy must not see or
	// relay staff traffic unless asked for explicitly.
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		ResponseHeaderTimeout: 2 * time.Minute,
		TLSHandshakeTimeout:   30 * time.Second,
		MaxIdleConns:          2,
		IdleConnTimeout:       30 * time.Second,
	}
	c := &Client{base: addr.base, server: server, hc: &http.Client{Transport: tr}, m: m, now: time.Now,
		tor: tor, PageSize: staff.MaxItems}
	if addr.onion() {
		c.onion, _ = onion.ServiceID(addr.base.Hostname()) // checked by dialerFor
	}
	return c, nil
}

// Proxied says the client reaches its server through tor's proxy: the one
// it was given, or for an onion server the one it finds. It is false for a
// server on this computer, which is always dialled directly.
func (c *Client) Proxied() bool { return c.tor != nil }

// Onion says the server is an onion service.
func (c *Client) Onion() bool { return c.onion != "" }

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// do sends one signed request and decodes a 200 answer into out.
func (c *Client) do(ctx context.Context, method, path, query string, in, out any) (int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, err
		}
	}
	sig, err := staff.Sign(c.m, method, path, query, c.now(), body)
	if err != nil {
		return 0, fmt.Errorf("failed to sign request: %w", err)
	}
	u := *c.base
	u.Path = path
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range sig.Headers() {
		req.Header.Set(k, v)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, reachError(c.server, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return resp.StatusCode, ErrNotKnown
	case resp.StatusCode != http.StatusOK:
		var se staff.ErrorResponse
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		if json.Unmarshal(data, &se) != nil || se.Error == "" {
			se.Error = http.StatusText(resp.StatusCode)
		}
		if r := []rune(se.Error); len(r) > 200 {
			se.Error = string(r[:200]) + "…"
		}
		return resp.StatusCode, fmt.Errorf("the server refused: %s (HTTP %d)", se.Error, resp.StatusCode)
	}
	if resp.ContentLength > maxResponse {
		return resp.StatusCode, errors.New("the server's answer was too large")
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	lr := &io.LimitedReader{R: resp.Body, N: maxResponse + 1}
	if _, err := buf.ReadFrom(lr); err != nil {
		return resp.StatusCode, fmt.Errorf("the connection broke while receiving (nothing was lost; run sync again): %w", err)
	}
	if lr.N <= 0 {
		return resp.StatusCode, errors.New("the server's answer was too large")
	}
	if page, ok := out.(*itemsPage); ok {
		err = page.decode(buf.Bytes())
	} else {
		err = json.Unmarshal(buf.Bytes(), out)
	}
	if err != nil {
		return resp.StatusCode, fmt.Errorf("the server's answer could not be read (nothing was lost; run sync again): %w", err)
	}
	return resp.StatusCode, nil
}

// Response buffers are reused: an items page is megabytes of base64.
var buffers sync.Pool

func getBuffer() *bytes.Buffer {
	if b, ok := buffers.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 32<<20 {
		return // an unusually large page; let it go
	}
	b.Reset()
	buffers.Put(b)
}

// reachError says in plain words why a request got no answer, naming the
// server as the member configured it.
func reachError(server string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: %w", err)
	}
	var dnsErr *net.DNSError
	var torErr *onion.DialError
	var why string
	switch {
	case errors.As(err, &torErr):
		// tor's own answer, in plain words; the command line adds what to do.
		why = torErr.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		why = "connection refused (is the server running, and is the address right?)"
	case errors.Is(err, syscall.ENOENT):
		why = "there is no such socket (is the server running, and is the path right?)"
	case errors.Is(err, syscall.EACCES):
		why = "permission denied"
	case errors.As(err, &dnsErr):
		why = "the host name could not be found"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return &reachErr{fmt.Sprintf("the connection to the server at %s was cut (nothing was lost; run sync again)", server), err}
	case errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		why = "no answer in time"
	default:
		// The innermost error, without Go's operation and address prefixes.
		inner := err
		for u := errors.Unwrap(inner); u != nil; u = errors.Unwrap(inner) {
			inner = u
		}
		why = inner.Error()
	}
	return &reachErr{fmt.Sprintf("could not reach the server at %s: %s", server, why), err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// reachErr is a network failure told plainly; it wraps the cause.
type reachErr struct {
	msg string
	err error
}

func (e *reachErr) Error() string { return e.msg }

func (e *reachErr) Unwrap() error { return e.err }
