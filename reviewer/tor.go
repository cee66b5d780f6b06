package reviewer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/reviewer/cases"
	"github.com/hearken-project/hearken/vault"
)

// hinted is an error with advice for the person at the keyboard, printed
// on a line of its own after the error ("reviewer: hint: ..."), as
// cmd/age's errorWithHint does. The advice depends on what the command
// did (how tor got the onion key), so the command attaches it.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Unwrap() error { return e.err }

// hintOf returns the advice attached to err, if any.
func hintOf(err error) string {
	var h *hinted
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}

// errNewOnionKey stops a sync whose identity was just given its onion key:
// the staff onion cannot admit a key its team file does not list yet.
var errNewOnionKey = errors.New("the staff onion service admits this computer only once your new line is in the team file")

// connectTor gives tor the member's onion key for an onion server, first
// adding a key to an identity made without one, and says what it did when
// the member needs to know.
func (c *cli) connectTor(ctx context.Context, client *cases.Client, m *vault.Member, cfg cases.Config) (*cases.TorReport, error) {
	if !client.Onion() {
		return nil, nil
	}
	if m.OnionKey() == nil {
		if _, _, err := c.ensureOnionKey(m); err != nil {
			return nil, err
		}
		return nil, &hinted{errNewOnionKey, "send the line in member.pub to the person who runs Hearken; once they have put it in the team file and run intake check, run reviewer sync again"}
	}
	rep, err := client.ConnectTor(ctx, cfg.Tor())
	if err != nil {
		return rep, torHint(err, rep, cfg)
	}
	switch {
	case rep.Route == cases.KeyInFile && rep.Wrote:
		fmt.Fprintf(c.stderr, "Saved this computer's onion key for the staff onion in %s; tor reads it when it starts.\n", clean(rep.File))
	case rep.Route == cases.KeyNotGiven:
		fmt.Fprintf(c.stderr, "Could not give tor this computer's onion key: %s.\n", clean(strings.Join(rep.Tried, "; ")))
	}
	return rep, nil
}

// torHint attaches to a failure of an onion sync the advice for its
// cause: tor's answer (onion's errors) and how the key was given (rep,
// nil if ConnectTor never ran).
func torHint(err error, rep *cases.TorReport, cfg cases.Config) error {
	if err == nil || hintOf(err) != "" {
		return err
	}
	var de *onion.DialError
	errors.As(err, &de)
	var hint string
	switch {
	case errors.Is(err, onion.ErrTorNotRunning) && cfg.Proxy != "":
		hint = "start tor (Tor Browser, or the tor service) so that it listens there, or give its proxy with reviewer init --proxy socks5://127.0.0.1:PORT; then run reviewer sync again"
	case errors.Is(err, onion.ErrTorNotRunning):
		hint = "start Tor Browser (or the tor service) and leave it running, then run reviewer sync again"
	case errors.Is(err, onion.ErrNotTor):
		hint = "give tor's proxy with reviewer init --proxy: socks5://127.0.0.1:9150 for Tor Browser, socks5://127.0.0.1:9050 for the tor service"
	case errors.Is(err, onion.ErrBadAddress):
		hint = "ask the person who runs Hearken for the staff onion address, then run reviewer init --server http://ADDRESS.onion"
	case errors.Is(err, cases.ErrKeyFileInTheWay):
		hint = "it was perhaps typed into Tor Browser before; unless it is this computer's current key (reviewer onion-key prints its public half), remove that file, then run reviewer sync again"
	case errors.Is(err, onion.ErrKeyRefused):
		hint = "send the line that reviewer onion-key prints to the person who runs Hearken: they put it in the team file and run intake check --apply; then run reviewer sync again"
	case errors.Is(err, onion.ErrNoKey) && rep != nil && rep.Route == cases.KeyInFile && rep.Wrote:
		hint = fmt.Sprintf("reviewer has just saved this computer's onion key in %s, and tor reads it only when it starts: restart Tor Browser (or reload the tor service), then run reviewer sync again", rep.File)
	case errors.Is(err, onion.ErrNoKey) && rep != nil && rep.Route == cases.KeyInFile:
		hint = fmt.Sprintf("the key is in %s, but this tor has not read it: restart Tor Browser (or reload the tor service), then run reviewer sync again; if tor reads client keys from another folder, give it with reviewer init --onion-auth-dir DIR", rep.File)
	case errors.Is(err, onion.ErrNoKey):
		hint = "give reviewer the folder this tor reads client keys from (its ClientOnionAuthDir) with reviewer init --onion-auth-dir DIR, or its control port with reviewer init --tor-control ADDR; then run reviewer sync again"
	case errors.Is(err, onion.ErrUnreachable) && de != nil && (de.Reply == 0x01 || de.Reply == 0x04):
		hint = "try reviewer sync again in a few minutes; if it keeps failing, tell the person who runs Hearken. Adding ExtendedErrors to this tor's SocksPort line (SocksPort 9050 ExtendedErrors) lets it say what is wrong"
	case errors.Is(err, onion.ErrUnreachable):
		hint = "the server or its tor may be off, or tor may still be starting: try reviewer sync again in a few minutes; if it keeps failing, tell the person who runs Hearken"
	default:
		return err
	}
	return &hinted{err, hint}
}
