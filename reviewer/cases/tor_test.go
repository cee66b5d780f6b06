package cases

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/vault"
)

// testOnion is a valid version 3 onion address (checksum included).
const testOnion = "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"

// socksGreeter answers the SOCKS5 greeting as tor does and nothing more:
// enough for onion.FindProxy to take it for tor.
func socksGreeter(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			var b [3]byte
			if _, err := c.Read(b[:]); err == nil {
				c.Write([]byte{5, 0})
			}
			c.Close()
		}
	}()
	return "socks5://" + l.Addr().String()
}

func TestOnionAddressChecked(t *testing.T) {
	m, _ := vault.GenerateMember("Dana Lead")
	_, err := NewClient("http://hearkenstaffxyz.onion", "", m)
	if !errors.Is(err, onion.ErrBadAddress) {
		t.Fatalf("a mistyped onion address: %v", err)
	}
	c, err := NewClient(testOnion, "", m)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Onion() || !c.Proxied() {
		t.Fatal("an onion server is not reached through tor")
	}
	// A server that is not an onion service needs nothing from tor.
	plain, _ := NewClient("http://127.0.0.1:1", "", m)
	if rep, err := plain.ConnectTor(context.Background(), TorOptions{}); rep != nil || err != nil {
		t.Fatalf("ConnectTor for a local server: %v, %v", rep, err)
	}
}

// Without a control port, the key goes into tor's key folder: written once
// (O_EXCL, 0600), left alone when it is already there, and never written
// over another key for the same service.
func TestConnectTorKeyFile(t *testing.T) {
	m, _ := vault.GenerateMember("Dana Lead")
	proxy := socksGreeter(t)
	dir := filepath.Join(t.TempDir(), "onion-auth")
	opts := TorOptions{Control: "off", OnionAuthDir: dir}
	c, err := NewClient(testOnion, proxy, m)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.ConnectTor(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(testOnion, "http://"), ".onion")
	want := filepath.Join(dir, id+".auth_private")
	if rep.Route != KeyInFile || !rep.Wrote || rep.File != want || rep.Proxy != strings.TrimPrefix(proxy, "socks5://") {
		t.Fatalf("report %+v", rep)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	gotID, k, err := onion.ParseAuthPrivate(string(b))
	if err != nil || gotID != id || !k.Equal(m.OnionKey()) {
		t.Fatalf("the file holds %q, %v", gotID, err)
	}
	for p, mode := range map[string]os.FileMode{dir: 0o700, want: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
		}
	}

	// Again: already there, nothing written.
	if rep, err = c.ConnectTor(context.Background(), opts); err != nil || rep.Route != KeyInFile || rep.Wrote {
		t.Fatalf("second time: %+v, %v", rep, err)
	}

	// Another member's key in the file is left alone.
	other, _ := vault.GenerateMember("Sam Deputy")
	c2, _ := NewClient(testOnion, proxy, other)
	if _, err := c2.ConnectTor(context.Background(), opts); !errors.Is(err, ErrKeyFileInTheWay) {
		t.Fatalf("another key in the way: %v", err)
	}
	if b2, _ := os.ReadFile(want); string(b2) != string(b) {
		t.Fatal("the key file was overwritten")
	}

	// No folder found and no control port: nothing given, and the report
	// says why.
	c3, _ := NewClient(testOnion, proxy, m)
	t.Setenv("HOME", t.TempDir())
	rep, err = c3.ConnectTor(context.Background(), TorOptions{Control: "off"})
	if err != nil || rep.Route != KeyNotGiven || len(rep.Tried) == 0 {
		t.Fatalf("nowhere to put the key: %+v, %v", rep, err)
	}
}

// tor not running is an error at once, in tor's plain words.
func TestConnectTorNotRunning(t *testing.T) {
	m, _ := vault.GenerateMember("Dana Lead")
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c, err := NewClient(testOnion, "socks5://"+addr, m)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ConnectTor(context.Background(), TorOptions{})
	if !errors.Is(err, onion.ErrTorNotRunning) || !strings.Contains(err.Error(), "nothing answers at "+addr) {
		t.Fatalf("got %v", err)
	}
}

// Sync gives tor the key by itself when its caller (the desk) has not:
// here into the key folder, before any request.
func TestSyncConnectsTor(t *testing.T) {
	f := newStoreFixture(t)
	proxy := socksGreeter(t)
	c, err := NewClient(testOnion, proxy, f.m)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "onion-auth")
	c.Tor = TorOptions{Control: "off", OnionAuthDir: dir}
	if _, err := Sync(context.Background(), f.st, c); err == nil {
		t.Fatal("a sync through a proxy that answers nothing worked")
	}
	id := strings.TrimSuffix(strings.TrimPrefix(testOnion, "http://"), ".onion")
	if _, err := os.Stat(filepath.Join(dir, id+".auth_private")); err != nil {
		t.Fatalf("Sync did not give tor the key: %v", err)
	}
}
