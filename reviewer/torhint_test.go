package reviewer

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/internal/onion"
	"github.com/hearken-project/hearken/reviewer/cases"
)

// A sync over Tor that fails gets the advice for its cause: what tor
// answered, and how reviewer gave tor the onion key.
func TestTorHints(t *testing.T) {
	inFile := &cases.TorReport{Route: cases.KeyInFile, File: "/home/dana/.tor/onion-auth/hearken.auth_private"}
	written := &cases.TorReport{Route: cases.KeyInFile, File: inFile.File, Wrote: true}
	wrap := func(err error) error { return fmt.Errorf("failed to sync: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		rep  *cases.TorReport
		cfg  cases.Config
		hint string
	}{
		{"tor not running, proxy given", &onion.DialError{Err: onion.ErrTorNotRunning}, nil, cases.Config{Proxy: "socks5://127.0.0.1:9150"}, "or give its proxy with reviewer init --proxy"},
		{"tor not running", wrap(&onion.DialError{Err: onion.ErrTorNotRunning}), nil, cases.Config{}, "start Tor Browser (or the tor service) and leave it running"},
		{"not tor", &onion.DialError{Err: onion.ErrNotTor}, nil, cases.Config{}, "socks5://127.0.0.1:9150 for Tor Browser"},
		{"bad address", wrap(onion.ErrBadAddress), nil, cases.Config{}, "ask the person who runs Hearken for the staff onion address"},
		{"key file in the way", wrap(cases.ErrKeyFileInTheWay), nil, cases.Config{}, "remove that file"},
		{"key refused", &onion.DialError{Reply: 0xF4, Err: onion.ErrKeyRefused}, inFile, cases.Config{}, "send the line that reviewer onion-key prints"},
		{"no key, just written", &onion.DialError{Reply: 0xF3, Err: onion.ErrNoKey}, written, cases.Config{}, "has just saved this computer's onion key in " + inFile.File + ", and tor reads it only when it starts"},
		{"no key, in the file", &onion.DialError{Reply: 0xF3, Err: onion.ErrNoKey}, inFile, cases.Config{}, "the key is in " + inFile.File + ", but this tor has not read it"},
		{"no key, not given", &onion.DialError{Reply: 0xF3, Err: onion.ErrNoKey}, nil, cases.Config{}, "reviewer init --onion-auth-dir DIR, or its control port"},
		{"unreachable, plain socks", &onion.DialError{Reply: 0x04, Err: onion.ErrUnreachable}, inFile, cases.Config{}, "SocksPort 9050 ExtendedErrors"},
		{"unreachable", &onion.DialError{Reply: 0xF2, Err: onion.ErrUnreachable}, inFile, cases.Config{}, "the server or its tor may be off"},
	} {
		got := torHint(tc.err, tc.rep, tc.cfg)
		if !errors.Is(got, tc.err) || got.Error() != tc.err.Error() {
			t.Errorf("%s: the error changed: %v", tc.name, got)
		}
		if h := hintOf(got); !strings.Contains(h, tc.hint) {
			t.Errorf("%s: hint %q, want it to say %q", tc.name, h, tc.hint)
		}
	}
	// An error that is not tor's gets no hint; one that has a hint keeps it.
	plain := errors.New("the case store is damaged")
	if got := torHint(plain, nil, cases.Config{}); got != plain || hintOf(got) != "" {
		t.Errorf("a plain error: %v (hint %q)", got, hintOf(got))
	}
	h := &hinted{onion.ErrNoKey, "the first advice"}
	if got := torHint(h, nil, cases.Config{}); hintOf(got) != "the first advice" {
		t.Errorf("a second hint replaced the first: %q", hintOf(got))
	}
	if torHint(nil, nil, cases.Config{}) != nil {
		t.Error("no error became one")
	}
}
