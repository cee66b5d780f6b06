package cases

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/vault"
)

// The staff onion service admits only tor clients that hold an onion key a
// team file lists. ConnectTor gives this computer's tor the member's key
// before the first request, in the first of two ways that works:
//
//   - through tor's control port (ONION_CLIENT_AUTH_ADD), for as long as
//     tor runs and never written to disk by tor: a system tor's
//     /run/tor/control or 127.0.0.1:9051, or the port configured. Tor
//     Browser's control port takes a password made at each launch, so it is
//     not tried for Tor Browser's proxy;
//   - as a file in the folder tor reads keys from at start (its
//     ClientOnionAuthDir): the folder configured, or Tor Browser's own.
//     Tor Browser reads it when it next starts.
//
// Neither needs anything from the member but their identity file.

// KeyRoute says how ConnectTor gave tor the member's onion key.
type KeyRoute int

const (
	// KeyNotGiven: neither way was open; TorReport.Tried says why.
	KeyNotGiven KeyRoute = iota
	// KeyViaControl: tor's control port took it.
	KeyViaControl
	// KeyInFile: it is in tor's ClientOnionAuthDir (TorReport.File).
	KeyInFile
)

// TorOptions say where this computer's tor is, beyond its SOCKS proxy
// (given to NewClient). Empty fields mean "look in the usual places".
type TorOptions struct {
	// Control is tor's control port, "unix:/run/tor/control" or
	// "127.0.0.1:9051"; "off" never uses one.
	Control string
	// OnionAuthDir is the folder tor reads client keys from
	// (ClientOnionAuthDir).
	OnionAuthDir string
}

// TorReport says what ConnectTor did.
type TorReport struct {
	// Proxy is tor's SOCKS proxy that sync uses.
	Proxy string
	// Route is how the key reached tor; Control or File says where.
	Route   KeyRoute
	Control string
	File    string
	// Wrote says File was written now: tor reads it only when it starts
	// (or, for a system tor, reloads).
	Wrote bool
	// Tried says why each way that did not work failed, in plain words.
	Tried []string
}

// ErrNoOnionKey means the member's identity has no onion key (it was made
// before onion keys existed), so the staff onion cannot admit them.
var ErrNoOnionKey = errors.New("your identity has no onion key, which the staff onion service needs")

// ErrKeyFileInTheWay means tor's key folder already holds a different key
// for this onion service; it is left alone.
var ErrKeyFileInTheWay = errors.New("tor's key folder holds another key for this onion service")

// controlTimeout bounds each control-port attempt: a local tor answers at
// once.
const controlTimeout = 10 * time.Second

// Usual places of a system tor's control port (Debian's first).
var systemControls = []string{"unix:/run/tor/control", "127.0.0.1:9051"}

// ConnectTor finds tor's proxy for an onion server and gives tor the
// member's onion key (see the comment above). It returns an error only
// when tor is not there at all (an *onion.DialError, ErrTorNotRunning),
// the member has no onion key (ErrNoOnionKey), or tor's key folder holds
// another key for the service (ErrKeyFileInTheWay); otherwise the report
// says how the key was given, or why it could not be, and sync tells the
// rest by tor's own answer. For a server that is not an onion service it
// does nothing.
func (c *Client) ConnectTor(ctx context.Context, opts TorOptions) (*TorReport, error) {
	if c.onion == "" {
		return nil, nil
	}
	proxy, err := c.tor.find(ctx)
	if err != nil {
		return nil, err
	}
	rep := &TorReport{Proxy: proxy}
	key := c.m.OnionKey()
	if key == nil {
		return rep, ErrNoOnionKey
	}
	controls := systemControls
	switch {
	case opts.Control == "off":
		controls = nil
	case opts.Control != "":
		controls = []string{opts.Control}
	case proxy == onion.TorBrowserProxy:
		controls = nil
		rep.Tried = append(rep.Tried, "Tor Browser's control port needs a password it makes each time it starts")
	}
	for _, addr := range controls {
		if err := addClientAuth(ctx, addr, proxy, c.onion, key); err != nil {
			rep.Tried = append(rep.Tried, err.Error())
			continue
		}
		rep.Route, rep.Control = KeyViaControl, addr
		c.torReport = rep
		return rep, nil
	}
	dir := opts.OnionAuthDir
	if dir == "" {
		dir = torBrowserAuthDir()
	}
	if dir == "" {
		rep.Tried = append(rep.Tried, "no folder of tor's client keys was found (Tor Browser's, or one given with reviewer init --onion-auth-dir)")
		c.torReport = rep
		return rep, nil
	}
	rep.File = filepath.Join(dir, c.onion+".auth_private")
	rep.Wrote, err = writeAuthPrivate(rep.File, c.onion, key)
	if err != nil {
		return rep, err
	}
	rep.Route = KeyInFile
	c.torReport = rep
	return rep, nil
}

