package cases

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// countingProxy is a SOCKS5 proxy that is never any use: it counts the
// connections it is offered and closes them.
func countingProxy(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return "socks5://" + l.Addr().String(), &n
}

// emptyStaff answers every items request with an empty page.
var emptyStaff = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(staff.ItemsResponse{Items: []staff.Item{}})
})

// TestClientProxyNotForLocal shows a proxy (saved for an onion server, say)
// is never used for a unix socket or a loopback server, which it cannot
// reach, and is used for anything else.
func TestClientProxyNotForLocal(t *testing.T) {
	m, err := vault.GenerateMember("Dana Lead")
	if err != nil {
		t.Fatal(err)
	}
	proxyURL, offered := countingProxy(t)

	tcp := httptest.NewServer(emptyStaff)
	t.Cleanup(tcp.Close)
	sock := filepath.Join(t.TempDir(), "staff.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	unix := &httptest.Server{Listener: l, Config: &http.Server{Handler: emptyStaff}}
	unix.Start()
	t.Cleanup(unix.Close)
	port := tcp.Listener.Addr().(*net.TCPAddr).Port

	for _, server := range []string{
		tcp.URL,
		"unix:" + sock,
		strings.Replace(tcp.URL, "127.0.0.1", "localhost", 1),
	} {
		c, err := NewClient(server, proxyURL, m)
		if err != nil {
			t.Fatalf("%s: %v", server, err)
		}
		if c.Proxied() {
			t.Errorf("%s: the client says it uses the proxy", server)
		}
		if _, err := c.items(context.Background(), "", 10); err != nil {
			t.Errorf("%s with a proxy: %v", server, err)
		}
		c.Close()
	}
	if n := offered.Load(); n != 0 {
		t.Errorf("the proxy was offered %d connections to servers on this computer", n)
	}

	// Anything else goes through the proxy (and here gets no further).
	for _, server := range []string{testOnion, "http://192.0.2.1:" + strconv.Itoa(port)} {
		c, err := NewClient(server, proxyURL, m)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Proxied() {
			t.Errorf("%s: the client says it does not use the proxy", server)
		}
		before := offered.Load()
		if _, err := c.items(context.Background(), "", 10); err == nil {
			t.Errorf("%s: reached through a proxy that is no use", server)
		}
		if offered.Load() == before {
			t.Errorf("%s: the proxy was not used", server)
		}
		c.Close()
	}
}
