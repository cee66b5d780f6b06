package reviewer

import (
	"fmt"
	"testing"

	"github.com/hearken-project/hearken/reviewer/cases"
)

// TestHints pins what a member reads for each error the case store leaves
// to the command line to explain.
func TestHints(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{cases.ErrNoStore, "there are no cases on this computer yet: run reviewer sync first"},
		{cases.ErrStoreLocked, "the local case store is in use by another reviewer command; wait for it to finish"},
		{cases.ErrOtherIdentity, "this case store belongs to a different identity; use the --identity that created it, or another --store folder"},
		{fmt.Errorf("HK-0009: %w", cases.ErrNoCase), "HK-0009: there is no such case on this computer (see reviewer list)"},
		{fmt.Errorf("sync stopped: %w", cases.ErrNotKnown), "sync stopped: this server does not know your key: ask the person who runs Hearken to add your member.pub to the team file and run intake check --apply; also check this computer's clock is right"},
		{fmt.Errorf("%w: an unreadable record", cases.ErrStoreCorrupt), "the local case store is damaged: an unreadable record"},
		{teamError(2, "head", fmt.Errorf("%w on this computer (route head)", cases.ErrNoTeam)),
			"HK-0000-0002: no team is recorded for this route on this computer (route head), so reviewer cannot tell who may read this reply: run reviewer init --team FILE --route head with that route's team file from the person who runs Hearken"},
		{teamError(2, "Head", fmt.Errorf("%w: the case's route is not a valid route name", cases.ErrNoTeam)),
			"HK-0000-0002: no team is recorded for this route: the case's route is not a valid route name"},
	} {
		if got := withHint(tc.err); got != tc.want {
			t.Errorf("withHint(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
