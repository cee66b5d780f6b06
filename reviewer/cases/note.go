package cases

import (
	"fmt"
	"strings"
)

// HandoverNote says, in one sentence for a person, which cases of the sync
// have items sealed to the team before the member joined it and who can
// hand them over; "" when there are none. It names at most limit cases (all
// when limit is 0) and counts the rest. Colleagues' names are as their team
// file gives them: a terminal must clean them.
func (r *SyncResult) HandoverNote(limit int) string {
	n := len(r.BeforeJoining)
	if n == 0 {
		return ""
	}
	shown := r.BeforeJoining
	if limit > 0 && n > limit {
		shown = shown[:limit]
	}
	more := ""
	if n > len(shown) {
		more = fmt.Sprintf(" and %d more", n-len(shown))
	}
	who := "A colleague who was on the team then"
	if len(r.Colleagues) > 0 {
		who += " (" + strings.Join(r.Colleagues, ", ") + ")"
	}
	return fmt.Sprintf("%s items sealed to the team before you joined it, so your key cannot open them yet: %s%s. %s can hand them over to you with reviewer handover CASE (or --all); you can read them after their next reviewer sync and yours.",
		count(n, "case has", "cases have"), strings.Join(shown, ", "), more, who)
}
