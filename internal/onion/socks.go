package onion

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// What can go wrong when connecting through tor, grouped by what the
// person at the keyboard can do about it. A *DialError wraps one of them;
// branch with errors.Is and add the command to run in the program's own
// words.
var (
	// ErrTorNotRunning: nothing answers where tor's SOCKS proxy should be.
	// Start Tor Browser or the tor service.
	ErrTorNotRunning = errors.New("tor is not running")
	// ErrNotTor: something answers there, but not as a SOCKS5 proxy.
	ErrNotTor = errors.New("the proxy is not tor")
	// ErrNoKey: the onion service uses client authorization and tor has no
	// key for it. Give tor this computer's key.
	ErrNoKey = errors.New("this computer's onion key is missing")
	// ErrKeyRefused: tor has a key for the onion service, but the service
	// does not list it (removed from the team, or the wrong key).
	ErrKeyRefused = errors.New("the onion service does not accept this computer's onion key")
	// ErrUnreachable: tor could not reach the service, or the server behind
	// it. Often temporary: the server is off or tor is still starting.
	ErrUnreachable = errors.New("the onion service could not be reached")
)

// DialError says why a connection through tor failed.
type DialError struct {
	// Reply is tor's SOCKS5 reply code, or 0 where tor was not reached.
	Reply byte
	// Err is one of the errors above; Error adds the detail.
	Err    error
	detail string
}

func (e *DialError) Error() string {
	if e.detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.detail
}

func (e *DialError) Unwrap() error { return e.Err }

// replyErrors maps tor's SOCKS5 replies to plain words. 0xF0-0xF7 are tor's
// extended errors (tor's manual, SocksPort ExtendedErrors; torspec
// socks-extensions), sent only on a SocksPort with the ExtendedErrors flag,
// as Tor Browser's is. Without the flag, tor answers a descriptor it cannot
// decrypt (a missing or refused key) with 0x01, and a service it cannot
// find or reach with 0x04; onionReplies words those for onion services.
var replyErrors = map[byte]struct {
	err    error
	detail string
}{
	0x01: {ErrUnreachable, "tor gave no reason"},
	0x02: {ErrUnreachable, "tor's rules do not allow this connection"},
	0x03: {ErrUnreachable, "tor has no working connection to the Tor network"},
	0x04: {ErrUnreachable, "tor could not find or reach it"},
	0x05: {ErrUnreachable, "the server refused the connection"},
	0x06: {ErrUnreachable, "tor timed out"},
	0x07: {ErrNotTor, "the proxy does not support connecting"},
	0x08: {ErrNotTor, "the proxy does not support names"},
	0xF0: {ErrUnreachable, "tor found no descriptor for it: the server or its tor is off, or has only just started"},
	0xF1: {ErrUnreachable, "its descriptor is damaged"},
	0xF2: {ErrUnreachable, "its introduction points refused or did not answer"},
	0xF3: {ErrUnreachable, "the rendezvous with it failed"},
	0xF4: {ErrNoKey, "the onion service admits only computers whose key it knows"},
	0xF5: {ErrKeyRefused, "it was removed, or it is not the key the service lists"},
	0xF6: {ErrBadAddress, ""},
	0xF7: {ErrUnreachable, "its introduction points timed out"},
}

// onionReplies replace replyErrors' words for onion services, where a tor
// without ExtendedErrors gives 0x01 and 0x04 for several causes.
var onionReplies = map[byte]string{
	0x05: "the onion service answered, but the server program behind it is not running",
	0x01: "tor gave no reason; this computer's onion key may be missing or refused (this tor's SOCKS port cannot say which: it lacks the ExtendedErrors flag)",
	0x04: "the server or its tor may be off, or tor may still be starting (this tor's SOCKS port cannot say which: it lacks the ExtendedErrors flag)",
}

func replyError(code byte, onionHost bool) *DialError {
	if words, ok := onionReplies[code]; ok && onionHost {
		return &DialError{Reply: code, Err: ErrUnreachable, detail: words}
	}
	if e, ok := replyErrors[code]; ok {
		return &DialError{Reply: code, Err: e.err, detail: e.detail}
	}
	return &DialError{Reply: code, Err: ErrNotTor, detail: fmt.Sprintf("unknown SOCKS5 reply 0x%02x", code)}
}

