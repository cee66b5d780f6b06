package onion

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

func TestParseProxy(t *testing.T) {
	for in, want := range map[string]string{
		"socks5://127.0.0.1:9050":  "127.0.0.1:9050",
		"socks5h://127.0.0.1:9150": "127.0.0.1:9150",
		"127.0.0.1:9050":           "127.0.0.1:9050",
		"localhost:9050":           "127.0.0.1:9050",
		"socks5://[::1]:9050":      "[::1]:9050",
		"unix:/run/tor/socks":      "unix:/run/tor/socks",
	} {
		if got, err := ParseProxy(in); err != nil || got != want {
			t.Errorf("ParseProxy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "9050", "http://127.0.0.1:9050", "socks5://10.0.0.1:9050", "socks5://tor.example:9050",
		"192.168.1.2:9050", "socks5://user:pw@127.0.0.1:9050", "unix:run/tor/socks", "socks5://127.0.0.1:9050/x",
	} {
		if got, err := ParseProxy(in); err == nil {
			t.Errorf("ParseProxy(%q) = %q, want an error", in, got)
		}
	}
}

func TestFindProxy(t *testing.T) {
	ctx := context.Background()
	tor := newFakeSocks(t, 0)
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := free.Addr().String()
	free.Close()

	if got, err := FindProxy(ctx, "socks5://"+tor.addr); err != nil || got != tor.addr {
		t.Errorf("configured proxy: %q, %v", got, err)
	}
	// A configured proxy is never bypassed, even when another would work.
	defaultProxies = []string{tor.addr}
	t.Cleanup(func() { defaultProxies = []string{TorBrowserProxy, SystemTorProxy} })
	if _, err := FindProxy(ctx, dead); !errors.Is(err, ErrTorNotRunning) {
		t.Errorf("dead configured proxy: %v", err)
	}
	if _, err := FindProxy(ctx, "socks5://192.0.2.1:9050"); err == nil {
		t.Error("took a proxy on another machine")
	}

	defaultProxies = []string{dead, tor.addr}
	if got, err := FindProxy(ctx, ""); err != nil || got != tor.addr {
		t.Errorf("second default: %q, %v", got, err)
	}
	defaultProxies = []string{dead}
	_, err := FindProxy(ctx, "")
	if !errors.Is(err, ErrTorNotRunning) || !strings.Contains(err.Error(), "start Tor Browser") {
		t.Errorf("no tor at all: %v", err)
	}
}
