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

// Triage is a case's triage: its shared record merged (merge.go).
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

// Triage changes a case's triage. The change is a signed team event: it
// shows here at once, goes to the team with the next sync, and shows
// there once it arrives. It returns the new state; a change to what the
// case already shows changes nothing.
func (s *Store) Triage(number uint64, ch TriageChange) (Triage, error) {
	if err := ch.Check(); err != nil {
		return Triage{}, err
	}
	thread, err := s.caseThread(number)
	if err != nil {
		return Triage{}, err
	}
	var next Triage
	_, err = s.addEvent(thread, func(st *caseState) (*eventData, error) {
		cur := st.triage()
		next = cur
		d := &eventData{Type: evTriage, Set: map[string]string{}, Prev: map[string][]string{}}
		set := func(f string, field *string, value string, parse func(string) (string, error)) {
			if value == "" {
				return
			}
			v, _ := parse(value)
			// A field in conflict is set again even to the value shown:
			// that settles the conflict.
			if v != *field || len(st.fields[f].heads) > 1 || st.fields[f].local {
				*field = v
				d.Set[f] = v
				if h := st.heads(f); len(h) > 0 {
					d.Prev[f] = h
				}
			}
		}
		set(fStatus, &next.Status, ch.Status, parseStatus)
		set(fCategory, &next.Category, ch.Category, parseCategory)
		set(fUrgency, &next.Urgency, ch.Urgency, parseUrgency)
		set(fAssigned, &next.Assigned, ch.Assign, parseAssign)
		if len(d.Set) == 0 {
			return nil, nil
		}
		if next.Status == "new" && cur.Status == "new" && (next.Category != "" || next.Urgency != "") && ch.Status == "" {
			// Giving a category or urgency is triage.
			next.Status = "triaged"
			d.Set[fStatus] = "triaged"
			if h := st.heads(fStatus); len(h) > 0 {
				d.Prev[fStatus] = h
			}
		}
		if len(d.Prev) == 0 {
			d.Prev = nil
		}
		return d, nil
	})
	return next, err
}

// Handle records that the member is handling a case ("I am handling
// this"), or with on false that they no longer are, as a signed team
// event, so colleagues do not also answer, or all assume someone else
// will. It returns the names of whoever the case now shows as handling it.
func (s *Store) Handle(number uint64, on bool) ([]string, error) {
	thread, err := s.caseThread(number)
	if err != nil {
		return nil, err
	}
	var who []string
	_, err = s.addEvent(thread, func(st *caseState) (*eventData, error) {
		who = st.handling()
		if st.handles(s.myKey) == on {
			return nil, nil
		}
		v := ""
		if on {
			v = s.myKey
		}
		return &eventData{Type: evHandling, Set: map[string]string{fHandler: v}}, nil
	})
	if err != nil {
		return nil, err
	}
	var st *caseState
	err = s.db.View(func(tx *bolt.Tx) (err error) {
		st, err = s.caseState(tx, thread)
		return err
	})
	if err != nil {
		return who, err
	}
	return st.handling(), nil
}

// parseAssign reads an assignee: one name, or "nobody" (or "-") for no one.
func parseAssign(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > maxAssignName || strings.IndexFunc(v, UnsafeRune) >= 0 {
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