// addClientAuth gives the tor at the control port addr the key for the
// onion service id, in tor's memory only, once it has checked that this is
// the tor whose SOCKS proxy sync uses: a key given to another tor on the
// same computer would help nobody.
func addClientAuth(ctx context.Context, addr, proxy, id string, key *onion.ClientKey) error {
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	ctl, err := onion.DialControl(ctx, addr, "")
	if err != nil {
		return err
	}
	defer ctl.Close()
	v, err := ctl.GetInfo(ctx, "net/listeners/socks")
	if err != nil {
		return fmt.Errorf("tor's control port at %s did not say where its proxy is: %w", addr, err)
	}
	if !slices.Contains(listeners(v["net/listeners/socks"]), proxy) {
		return fmt.Errorf("the tor at %s is not the one whose proxy is %s", addr, proxy)
	}
	if err := ctl.AddClientAuth(ctx, id, key); err != nil {
		return fmt.Errorf("tor's control port at %s did not take the key: %w", addr, err)
	}
	return nil
}

// listeners reads GETINFO net/listeners/*'s value: quoted addresses,
// "127.0.0.1:9050" or "unix:/run/tor/socks", separated by spaces.
func listeners(v string) []string {
	var out []string
	for _, f := range strings.Fields(v) {
		out = append(out, strings.Trim(f, `"`))
	}
	return out
}

// writeAuthPrivate writes the key's line for the onion service id to
// path, made with O_EXCL and mode 0600 in a folder of mode 0700. It
// reports whether it wrote the file: one already there with this very
// key is left as it is, and one with another key is never overwritten.
func writeAuthPrivate(path, id string, key *onion.ClientKey) (bool, error) {
	line, err := key.AuthPrivate(id)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("failed to make tor's key folder: %w", err)
	}
	err = vault.WriteNewFile(path, []byte(line), 0o600)
	if !errors.Is(err, vault.ErrExists) {
		if err != nil {
			return false, fmt.Errorf("failed to write %s: %w", path, err)
		}
		return true, nil
	}
	old, rerr := os.ReadFile(path)
	if rerr == nil {
		if oldID, oldKey, perr := onion.ParseAuthPrivate(string(old)); perr == nil && oldID == id && oldKey.Equal(key) {
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: %s", ErrKeyFileInTheWay, path)
}

// torBrowserAuthDir returns Tor Browser's ClientOnionAuthDir on this
// computer, in the places its installers use, or "" if there is none.
// The folder counts as found when Tor Browser's Data/Tor folder exists; the
// onion-auth folder in it is made when first needed.
func torBrowserAuthDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	var dataTor []string
	switch runtime.GOOS {
	case "darwin":
		dataTor = []string{filepath.Join(home, "Library", "Application Support", "TorBrowser-Data", "Tor")}
	case "windows":
		dataTor = []string{
			filepath.Join(home, "Desktop", "Tor Browser", "Browser", "TorBrowser", "Data", "Tor"),
			filepath.Join(home, "AppData", "Local", "Tor Browser", "Browser", "TorBrowser", "Data", "Tor"),
		}
	default:
		tb := filepath.Join("Browser", "TorBrowser", "Data", "Tor")
		dataTor = []string{
			// torbrowser-launcher (Debian, Ubuntu, Fedora), native and Flatpak.
			filepath.Join(home, ".local", "share", "torbrowser", "tbb", "x86_64", "tor-browser", tb),
			filepath.Join(home, ".var", "app", "org.torproject.torbrowser-launcher", "data", "torbrowser", "tbb", "x86_64", "tor-browser", tb),
			// The archive from torproject.org, unpacked in the home folder.
			filepath.Join(home, "tor-browser", tb),
			filepath.Join(home, "Downloads", "tor-browser", tb),
		}
	}
	for _, d := range dataTor {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return filepath.Join(d, "onion-auth")
		}
	}
	return ""
}
