package reviewer

import (
	"context"
	"errors"
	"fmt"

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
	if note := rep.Note(); note != "" {
		fmt.Fprintln(c.stderr, clean(note))
	}
	return rep, nil
}

// torHint attaches to a failure of an onion sync the advice for its
// cause (cases.TorAdvice, which the desk shows too): tor's answer, and how
// the key was given (rep, nil if ConnectTor never ran).
func torHint(err error, rep *cases.TorReport, cfg cases.Config) error {
	if err == nil || hintOf(err) != "" {
		return err
	}
	hint := cases.TorAdvice(err, rep, cfg, "run reviewer sync again")
	if hint == "" {
		return err
	}
	return &hinted{err, hint}
}
