package cases

import (
	"sort"
	"strings"
)

// rankUrgency is a case's urgency for ordering: a case nobody has triaged
// whose reporter said someone is in danger counts as immediate.
func rankUrgency(c CaseSummary) int {
	if c.Status == "new" && c.Urgency == "" && strings.EqualFold(strings.TrimSpace(c.Danger), "yes") {
		return urgencyRank("immediate")
	}
	return urgencyRank(c.Urgency)
}

// caseOrder is a case number for ordering; one that does not parse sorts
// last.
func caseOrder(c string) uint64 {
	n, err := ParseCaseNumber(c)
	if err != nil {
		return ^uint64(0)
	}
	return n
}

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
		return caseOrder(a.Case) < caseOrder(b.Case)
	})
}

// urgencyRank orders cases in list: lower comes first.
func urgencyRank(u string) int {
	switch u {
	case "immediate":
		return 0
	case "high":
		return 1
	}
	return 2
}
