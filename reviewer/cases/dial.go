package cases

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hearken-project/hearken/internal/onion"
)

// How the client reaches the staff channel. A unix socket and a server on
// this computer are always dialled directly: a proxy (Tor, for an onion
// server) cannot reach them, and a saved proxy must not make sync hang or
// fail when the member syncs from the server's own machine. Anything else
// goes through the proxy when one is given. An onion server always goes
// through tor: the proxy given, or else the one onion.FindProxy finds (Tor
// Browser's, then a system tor's). Dialing is onion.Dialer's, so a failure
// says in plain words whether tor is not running, this computer's onion
// key is missing or refused, or the service could not be reached.

// dialFunc opens a connection to the staff channel.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// staffAddr is a parsed server address: a base URL for requests, and the
// socket path when the server is "unix:/path".
type staffAddr struct {
	base *url.URL
	unix string
}

// parseServer reads a server address as NewClient takes it.
func parseServer(server string) (staffAddr, error) {
	if path, ok := strings.CutPrefix(server, "unix:"); ok {
		if path == "" {
			return staffAddr{}, errors.New("a unix server address needs a path, like unix:/var/lib/hearken/staff.sock")
		}
		return staffAddr{base: &url.URL{Scheme: "http", Host: "staff.local"}, unix: path}, nil
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return staffAddr{}, errors.New("the server address must look like http://127.0.0.1:8081, unix:/path/to/staff.sock or http://xyz.onion")
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return staffAddr{}, errors.New("the server address is only scheme, host and port, like http://127.0.0.1:8081")
	}
	return staffAddr{base: &url.URL{Scheme: u.Scheme, Host: u.Host}}, nil
}

// local says the server is on this computer: a unix socket, localhost or
// a loopback address.
func (a staffAddr) local() bool {
	if a.unix != "" {
		return true
	}
	host := strings.TrimSuffix(strings.ToLower(a.base.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (a staffAddr) onion() bool {
	return a.unix == "" && strings.HasSuffix(strings.TrimSuffix(strings.ToLower(a.base.Hostname()), "."), ".onion")
}

// CheckProxy checks a proxy address as NewClient takes it: "" for none,
// or tor's SOCKS port on this computer, such as "socks5://127.0.0.1:9050"
// or "unix:/run/tor/socks". A proxy on another machine is refused: SOCKS
// would carry the traffic to it unencrypted.
func CheckProxy(proxyURL string) error {
	if proxyURL == "" {
		return nil
	}
	_, err := onion.ParseProxy(proxyURL)
	return err
}

// isolation is the SOCKS user name the reviewer gives tor, so its streams
// share no circuit with a browser's (IsolateSOCKSAuth).
const isolation = "hearken-reviewer"

// torDialer dials through tor. The proxy is found once, at the first
// connection or when ConnectTor asks: the one configured, or else Tor
// Browser's or a system tor's, whichever answers.
type torDialer struct {
	configured string
	once       sync.Once
	proxy      string
	err        error
}

func (t *torDialer) find(ctx context.Context) (string, error) {
	t.once.Do(func() { t.proxy, t.err = onion.FindProxy(ctx, t.configured) })
	return t.proxy, t.err
}

func (t *torDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	p, err := t.find(ctx)
	if err != nil {
		return nil, err
	}
	return (&onion.Dialer{Proxy: p, Isolation: isolation}).DialContext(ctx, network, addr)
}

// dialerFor returns how to reach a, and the tor dialer when that is
// through a proxy (nil when it is direct).
func dialerFor(a staffAddr, proxyURL string) (dialFunc, *torDialer, error) {
	if err := CheckProxy(proxyURL); err != nil {
		return nil, nil, err
	}
	direct := &net.Dialer{Timeout: 30 * time.Second}
	switch {
	case a.unix != "":
		return func(ctx context.Context, _, _ string) (net.Conn, error) {
			return direct.DialContext(ctx, "unix", a.unix)
		}, nil, nil
	case a.local():
		return direct.DialContext, nil, nil
	case proxyURL != "" || a.onion():
		if a.onion() {
			if _, err := onion.ServiceID(a.base.Hostname()); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", a.base.Host, err)
			}
		}
		t := &torDialer{configured: proxyURL}
		return t.DialContext, t, nil
	}
	return direct.DialContext, nil, nil
}
