package cases

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/vault"
)

// The command line and the desk sync the same way and give the same advice
// when tor stands in the way: both make their client with Config.NewClient
// and word a failure with TorAdvice, so a lead reads the same words in a
// terminal and on the desk.

// NewClient returns the client the settings describe: their server and
// proxy, and where this computer's tor takes the member's onion key.
func (c Config) NewClient(m *vault.Member) (*Client, error) {
	client, err := NewClient(c.Server, c.Proxy, m)
	if err != nil {
		return nil, err
	}
	client.Tor = c.Tor()
	return client, nil
}

// Note says what ConnectTor did that the member should know even when the
// sync then works: that it saved the onion key in a file tor reads only
// when it starts, or that it could not give tor the key at all (and why).
// It is "" otherwise. The file name and tor's words are as they came: the
// caller makes them safe to show.
func (r *TorReport) Note() string {
	switch {
	case r == nil:
		return ""
	case r.Route == KeyInFile && r.Wrote:
		return fmt.Sprintf("Saved this computer's onion key for the staff onion in %s; tor reads it when it starts.", r.File)
	case r.Route == KeyNotGiven:
		return fmt.Sprintf("Could not give tor this computer's onion key: %s.", strings.Join(r.Tried, "; "))
	}
	return ""
}

// TorAdvice says in plain words what the member can do after a sync with a
// server reached through tor failed with err. It goes by the cause: what
// tor answered (onion's errors) and how the onion key was given (rep, as
// ConnectTor returned it; nil if it never ran). again is how the reader
// starts another sync, as the words after "then": "run reviewer sync
// again" at the command line, "press Sync now" on the desk. It returns ""
// for an error that is not tor's.
func TorAdvice(err error, rep *TorReport, cfg Config, again string) string {
	if err == nil {
		return ""
	}
	var de *onion.DialError
	errors.As(err, &de)
	switch {
	case errors.Is(err, onion.ErrTorNotRunning) && cfg.Proxy != "":
		return "start tor (Tor Browser, or the tor service) so that it listens there, or give its proxy with reviewer init --proxy socks5://127.0.0.1:PORT; then " + again
	case errors.Is(err, onion.ErrTorNotRunning):
		return "start Tor Browser (or the tor service) and leave it running, then " + again
	case errors.Is(err, onion.ErrNotTor):
		return "give tor's proxy with reviewer init --proxy: socks5://127.0.0.1:9150 for Tor Browser, socks5://127.0.0.1:9050 for the tor service"
	case errors.Is(err, onion.ErrBadAddress):
		return "ask the person who runs Hearken for the staff onion address, then run reviewer init --server http://ADDRESS.onion"
	case errors.Is(err, ErrKeyFileInTheWay):
		return "it was perhaps typed into Tor Browser before; unless it is this computer's current key (reviewer onion-key prints its public half), remove that file, then " + again
	case errors.Is(err, onion.ErrKeyRefused):
		return "send the line that reviewer onion-key prints to the person who runs Hearken: they put it in the team file and run intake check --apply; then " + again
	case errors.Is(err, onion.ErrNoKey) && rep != nil && rep.Route == KeyInFile && rep.Wrote:
		return fmt.Sprintf("reviewer has just saved this computer's onion key in %s, and tor reads it only when it starts: restart Tor Browser (or reload the tor service), then %s", rep.File, again)
	case errors.Is(err, onion.ErrNoKey) && rep != nil && rep.Route == KeyInFile:
		return fmt.Sprintf("the key is in %s, but this tor has not read it: restart Tor Browser (or reload the tor service), then %s; if tor reads client keys from another folder, give it with reviewer init --onion-auth-dir DIR", rep.File, again)
	case errors.Is(err, onion.ErrNoKey):
		return "give reviewer the folder this tor reads client keys from (its ClientOnionAuthDir) with reviewer init --onion-auth-dir DIR, or its control port with reviewer init --tor-control ADDR; then " + again
	case errors.Is(err, onion.ErrUnreachable) && de != nil && (de.Reply == 0x01 || de.Reply == 0x04):
		return "wait a few minutes, then " + again + "; if it keeps failing, tell the person who runs Hearken. Adding ExtendedErrors to this tor's SocksPort line (SocksPort 9050 ExtendedErrors) lets it say what is wrong"
	case errors.Is(err, onion.ErrUnreachable):
		return "the server or its tor may be off, or tor may still be starting: wait a few minutes, then " + again + "; if it keeps failing, tell the person who runs Hearken"
	}
	return ""
}
