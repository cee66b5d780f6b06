package onion

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeSocks is a SOCKS5 server that answers every CONNECT with reply.
type fakeSocks struct {
	addr  string
	reply byte
	// seen records what the last client sent.
	seen chan socksRequest
}

type socksRequest struct {
	method     byte
	user, pass string
	host       string
	port       uint16
}

func newFakeSocks(t *testing.T, reply byte) *fakeSocks {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &fakeSocks{addr: l.Addr().String(), reply: reply, seen: make(chan socksRequest, 10)}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *fakeSocks) serve(c net.Conn) {
	defer c.Close()
	var req socksRequest
	b := make([]byte, 262)
	if _, err := io.ReadFull(c, b[:2]); err != nil || b[0] != 5 {
		return
	}
	methods := b[:b[1]]
	if _, err := io.ReadFull(c, methods); err != nil {
		return
	}
	req.method = methods[0]
	c.Write([]byte{5, req.method})
	if req.method == 2 {
		io.ReadFull(c, b[:2])
		u := make([]byte, b[1])
		io.ReadFull(c, u)
		io.ReadFull(c, b[:1])
		p := make([]byte, b[0])
		io.ReadFull(c, p)
		req.user, req.pass = string(u), string(p)
		c.Write([]byte{1, 0})
	}
	if _, err := io.ReadFull(c, b[:5]); err != nil || b[3] != 3 {
		return
	}
	host := make([]byte, b[4])
	io.ReadFull(c, host)
	io.ReadFull(c, b[:2])
	req.host, req.port = string(host), binary.BigEndian.Uint16(b[:2])
	s.seen <- req
	c.Write([]byte{5, s.reply, 0, 1, 0, 0, 0, 0, 0, 0})
	if s.reply == 0 {
		io.Copy(c, c) // echo
	}
}

func TestDialerReplies(t *testing.T) {
	ctx := context.Background()
	target := torProjectURL + ":80"
	for _, tc := range []struct {
		reply byte
		host  string
		want  error
		words string
	}{
		{0xF0, target, ErrUnreachable, "found no descriptor"},
		{0xF1, target, ErrUnreachable, "damaged"},
		{0xF2, target, ErrUnreachable, "introduction points"},
		{0xF3, target, ErrUnreachable, "rendezvous"},
		{0xF4, target, ErrNoKey, "this computer's onion key is missing"},
		{0xF5, target, ErrKeyRefused, "does not accept this computer's onion key"},
		{0xF6, target, ErrBadAddress, "not a valid onion address"},
		{0xF7, target, ErrUnreachable, "timed out"},
		{0x01, target, ErrUnreachable, "onion key may be missing or refused"},
		{0x04, target, ErrUnreachable, "may still be starting"},
		{0x01, "example.org:443", ErrUnreachable, "tor gave no reason"},
		{0x04, "example.org:443", ErrUnreachable, "could not find or reach"},
		{0x05, target, ErrUnreachable, "server program behind it is not running"},
		{0x05, "example.org:443", ErrUnreachable, "refused the connection"},
		{0x02, "example.org:443", ErrUnreachable, "do not allow"},
		{0x07, target, ErrNotTor, "does not support"},
		{0x42, target, ErrNotTor, "unknown SOCKS5 reply 0x42"},
	} {
		s := newFakeSocks(t, tc.reply)
		_, err := (&Dialer{Proxy: s.addr}).DialContext(ctx, "tcp", tc.host)
		var de *DialError
		if !errors.Is(err, tc.want) || !errors.As(err, &de) || de.Reply != tc.reply || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("reply 0x%02x for %s: got %v, want %v saying %q", tc.reply, tc.host, err, tc.want, tc.words)
		}
	}
}

