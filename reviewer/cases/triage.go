package cases

import (
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Triage vocabularies. Values are stored and printed in these exact words;
// Triage accepts them forgiving case, hyphens and a unique prefix.
var (
	Statuses = []string{"new", "triaged", "in progress", "referred", "closed"}

	Categories = []string{
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

	Urgencies = []string{"low", "medium", "high", "immediate"}
)

// Triage is a case's current triage state on this machine.
type Triage struct {
	Status   string `json:"status"`
	Category string `json:"category,omitempty"`
	Urgency  string `json:"urgency,omitempty"`
	Assigned string `json:"assigned,omitempty"`
}

// TriageChange is a change to a case's triage; an empty field means keep.
// Assign is one name, or "nobody" (or "-") for no one.
type TriageChange struct {
	Status, Category, Urgency, Assign string
}

// Check reports the first word of ch that Triage would refuse, without
// opening anything: a caller can check before asking for a passphrase.
func (ch TriageChange) Check() error {
	for _, v := range []struct {
		s string
		f func(string) (string, error)
	}{{ch.Status, parseStatus}, {ch.Category, parseCategory}, {ch.Urgency, parseUrgency}, {ch.Assign, parseAssign}} {
		if v.s != "" {
			if _, err := v.f(v.s); err != nil {
				return err
			}
		}
	}
	return nil
}

// Triage changes a case's triage and records each change in its
// chronology. It returns the new state.
func (s *Store) Triage(number uint64, ch TriageChange) (Triage, error) {
	rc, err := s.loadCaseNumber(number, false)
	if err != nil {
		return Triage{}, err
	}
	cur := Triage{Status: "new"}
	if rc.Triage != nil {
		if err := s.key.open(bTriage, []byte(rc.Thread), rc.Triage, &cur); err != nil {
			return Triage{}, err
		}
	}
	next := cur
	var changes []string
	set := func(label string, field *string, value string, parse func(string) (string, error)) error {
		if value == "" {
			return nil
		}
		v, err := parse(value)
		if err != nil {
			return err
		}
		if v != *field {
			old := *field
			if old == "" {
				old = "(none)"
			}
			changes = append(changes, fmt.Sprintf("%s: %s → %s", label, old, v))
			*field = v
		}
		return nil
	}
	if err := set("status", &next.Status, ch.Status, parseStatus); err != nil {
		return cur, err
	}
	if err := set("category", &next.Category, ch.Category, parseCategory); err != nil {
		return cur, err
	}
	if err := set("urgency", &next.Urgency, ch.Urgency, parseUrgency); err != nil {
		return cur, err
	}
	if err := set("assigned to", &next.Assigned, ch.Assign, parseAssign); err != nil {
		return cur, err
	}
	if len(changes) == 0 {
		return cur, nil
	}
	if next.Status == "new" && cur.Status == "new" && (next.Category != "" || next.Urgency != "") && ch.Status == "" {
		// Giving a category or urgency is triage.
		next.Status = "triaged"
		changes = append(changes, "status: new → triaged")
	}
	return next, s.setTriage(rc.Thread, next, changes)
}

// setTriage stores the case's new triage state, its chronology entries and
// its new summary in one transaction.
func (s *Store) setTriage(thread string, t Triage, changes []string) error {
	sealed, err := s.key.seal(bTriage, []byte(thread), t)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bThreads).Get([]byte(thread)) == nil {
			return ErrNoCase
		}
		if err := tx.Bucket(bTriage).Put([]byte(thread), sealed); err != nil {
			return err
		}
		for _, c := range changes {
			if _, err := s.appendEntry(tx, thread, entry{What: "triage", Text: c}); err != nil {
				return err
			}
		}
		return s.refreshDigest(tx, thread, nil)
	})
}

// parseAssign reads an assignee: one name, or "nobody" (or "-") for no one.
func parseAssign(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > 100 || strings.IndexFunc(v, UnsafeRune) >= 0 {
		return "", errors.New("--assign takes one name of at most 100 characters, on one line")
	}
	if strings.EqualFold(v, "nobody") || v == "-" {
		return "", nil
	}
	return v, nil
}

// normalize folds case, hyphens and underscores so "in-progress" and
// "In_Progress" both mean "in progress".
func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", " ", "_", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// pick finds value in words (what names it, with its article: "an
// urgency"), forgiving case, hyphens and spaces.
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
	return "", fmt.Errorf("%q is not %s; choose one of: %s", value, what, strings.Join(words, ", "))
}

// parseStatus, parseCategory and parseUrgency accept the listed words.
func parseStatus(s string) (string, error) { return pick("a status", s, Statuses) }

func parseCategory(s string) (string, error) { return pick("a category", s, Categories) }

func parseUrgency(s string) (string, error) { return pick("an urgency", s, Urgencies) }
