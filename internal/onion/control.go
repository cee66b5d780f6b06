package onion

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
)

var (
	// ErrNoControl means nothing answers at the control port's address.
	ErrNoControl = errors.New("tor's control port is not available")
	// ErrControlAuth means tor's control port did not let this program in.
	ErrControlAuth = errors.New("tor's control port did not let this program in")
)

// ControlError is a reply from tor's control port other than success.
type ControlError struct {
	Code int
	// Msg is tor's own words, cleaned up, or empty where the command held
	// a secret that tor might echo.
	Msg string
}

func (e *ControlError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("tor's control port answered %d", e.Code)
	}
	return fmt.Sprintf("tor's control port answered %d: %s", e.Code, e.Msg)
}

// maxEvents bounds the asynchronous events queued while waiting for a reply.
const maxEvents = 1024

// Control is a connection to tor's control port (control-spec.txt). Its
// methods may be called from several goroutines; they run one at a time.
type Control struct {
	mu     sync.Mutex
	conn   net.Conn
	r      *bufio.Reader
	events []string
	broken error
}

// DialControl connects to tor's control port at addr ("127.0.0.1:9051" or
// "unix:/run/tor/control") and authenticates with the best method tor
// offers: none where tor asks for none, the password where tor has a
// HashedControlPassword and password is not empty, else SAFECOOKIE with the
// cookie file tor names. Plain COOKIE is never used: it would hand the
// cookie file's bytes to whatever listens at addr, while SAFECOOKIE makes
// tor prove it knows the cookie first (tor has offered it since 0.2.3).
func DialControl(ctx context.Context, addr, password string) (*Control, error) {
	network, address := splitAddr(addr)
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("%w: nothing answers at %s", ErrNoControl, addr)
	}
	c := &Control{conn: conn, r: bufio.NewReaderSize(conn, 4096)}
	if err := c.authenticate(ctx, password); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Close ends the connection.
func (c *Control) Close() error { return c.conn.Close() }

func (c *Control) authenticate(ctx context.Context, password string) error {
	r, err := c.command(ctx, "PROTOCOLINFO 1")
	if err != nil {
		return err
	}
	var methods []string
	var cookieFile string
	for _, l := range r.lines {
		if rest, ok := strings.CutPrefix(l.text, "AUTH "); ok {
			kv, err := parseKV(rest)
			if err != nil {
				return err
			}
			methods = strings.Split(kv["METHODS"], ",")
			cookieFile = kv["COOKIEFILE"]
		}
	}
	switch {
	case slices.Contains(methods, "NULL"):
		_, err = c.command(ctx, "AUTHENTICATE")
	case password != "" && slices.Contains(methods, "HASHEDPASSWORD"):
		// Hex, so no character of the password needs quoting.
		_, err = c.secretCommand(ctx, "AUTHENTICATE "+hex.EncodeToString([]byte(password)))
	case slices.Contains(methods, "SAFECOOKIE") && cookieFile != "":
		err = c.safeCookie(ctx, cookieFile)
	case slices.Contains(methods, "HASHEDPASSWORD"):
		return fmt.Errorf("%w: it asks for a password", ErrControlAuth)
	default:
		return fmt.Errorf("%w: it offers no way in that this program uses", ErrControlAuth)
	}
	if ce := (*ControlError)(nil); errors.As(err, &ce) {
		return fmt.Errorf("%w: %w", ErrControlAuth, err)
	}
	return err
}

// SAFECOOKIE's HMAC keys, from control-spec 3.24.
const (
	serverToController = "Tor safe cookie authentication server-to-controller hash"
	controllerToServer = "Tor safe cookie authentication controller-to-server hash"
)

func (c *Control) safeCookie(ctx context.Context, path string) error {
	cookie, err := readCookie(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrControlAuth, err)
	}
	clientNonce := make([]byte, 32)
	rand.Read(clientNonce)
	r, err := c.command(ctx, "AUTHCHALLENGE SAFECOOKIE "+hex.EncodeToString(clientNonce))
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(r.last(), "AUTHCHALLENGE ")
	if !ok {
		return errProtocol
	}
	kv, err := parseKV(rest)
	if err != nil {
		return err
	}
	serverHash, err1 := hex.DecodeString(kv["SERVERHASH"])
	serverNonce, err2 := hex.DecodeString(kv["SERVERNONCE"])
	if err1 != nil || err2 != nil || len(serverHash) != 32 || len(serverNonce) != 32 {
		return errProtocol
	}
	msg := slices.Concat(cookie, clientNonce, serverNonce)
	mac := func(key string) []byte {
		h := hmac.New(sha256.New, []byte(key))
		h.Write(msg)
		return h.Sum(nil)
	}
	if !hmac.Equal(mac(serverToController), serverHash) {
		return fmt.Errorf("%w: it did not prove that it knows tor's cookie", ErrControlAuth)
	}
	_, err = c.secretCommand(ctx, "AUTHENTICATE "+hex.EncodeToString(mac(controllerToServer)))
	return err
}

