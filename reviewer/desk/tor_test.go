package desk

import (
	"html"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/reviewer/cases"
)

// testOnion is a valid version 3 onion address (checksum included).
const testOnion = "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"

// fakeTor is tor's SOCKS5 port as the reviewer meets it: it answers every
// connection with reply (tor's extended errors), and for 0 relays the
// connection to relayTo.
type fakeTor struct {
	addr    string
	reply   byte
	relayTo string
}

func newFakeTor(t *testing.T, reply byte, relayTo string) *fakeTor {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ft := &fakeTor{addr: l.Addr().String(), reply: reply, relayTo: relayTo}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go ft.serve(c)
		}
	}()
	return ft
}

func (ft *fakeTor) serve(c net.Conn) {
	defer c.Close()
	b := make([]byte, 256)
	if _, err := io.ReadFull(c, b[:2]); err != nil || b[0] != 5 {
		return
	}
	methods := make([]byte, b[1])
	if _, err := io.ReadFull(c, methods); err != nil || len(methods) == 0 {
		return
	}
	c.Write([]byte{5, methods[0]})
	if methods[0] == 2 { // user name and password, as tor takes any
		io.ReadFull(c, b[:2])
		io.ReadFull(c, b[:b[1]])
		io.ReadFull(c, b[:1])
		io.ReadFull(c, b[:b[0]])
		c.Write([]byte{1, 0})
	}
	// CONNECT to a name: version, command, reserved, type 3, length.
	if _, err := io.ReadFull(c, b[:5]); err != nil || b[3] != 3 {
		return
	}
	io.ReadFull(c, b[:int(b[4])+2]) // the name and the port
	c.Write([]byte{5, ft.reply, 0, 1, 0, 0, 0, 0, 0, 0})
	if ft.reply != 0 {
		return
	}
	up, err := net.Dial("tcp", ft.relayTo)
	if err != nil {
		return
	}
	defer up.Close()
	go io.Copy(up, c)
	io.Copy(c, up)
}

// torFixture is a desk whose server is an onion service reached through
// proxy, with the member's tor settings saved as reviewer init saves them:
// no control port, and a key folder of its own.
func torFixture(t *testing.T, proxy string) (f *fixture, cfg cases.Config) {
	// The usual places (Tor Browser's folder under HOME, a system tor's
	// control port) must not stand in for the settings.
	t.Setenv("HOME", t.TempDir())
	f = newFixture(t)
	cfg = cases.Config{Server: testOnion, Proxy: proxy, TorControl: "off", OnionAuthDir: filepath.Join(t.TempDir(), "onion-auth")}
	if err := cases.SaveConfig(f.dir, cfg); err != nil {
		t.Fatal(err)
	}
	f.login()
	if err := f.d.Unlock(passphrase); err != nil {
		t.Fatal(err)
	}
	return f, cfg
}

// The desk syncs with the member's tor settings, as reviewer sync does, and
// after a failure through tor gives the advice the command line gives, in
// the desk's words for syncing again.
func TestSyncTorAdvice(t *testing.T) {
	// tor's extended error F4: the onion service wants a key tor lacks.
	ft := newFakeTor(t, 0xF4, "")
	f, cfg := torFixture(t, "socks5://"+ft.addr)
	id := strings.TrimSuffix(strings.TrimPrefix(testOnion, "http://"), ".onion")
	file := filepath.Join(cfg.OnionAuthDir, id+".auth_private")

	f.d.syncer.start()
	f.d.syncer.wait()
	v := f.d.syncer.view(f.now())
	want := "reviewer has just saved this computer's onion key in " + file + ", and tor reads it only when it starts: restart Tor Browser (or reload the tor service), then press Sync now"
	if v.Error == "" || v.Advice != want {
		t.Fatalf("after tor refused for want of the key:\nerror %q\nadvice %q\nwant   %q", v.Error, v.Advice, want)
	}
	// The same words as the command line's, but for how to sync again.
	rep := &cases.TorReport{Route: cases.KeyInFile, File: file, Wrote: true}
	if cli := cases.TorAdvice(&onion.DialError{Reply: 0xF4, Err: onion.ErrNoKey}, rep, cfg, "run reviewer sync again"); strings.TrimSuffix(cli, "run reviewer sync again") != strings.TrimSuffix(want, "press Sync now") {
		t.Errorf("the command line says %q", cli)
	}
	wantBody(t, f.get("/sync"), 200, "The last sync did not finish", "<strong>What to do:</strong> "+regexp.QuoteMeta(html.EscapeString(want)),
		regexp.QuoteMeta(html.EscapeString("Saved this computer's onion key for the staff onion in "+file)))

	// Next time the key is already there: tor has not read it yet.
	f.d.syncer.start()
	f.d.syncer.wait()
	if v := f.d.syncer.view(f.now()); !strings.HasPrefix(v.Advice, "the key is in "+file+", but this tor has not read it: restart Tor Browser (or reload the tor service), then press Sync now") {
		t.Errorf("the second time: %q", v.Advice)
	}
}

// tor not running where the settings say: the advice says to start it.
func TestSyncTorNotRunning(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	f, _ := torFixture(t, "socks5://"+closed)
	f.d.syncer.start()
	f.d.syncer.wait()
	v := f.d.syncer.view(f.now())
	if !strings.HasPrefix(v.Advice, "start tor (Tor Browser, or the tor service) so that it listens there, or give its proxy with reviewer init --proxy") || !strings.HasSuffix(v.Advice, "then press Sync now") {
		t.Errorf("tor not running: error %q, advice %q", v.Error, v.Advice)
	}
}

// Through a tor that lets it through, the sync works, and the desk says
// where it saved the key, as the command line does.
func TestSyncThroughTor(t *testing.T) {
	f := newFixture(t)
	ft := newFakeTor(t, 0, strings.TrimPrefix(f.srv.srv.URL, "http://"))
	t.Setenv("HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "onion-auth")
	if err := cases.SaveConfig(f.dir, cases.Config{Server: testOnion, Proxy: "socks5://" + ft.addr, TorControl: "off", OnionAuthDir: dir}); err != nil {
		t.Fatal(err)
	}
	f.report("message", "through tor")
	f.open()
	wantBody(t, f.get("/sync"), 200, "1 new report", "Saved this computer&#39;s onion key for the staff onion in "+regexp.QuoteMeta(dir))
	wantBody(t, f.get("/"), 200, `href="/case/HK-[0-9-]+"`)
}
