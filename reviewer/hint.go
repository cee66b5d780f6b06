package reviewer

import (
	"errors"
	"strings"

	"github.com/hearken-project/hearken/reviewer/cases"
)

// The case store's errors say what is wrong; the command line adds what to
// do about it, in its own words, as cmd/age does with errorWithHint. A hint
// follows the words of the error it belongs to, wherever they stand in the
// message.
var hints = []struct {
	err  error
	hint string
}{
	{cases.ErrNoStore, ": run reviewer sync first"},
	{cases.ErrStoreLocked, " by another reviewer command; wait for it to finish"},
	{cases.ErrOtherIdentity, "; use the --identity that created it, or another --store folder"},
	{cases.ErrNoCase, " (see reviewer list)"},
	{cases.ErrNotKnown, ": ask the person who runs Hearken to add your member.pub to the team file and run intake check --apply; also check this computer's clock is right"},
}

// withHint returns err's message with the hint of each error it wraps.
func withHint(err error) string {
	msg := err.Error()
	for _, h := range hints {
		if errors.Is(err, h.err) {
			msg = strings.Replace(msg, h.err.Error(), h.err.Error()+h.hint, 1)
		}
	}
	return msg
}
