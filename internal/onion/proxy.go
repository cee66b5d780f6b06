package onion

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Where tor's SOCKS proxy usually listens, in the order FindProxy tries
// them: Tor Browser's own tor, then a system tor service.
const (
	TorBrowserProxy = "127.0.0.1:9150"
	SystemTorProxy  = "127.0.0.1:9050"
)

// defaultProxies is the order FindProxy tries when nothing is configured.
var defaultProxies = []string{TorBrowserProxy, SystemTorProxy}

// probeTimeout bounds each look for a proxy: a local tor answers at once.
const probeTimeout = 5 * time.Second

// FindProxy returns the address of a working tor SOCKS proxy. A configured
// proxy ("socks5://127.0.0.1:9050", "127.0.0.1:9050" or "unix:/run/tor/socks")
// is the only one tried, so a choice made on purpose is never bypassed;
// without one, Tor Browser's port is tried, then a system tor's.
func FindProxy(ctx context.Context, configured string) (string, error) {
	candidates := defaultProxies
	if configured != "" {
		addr, err := ParseProxy(configured)
		if err != nil {
			return "", err
		}
		candidates = []string{addr}
	}
	var last error
	for _, addr := range candidates {
		if last = probe(ctx, addr); last == nil {
			return addr, nil
		}
	}
	if configured == "" {
		return "", &DialError{Err: ErrTorNotRunning, detail: "start Tor Browser or the tor service (nothing answers at " + strings.Join(candidates, " or ") + ")"}
	}
	return "", last
}

// ParseProxy checks a proxy setting and returns it as Dialer.Proxy wants
// it. The proxy must be on this computer: SOCKS to another machine would
// carry the traffic unencrypted to it.
func ParseProxy(s string) (string, error) {
	bad := errors.New("the proxy must be tor's SOCKS port on this computer, like socks5://127.0.0.1:9050 or unix:/run/tor/socks")
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		if !strings.HasPrefix(p, "/") {
			return "", bad
		}
		return s, nil
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "socks5" && u.Scheme != "socks5h") || u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return "", bad
		}
		s = u.Host
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		return "", bad
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return "", bad
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// probe checks that a SOCKS5 proxy answers at addr, by offering it "no
// authentication" and reading its choice.
func probe(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var nd net.Dialer
	network, address := splitAddr(addr)
	conn, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return &DialError{Err: ErrTorNotRunning, detail: "nothing answers at " + addr}
	}
	defer conn.Close()
	defer watchConn(ctx, conn)()
	var b [2]byte
	if _, err := conn.Write([]byte{5, 1, 0}); err != nil {
		return &DialError{Err: ErrNotTor, detail: "what answers at " + addr + " does not speak SOCKS5"}
	}
	if _, err := io.ReadFull(conn, b[:]); err != nil || b[0] != 5 || b[1] != 0 {
		return &DialError{Err: ErrNotTor, detail: "what answers at " + addr + " does not speak SOCKS5"}
	}
	return nil
}
