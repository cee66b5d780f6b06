package reviewer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	"golang.org/x/net/proxy"
)

// ErrNotKnown means the server refused the member's signature.
var ErrNotKnown = errors.New("this server does not know your key: ask the person who runs Hearken to add your member.pub to the team file and restart it; also check this computer's clock is right")

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

	// PageSize is how many items one request asks for; at most
	// staff.MaxItems.
	PageSize int
}

// NewClient returns a client for server, which is "http://host:port",
// "https://host", "unix:/path/to/staff.sock" or an onion address (with a
// SOCKS5 proxyURL such as "socks5://127.0.0.1:9050" for Tor).
func NewClient(server, proxyURL string, m *vault.Member) (*Client, error) {
	// No proxy from the environment: a school's web proxy must not see or
	// relay staff traffic unless asked for explicitly.
	tr := &http.Transport{
		Proxy:                 nil,
		ResponseHeaderTimeout: 2 * time.Minute,
		TLSHandshakeTimeout:   30 * time.Second,
		MaxIdleConns:          2,
		IdleConnTimeout:       30 * time.Second,
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second}
	tr.DialContext = dialer.DialContext
	var base *url.URL
	if path, ok := strings.CutPrefix(server, "unix:"); ok {
		if path == "" {
			return nil, errors.New("a unix server address needs a path, like unix:/var/lib/hearken/staff.sock")
		}
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		}
		base = &url.URL{Scheme: "http", Host: "staff.local"}
	} else {
		u, err := url.Parse(server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("the server address must look like http://127.0.0.1:8081, unix:/path/to/staff.sock or http://xyz.onion")
		}
		if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return nil, errors.New("the server address is only scheme, host and port, like http://127.0.0.1:8081")
		}
		base = &url.URL{Scheme: u.Scheme, Host: u.Host}
		if strings.HasSuffix(u.Hostname(), ".onion") && proxyURL == "" {
			return nil, errors.New("an .onion address needs Tor: add --proxy socks5://127.0.0.1:9050")
		}
	}
	if proxyURL != "" {
		pu, err := url.Parse(proxyURL)
		if err != nil || (pu.Scheme != "socks5" && pu.Scheme != "socks5h") {
			return nil, errors.New("the proxy must look like socks5://127.0.0.1:9050")
		}
		d, err := proxy.FromURL(pu, dialer)
		if err != nil {
			return nil, fmt.Errorf("failed to use the proxy: %w", err)
		}
		cd, ok := d.(proxy.ContextDialer)
		if !ok {
			return nil, errors.New("failed to use the proxy")
		}
		tr.DialContext = cd.DialContext
	}
	return &Client{base: base, server: server, hc: &http.Client{Transport: tr}, m: m, now: time.Now, PageSize: staff.MaxItems}, nil
}

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
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
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

// itemsPage is staff.ItemsResponse as it is decoded here: the sealed bytes
// go straight from base64 into their slice, without the copy and checks
// encoding/json makes of every string (a page is megabytes of base64).
type itemsPage struct {
	Items []wireItem `json:"items"`
	More  bool       `json:"more"`
}

// wireItem mirrors staff.Item field for field (a test checks).
type wireItem struct {
	Seq    uint64     `json:"seq"`
	ID     string     `json:"id"`
	Thread string     `json:"thread"`
	Route  string     `json:"route"`
	Kind   vault.Kind `json:"kind"`
	Day    string     `json:"day"`
	Sealed base64JSON `json:"sealed"`
}

// base64JSON is a []byte that decodes a plain JSON string of standard
// base64 directly; anything else takes encoding/json's own path.
type base64JSON []byte

func (b *base64JSON) UnmarshalJSON(data []byte) error {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' || bytes.IndexByte(data, '\\') >= 0 {
		var v []byte
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*b = v
		return nil
	}
	src := data[1 : len(data)-1]
	out := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(out, src)
	if err != nil {
		return errors.New("an item's content is not valid base64")
	}
	*b = out[:n]
	return nil
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
	var why string
	switch {
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

// Items fetches up to limit items after seq.
func (c *Client) Items(ctx context.Context, after uint64, limit int) (*staff.ItemsResponse, error) {
	var page itemsPage
	q := fmt.Sprintf("after=%d&limit=%d", after, limit)
	if _, err := c.do(ctx, http.MethodGet, staff.ItemsPath, q, nil, &page); err != nil {
		return nil, err
	}
	resp := &staff.ItemsResponse{Items: make([]staff.Item, len(page.Items)), More: page.More}
	for i, it := range page.Items {
		resp.Items[i] = staff.Item{Seq: it.Seq, ID: it.ID, Thread: it.Thread, Route: it.Route,
			Kind: it.Kind, Day: it.Day, Sealed: it.Sealed}
	}
	return resp, nil
}

// Reply pushes a sealed reply; the status tells a gone thread (404) apart.
func (c *Client) Reply(ctx context.Context, req staff.ReplyRequest) (*staff.ReplyResponse, int, error) {
	var resp staff.ReplyResponse
	code, err := c.do(ctx, http.MethodPost, staff.RepliesPath, "", req, &resp)
	if err != nil {
		return nil, code, err
	}
	return &resp, code, nil
}

// Ack acknowledges stored items, at most staff.MaxAcks ids at once.
func (c *Client) Ack(ctx context.Context, ids []string) (*staff.AckResponse, error) {
	req := staff.AckRequest{IDs: ids}
	var resp staff.AckResponse
	if _, err := c.do(ctx, http.MethodPost, staff.AcksPath, "", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
