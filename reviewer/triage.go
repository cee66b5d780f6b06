package reviewer

import (
	"fmt"
	"strconv"
	"strings"
)

// Triage vocabularies. Values are stored and printed in these exact words.

var Statuses = []string{"new", "triaged", "in progress", "referred", "closed"}

var Categories = []string{
	"bullying",
	"physical abuse",
	"sexual abuse",
	"emotional abuse",
	"neglect",
	"self-harm or suicide risk",
	"online exploitation or sextortion",
	"concern about an adult",
	"substance use",
	"threat of violence",
	"other",
}

var Urgencies = []string{"low", "medium", "high", "immediate"}

// Triage is a case's current triage state on this machine.
type Triage struct {
	Status   string `json:"status"`
	Category string `json:"category,omitempty"`
	Urgency  string `json:"urgency,omitempty"`
	Assigned string `json:"assigned,omitempty"`
}

// normalize folds case, hyphens and underscores so "in-progress" and
// "In_Progress" both mean "in progress".
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", " ", "_", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// pick finds value in words, forgiving case, hyphens and spaces.
func pick(what, value string, words []string) (string, error) {
	n := normalize(value)
	for _, w := range words {
		if normalize(w) == n {
			return w, nil
		}
	}
	// A unique prefix is accepted too ("self", "online", "imm").
	var found []string
	for _, w := range words {
		if n != "" && strings.HasPrefix(normalize(w), n) {
			found = append(found, w)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return "", fmt.Errorf("%q is not a %s; choose one of: %s", value, what, strings.Join(words, ", "))
}

// ParseStatus, ParseCategory and ParseUrgency accept the listed words.
func ParseStatus(s string) (string, error)   { return pick("status", s, Statuses) }
func ParseCategory(s string) (string, error) { return pick("category", s, Categories) }
func ParseUrgency(s string) (string, error)  { return pick("urgency", s, Urgencies) }

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

// CaseNumber formats a local case number.
func CaseNumber(n uint64) string { return fmt.Sprintf("HK-%04d", n) }

// ParseCaseNumber reads "HK-0007", "hk7", "7" or "#7".
func ParseCaseNumber(s string) (uint64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "#")
	t = strings.TrimPrefix(t, "HK")
	t = strings.TrimPrefix(t, "-")
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a case number; case numbers look like HK-0001 (see reviewer list)", s)
	}
	return n, nil
}
