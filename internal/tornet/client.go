package tornet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hearken-project/hearken/internal/onion"
)

// ClientOptions describe a tor client.
type ClientOptions struct {
	// SocksFlags are added to the SocksPort line. Tor Browser's port has
	// "ExtendedErrors"; Debian's system tor has none.
	SocksFlags string
	// Keys are onion client-auth keys by onion address, written to the
	// client's ClientOnionAuthDir before tor starts, as a lead would.
	Keys map[string]*onion.ClientKey
}

// Client is a running tor client.
type Client struct {
	// SocksAddr is its SOCKS port, "127.0.0.1:PORT".
	SocksAddr string
	// ControlAddr is its control port, "127.0.0.1:PORT", and ControlSocket
	// the same on a unix socket, "unix:/path" (as Debian's system tor has
	// /run/tor/control). Both use cookie authentication.
	ControlAddr   string
	ControlSocket string
	// OnionAuthDir is its ClientOnionAuthDir.
	OnionAuthDir string

	node *node
	net  *Network
}

// AddClients starts tor clients at once, and returns them once each is
// bootstrapped and sees the whole network.
func (n *Network) AddClients(opts ...ClientOptions) []*Client {
	n.t.Helper()
	clients := make([]*Client, len(opts))
	for i, o := range opts {
		n.mu.Lock()
		n.seq++
		name := fmt.Sprintf("client%d", n.seq)
		n.mu.Unlock()
		nd := n.newNode(name)
		c := &Client{OnionAuthDir: nd.path("onion-auth"), ControlSocket: "unix:" + n.SocketPath(name+"/control"), node: nd, net: n}
		if err := writeAuthPrivate(c.OnionAuthDir, o.Keys); err != nil {
			n.fail(err)
		}
		torrc := slices.Concat(n.common(nd), []string{
			strings.TrimSpace("SocksPort auto " + o.SocksFlags),
			"ClientOnionAuthDir " + c.OnionAuthDir,
			"ControlSocket " + strings.TrimPrefix(c.ControlSocket, "unix:"),
		})
		if err := nd.start(n.tor, torrc); err != nil {
			n.fail(err)
		}
		clients[i] = c
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	var nodes []*node
	for _, c := range clients {
		nodes = append(nodes, c.node)
	}
	n.waitReady(ctx, nodes)
	for _, c := range clients {
		v, err := c.node.ctl.GetInfo(ctx, "net/listeners/socks", "net/listeners/control")
		if err != nil {
			n.fail(err)
		}
		c.SocksAddr = strings.Trim(v["net/listeners/socks"], `"`)
		c.ControlAddr = strings.Trim(v["net/listeners/control"], `"`)
	}
	return clients
}

// Restart stops the client's tor and starts it again, as a member does
// with Tor Browser: tor reads its ClientOnionAuthDir only when it starts.
// It returns once tor is bootstrapped again and sees the whole network.
func (c *Client) Restart(ctx context.Context) error {
	nd := c.node
	nd.stop()
	os.Remove(nd.path("control-port"))
	nd.ctl = nil
	// The same SOCKS port as before, as Tor Browser's is always 9150.
	torrc := slices.Clone(nd.torrc)
	for i, l := range torrc {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "SocksPort" {
			f[1] = c.SocksAddr
			torrc[i] = strings.Join(f, " ")
		}
	}
	if err := nd.start(c.net.tor, torrc); err != nil {
		return err
	}
	if err := nd.connect(ctx); err != nil {
		return err
	}
	return nd.ready(ctx, c.net.relays)
}

// writeAuthPrivate makes a ClientOnionAuthDir (mode 0700) holding one
// .auth_private file for each key.
func writeAuthPrivate(dir string, keys map[string]*onion.ClientKey) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	for addr, k := range keys {
		line, err := k.AuthPrivate(addr)
		if err != nil {
			return err
		}
		id, _, _ := strings.Cut(line, ":")
		if err := os.WriteFile(filepath.Join(dir, id+".auth_private"), []byte(line), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// notYet are the SOCKS replies that mean the network has not settled:
// no descriptor yet on the HSDir asked, introduction or rendezvous failed
// or timed out; from a SocksPort without ExtendedErrors, host unreachable
// or TTL expired. Any other answer is final.
var notYet = []byte{0xF0, 0xF2, 0xF3, 0xF7, 0x04, 0x06}

// Dial connects to addr ("host:port") through the client's SOCKS port,
// retrying while tor's answer means "not yet" (see notYet) until ctx ends.
// Any other answer, such as a missing key, is returned at once: the caller
// decides whether it was expected. Streams use SOCKS5 user name and
// password ("tornet"), as a program isolating its circuits would.
func (c *Client) Dial(ctx context.Context, addr string) (net.Conn, error) {
	d := &onion.Dialer{Proxy: c.SocksAddr, Isolation: "tornet"}
	var conn net.Conn
	var last error
	err := poll(ctx, "a connection to "+addr, []*node{c.node}, func() (bool, error) {
		conn, last = d.DialContext(ctx, "tcp", addr)
		var de *onion.DialError
		return !errors.As(last, &de) || !slices.Contains(notYet, de.Reply), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w (tor's last answer: %v)", err, last)
	}
	return conn, last
}
