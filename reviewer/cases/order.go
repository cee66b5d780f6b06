package cases

import (
	"sort"
	"strings"
)

// rankUrgency is a case's urgency for ordering: a case nobody has triaged
// whose reporter said someone is in danger now comes before every other,
// immediate ones included, until a member triages it.
func rankUrgency(c CaseSummary) int {
	if c.Status == "new" && dangerNow(c.Danger) {
		return 0
	}
	return urgencyRank(c.Urgency)
}

// dangerNow says a report's answer to "Is someone in danger right now?"
// was yes.
func dangerNow(answer string) bool {
	return strings.EqualFold(strings.TrimSpace(answer), "yes")
}

// SortCases orders cases as List does, most pressing first: a caller that
// keeps a list and changes one case in it puts it back in its place.
func SortCases(cs []CaseSummary) { sortCases(cs) }

// sortCases orders cases as List does.
func sortCases(cs []CaseSummary) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if (a.Status == "closed") != (b.Status == "closed") {
			return b.Status == "closed"
		}
		if ra, rb := rankUrgency(a), rankUrgency(b); ra != rb {
			return ra < rb
		}
		if a.Unanswered != b.Unanswered {
			return a.Unanswered
		}
		if a.WaitingDays != b.WaitingDays {
			return a.WaitingDays > b.WaitingDays
		}
		// Numbers are random: the older case first, then the number
		// decides, the same on every computer.
		if a.Received != b.Received {
			return a.Received < b.Received
		}
		return a.Case < b.Case
	})
}

// urgencyRank orders cases in list: lower comes first.
func urgencyRank(u string) int {
	switch u {
	case "immediate":
		return 1
	case "high":
		return 2
	}
	return 3
}