// readCookie reads tor's 32-byte control cookie, and nothing larger.
func readCookie(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read tor's cookie file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 33))
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("tor's cookie file %s is not a tor cookie", path)
	}
	return b, nil
}

// GetInfo asks tor for the values of keys (control-spec 3.9), such as
// "status/bootstrap-phase" or "net/listeners/socks".
func (c *Control) GetInfo(ctx context.Context, keys ...string) (map[string]string, error) {
	if len(keys) == 0 {
		return nil, errors.New("GetInfo needs a key")
	}
	for _, k := range keys {
		if !isWord(k) {
			return nil, errors.New("a GETINFO key is one word of printable ASCII")
		}
	}
	r, err := c.command(ctx, "GETINFO "+strings.Join(keys, " "))
	if err != nil {
		return nil, err
	}
	vals := map[string]string{}
	for _, l := range r.lines[:len(r.lines)-1] {
		k, v, ok := strings.Cut(l.text, "=")
		if !ok {
			return nil, errProtocol
		}
		if l.data != "" {
			v = l.data
		}
		vals[k] = v
	}
	for _, k := range keys {
		if _, ok := vals[k]; !ok {
			return nil, errProtocol
		}
	}
	return vals, nil
}

// AddClientAuth gives tor the key that opens the client-authorized onion
// service serviceID, for as long as tor runs (ONION_CLIENT_AUTH_ADD without
// Flags=Permanent, so the key is never written to disk by tor). Adding a
// key again, or one that replaces another, is not an error.
func (c *Control) AddClientAuth(ctx context.Context, serviceID string, k *ClientKey) error {
	id, err := ServiceID(serviceID)
	if err != nil {
		return err
	}
	// 251: replaced an earlier key; 252: added, and a cached descriptor
	// now opens with it.
	_, err = c.secretCommand(ctx, "ONION_CLIENT_AUTH_ADD "+id+" "+k.controlBlob())
	return err
}

// SetEvents asks tor to send the named asynchronous events, replacing any
// earlier list; NextEvent reads them.
func (c *Control) SetEvents(ctx context.Context, names ...string) error {
	for _, n := range names {
		if !isWord(n) {
			return errors.New("an event name is one word")
		}
	}
	_, err := c.command(ctx, strings.TrimSpace("SETEVENTS "+strings.Join(names, " ")))
	return err
}

// NextEvent returns the next asynchronous event, such as
// "HS_DESC UPLOADED <id> ...", waiting for one until ctx ends.
func (c *Control) NextEvent(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.events) > 0 {
		e := c.events[0]
		c.events = c.events[1:]
		return e, nil
	}
	if c.broken != nil {
		return "", c.broken
	}
	defer watchConn(ctx, c.conn)()
	r, err := readReply(c.r)
	if err != nil {
		return "", c.fail(ctx, err)
	}
	if r.code/100 != 6 {
		return "", c.fail(ctx, errProtocol)
	}
	return r.event(), nil
}

func (c *Control) command(ctx context.Context, cmd string) (reply, error) {
	return c.roundTrip(ctx, cmd, false)
}

// secretCommand sends a command holding a secret: a failure reports tor's
// status code only, never its words, in case they echo the command.
func (c *Control) secretCommand(ctx context.Context, cmd string) (reply, error) {
	return c.roundTrip(ctx, cmd, true)
}

func (c *Control) roundTrip(ctx context.Context, cmd string, secret bool) (reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return reply{}, c.broken
	}
	defer watchConn(ctx, c.conn)()
	if _, err := io.WriteString(c.conn, cmd+"\r\n"); err != nil {
		return reply{}, c.fail(ctx, err)
	}
	for {
		r, err := readReply(c.r)
		if err != nil {
			return reply{}, c.fail(ctx, err)
		}
		if r.code/100 == 6 {
			if len(c.events) == maxEvents {
				c.events = c.events[1:]
			}
			c.events = append(c.events, r.event())
			continue
		}
		if r.code/100 == 2 {
			return r, nil
		}
		ce := &ControlError{Code: r.code}
		if !secret {
			ce.Msg = clean(r.last())
		}
		return reply{}, ce
	}
}

// fail marks the connection unusable: after a broken exchange, the next
// reply could belong to the wrong command.
func (c *Control) fail(ctx context.Context, err error) error {
	if cerr := ctxErr(ctx); cerr != nil {
		err = fmt.Errorf("tor's control port did not answer in time: %w", cerr)
	} else if !errors.Is(err, errProtocol) {
		err = fmt.Errorf("lost tor's control port: %w", err)
	}
	c.broken = err
	c.conn.Close()
	return err
}

// isWord reports whether s is non-empty printable ASCII without spaces, so
// it cannot add arguments or lines to a command.
func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

// clean keeps tor's words printable and short for an error message.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r >= 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// splitAddr turns "unix:/path" or "host:port" into a network and address.
func splitAddr(addr string) (network, address string) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", p
	}
	return "tcp", addr
}