// Dialer connects through tor's SOCKS5 proxy (RFC 1928), passing names to
// tor unresolved, so .onion addresses and DNS never leave tor.
type Dialer struct {
	// Proxy is tor's SOCKS port: "127.0.0.1:9050" or "unix:/run/tor/socks",
	// as FindProxy returns it.
	Proxy string
	// Isolation, if set, is sent as the SOCKS5 user name and password
	// (RFC 1929). tor ignores their value but keeps streams with different
	// ones on different circuits (IsolateSOCKSAuth, on by default), so this
	// program's traffic shares no circuit with a browser's.
	Isolation string
}

// DialContext connects to addr ("host:port") through tor. Errors are
// *DialError values.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("tor carries only tcp, not %s", network)
	}
	host, portText, err := net.SplitHostPort(addr)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || perr != nil || port == 0 || host == "" || len(host) > 255 {
		return nil, fmt.Errorf("%q is not a host and port", addr)
	}
	onionHost := strings.HasSuffix(strings.ToLower(host), ".onion")
	if onionHost {
		if _, err := ServiceID(host); err != nil {
			return nil, &DialError{Reply: 0xF6, Err: ErrBadAddress}
		}
	}
	if len(d.Isolation) > 255 {
		return nil, errors.New("the isolation name is longer than SOCKS5 allows")
	}
	var nd net.Dialer
	pnet, paddr := splitAddr(d.Proxy)
	conn, err := nd.DialContext(ctx, pnet, paddr)
	if err != nil {
		return nil, &DialError{Err: ErrTorNotRunning, detail: "nothing answers at " + d.Proxy}
	}
	stop := watchConn(ctx, conn)
	err = d.handshake(conn, host, uint16(port), onionHost)
	stop()
	if err != nil {
		conn.Close()
		if cerr := ctxErr(ctx); cerr != nil {
			return nil, &DialError{Err: ErrUnreachable, detail: "gave up waiting for tor: " + cerr.Error()}
		}
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
}

func (d *Dialer) handshake(conn net.Conn, host string, port uint16, onionHost bool) error {
	notTor := func() error {
		return &DialError{Err: ErrNotTor, detail: "what answers at " + d.Proxy + " does not speak SOCKS5"}
	}
	method := byte(0x00) // no authentication
	if d.Isolation != "" {
		method = 0x02 // user name and password
	}
	if _, err := conn.Write([]byte{5, 1, method}); err != nil {
		return notTor()
	}
	var b [4]byte
	if _, err := io.ReadFull(conn, b[:2]); err != nil || b[0] != 5 || b[1] != method {
		return notTor()
	}
	if d.Isolation != "" {
		u := []byte(d.Isolation)
		msg := append(append(append([]byte{1, byte(len(u))}, u...), byte(len(u))), u...)
		if _, err := conn.Write(msg); err != nil {
			return notTor()
		}
		if _, err := io.ReadFull(conn, b[:2]); err != nil || b[0] != 1 || b[1] != 0 {
			return notTor()
		}
	}
	req := append([]byte{5, 1, 0, 3, byte(len(host))}, host...)
	req = binary.BigEndian.AppendUint16(req, port)
	if _, err := conn.Write(req); err != nil {
		return notTor()
	}
	if _, err := io.ReadFull(conn, b[:4]); err != nil {
		// tor closes without a reply only when something is badly wrong.
		return &DialError{Err: ErrUnreachable, detail: "tor closed the connection without saying why"}
	}
	if b[0] != 5 {
		return notTor()
	}
	if b[1] != 0 {
		return replyError(b[1], onionHost)
	}
	// Skip the bound address (tor sends 0.0.0.0:0) and port.
	var skip int
	switch b[3] {
	case 1:
		skip = 4
	case 4:
		skip = 16
	case 3:
		if _, err := io.ReadFull(conn, b[:1]); err != nil {
			return notTor()
		}
		skip = int(b[0])
	default:
		return notTor()
	}
	if _, err := io.CopyN(io.Discard, conn, int64(skip+2)); err != nil {
		return notTor()
	}
	return nil
}

// ctxErr returns ctx's error if ctx ended, including when the connection's
// deadline (ctx's) fired a moment before ctx itself noticed.
func ctxErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// watchConn makes conn's reads and writes end when ctx does, until the
// returned function is called.
func watchConn(ctx context.Context, conn net.Conn) func() {
	d, _ := ctx.Deadline()
	conn.SetDeadline(d)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		conn.SetDeadline(time.Unix(1, 0))
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
		}
	}
}