func TestDialerConnects(t *testing.T) {
	s := newFakeSocks(t, 0)
	d := &Dialer{Proxy: s.addr, Isolation: "hearken-sync"}
	conn, err := d.DialContext(context.Background(), "tcp", strings.ToUpper(torProjectURL)+":8080")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := <-s.seen
	// The name goes to tor as it is: never resolved here.
	if req.method != 2 || req.user != "hearken-sync" || req.pass != "hearken-sync" || req.host != strings.ToUpper(torProjectURL) || req.port != 8080 {
		t.Errorf("the proxy saw %+v", req)
	}
	conn.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping" {
		t.Errorf("echo = %q, %v", buf, err)
	}

	conn2, err := (&Dialer{Proxy: s.addr}).DialContext(context.Background(), "tcp", "example.org:443")
	if err != nil {
		t.Fatal(err)
	}
	conn2.Close()
	if req := <-s.seen; req.method != 0 || req.host != "example.org" {
		t.Errorf("without isolation the proxy saw %+v", req)
	}
}

func TestDialerFailures(t *testing.T) {
	ctx := context.Background()
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := free.Addr().String()
	free.Close()
	if _, err := (&Dialer{Proxy: deadAddr}).DialContext(ctx, "tcp", torProjectURL+":80"); !errors.Is(err, ErrTorNotRunning) || !strings.Contains(err.Error(), deadAddr) {
		t.Errorf("no tor: %v", err)
	}

	// An HTTP server where tor should be.
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	defer hl.Close()
	go func() {
		for {
			c, err := hl.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	if _, err := (&Dialer{Proxy: hl.Addr().String()}).DialContext(ctx, "tcp", torProjectURL+":80"); !errors.Is(err, ErrNotTor) {
		t.Errorf("not tor: %v", err)
	}

	// A bad onion address is caught before tor is asked.
	if _, err := (&Dialer{Proxy: deadAddr}).DialContext(ctx, "tcp", "abc.onion:80"); !errors.Is(err, ErrBadAddress) {
		t.Errorf("bad address: %v", err)
	}
	for _, addr := range []string{"noport", torProjectURL + ":0", torProjectURL + ":99999", ":80"} {
		if _, err := (&Dialer{Proxy: deadAddr}).DialContext(ctx, "tcp", addr); err == nil || errors.Is(err, ErrTorNotRunning) {
			t.Errorf("DialContext(%q) = %v", addr, err)
		}
	}
	if _, err := (&Dialer{Proxy: deadAddr}).DialContext(ctx, "udp", torProjectURL+":80"); err == nil {
		t.Error("dialed udp")
	}

	// A proxy that never answers: ctx ends the wait.
	sl, _ := net.Listen("tcp", "127.0.0.1:0")
	defer sl.Close()
	hold := make(chan net.Conn, 1)
	go func() {
		c, err := sl.Accept()
		if err == nil {
			hold <- c
		}
	}()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err := (&Dialer{Proxy: sl.Addr().String()}).DialContext(short, "tcp", torProjectURL+":80")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "gave up waiting") {
		t.Errorf("silent proxy: %v", err)
	}
	select {
	case c := <-hold:
		c.Close()
	default:
	}
}

// scriptConn is a net.Conn that reads a fixed script and discards writes.
type scriptConn struct {
	net.Conn
	r io.Reader
}

func (c scriptConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c scriptConn) Write(b []byte) (int, error) { return len(b), nil }

func FuzzSocksHandshake(f *testing.F) {
	f.Add([]byte{5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0}, false)
	f.Add([]byte{5, 2, 1, 0, 5, 0xF4, 0, 1, 0, 0, 0, 0, 0, 0}, true)
	f.Add([]byte{5, 0, 5, 0, 0, 3, 4, 'a', 'b', 'c', 'd', 0, 80}, false)
	f.Fuzz(func(t *testing.T, script []byte, isolate bool) {
		d := &Dialer{Proxy: "127.0.0.1:9050"}
		if isolate {
			d.Isolation = "x"
		}
		err := d.handshake(scriptConn{r: bytes.NewReader(script)}, torProjectURL, 80, true)
		var de *DialError
		if err != nil && (!errors.As(err, &de) || de.Err == nil || de.Error() == "") {
			t.Fatalf("handshake error %v is not a DialError", err)
		}
	})
}
