package cases

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/proxy"
)

// How the client reaches the staff channel. A unix socket and a server on
// this computer are always dialled directly: a proxy (Tor, for an onion
// server) cannot reach them, and a saved proxy must not make sync hang or
// fail when the member syncs from the server's own machine. Anything else
// goes through the proxy when one is given. The SOCKS dialer is made in
// one place, socksDialer, so another (tor's extended errors, say) can take
// its place.

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
// or a SOCKS5 URL such as "socks5://127.0.0.1:9050".
func CheckProxy(proxyURL string) error {
	_, err := parseProxy(proxyURL)
	return err
}

func parseProxy(proxyURL string) (*url.URL, error) {
	if proxyURL == "" {
		return nil, nil
	}
	pu, err := url.Parse(proxyURL)
	if err != nil || (pu.Scheme != "socks5" && pu.Scheme != "socks5h") || pu.Host == "" {
		return nil, errors.New("the proxy must look like socks5://127.0.0.1:9050")
	}
	return pu, nil
}

// dialerFor returns how to reach a, and whether that is through the proxy.
func dialerFor(a staffAddr, proxyURL string) (dialFunc, bool, error) {
	pu, err := parseProxy(proxyURL)
	if err != nil {
		return nil, false, err
	}
	direct := &net.Dialer{Timeout: 30 * time.Second}
	switch {
	case a.unix != "":
		return func(ctx context.Context, _, _ string) (net.Conn, error) {
			return direct.DialContext(ctx, "unix", a.unix)
		}, false, nil
	case a.local():
		return direct.DialContext, false, nil
	case pu != nil:
		d, err := socksDialer(pu, direct)
		return d, true, err
	case a.onion():
		return nil, false, errors.New("an .onion address needs Tor: add --proxy socks5://127.0.0.1:9050")
	}
	return direct.DialContext, false, nil
}

// socksDialer dials through the SOCKS5 proxy at pu.
func socksDialer(pu *url.URL, forward *net.Dialer) (dialFunc, error) {
	d, err := proxy.FromURL(pu, forward)
	if err != nil {
		return nil, fmt.Errorf("failed to use the proxy: %w", err)
	}
	cd, ok := d.(proxy.ContextDialer)
	if !ok {
		return nil, errors.New("failed to use the proxy")
	}
	return cd.DialContext, nil
}
