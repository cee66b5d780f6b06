package reviewer

import (
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/vault"
)

// maxMessage bounds a reply or note typed by a team member.
const maxMessage = 64 << 10

func checkText(what, text string) (string, error) {
	text = strings.TrimRight(text, "\r\n")
	switch {
	case strings.TrimSpace(text) == "":
		return "", fmt.Errorf("the %s is empty", what)
	case len(text) > maxMessage:
		return "", fmt.Errorf("the %s is too long (at most %d KiB)", what, maxMessage>>10)
	}
	return text, nil
}

// Reply seals a reply to the case's reporter (the thread's reply recipient)
// and to every member of team, and queues it for the next sync. It returns
// the reply's id.
func (s *Store) Reply(number uint64, text string, team *vault.Team) (string, error) {
	text, err := checkText("reply", text)
	if err != nil {
		return "", err
	}
	cv, err := s.Show(number)
	if err != nil {
		return "", err
	}
	if cv.ReplyTo == "" {
		if cv.Notice != "" {
			return "", errors.New(cv.Notice)
		}
		return "", errors.New("the report of this case could not be opened on this computer (see reviewer show), so there is no way to reach the reporter from here; ask a colleague on the team to reply")
	}
	reporter, err := age.ParseHybridRecipient(cv.ReplyTo)
	if err != nil {
		return "", errors.New("the report of this case carries no valid reply address")
	}
	recipients := []age.Recipient{reporter}
	self := s.m.Recipient().String()
	haveSelf := false
	for _, tm := range team.Members {
		recipients = append(recipients, tm.Recipient)
		if tm.Recipient.String() == self {
			haveSelf = true
		}
	}
	if !haveSelf {
		// Keep the author able to read their own reply when it comes back.
		recipients = append(recipients, s.m.Recipient())
	}
	e := &vault.Envelope{Kind: vault.KindReply, Day: s.today(), Route: cv.Route,
		Fields: []vault.Field{{Name: "message", Value: text}}, Author: s.m.Name}
	sealed, err := vault.Seal(e, recipients...)
	if err != nil {
		return "", err
	}
	if len(sealed) > vault.MaxReplySize {
		return "", errors.New("the reply is too large to send")
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return "", err
	}
	if err := s.QueueReply(cv.Thread, id.String(), sealed); err != nil {
		return "", err
	}
	return id.String(), nil
}

// TriageChange is what reviewer triage asks to change; empty means keep.
type TriageChange struct {
	Status, Category, Urgency, Assign string
}

// SetTriageFields changes a case's triage and records each change in its
// chronology. It returns the new state.
func (s *Store) SetTriageFields(number uint64, ch TriageChange) (Triage, error) {
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
	if err := set("status", &next.Status, ch.Status, ParseStatus); err != nil {
		return cur, err
	}
	if err := set("category", &next.Category, ch.Category, ParseCategory); err != nil {
		return cur, err
	}
	if err := set("urgency", &next.Urgency, ch.Urgency, ParseUrgency); err != nil {
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
	return next, s.SetTriage(rc.Thread, next, changes)
}

// parseAssign reads --assign: one name, or "nobody" (or "-") for no one.
func parseAssign(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > 100 || strings.IndexFunc(v, unsafeRune) >= 0 {
		return "", errors.New("--assign takes one name of at most 100 characters, on one line")
	}
	if strings.EqualFold(v, "nobody") || v == "-" {
		return "", nil
	}
	return v, nil
}

// AddNote adds a note, or a correction of entry corrects, to a case.
func (s *Store) AddNote(number uint64, text string, corrects uint64) (uint64, error) {
	text, err := checkText("note", text)
	if err != nil {
		return 0, err
	}
	thread, err := s.caseThread(number)
	if err != nil {
		return 0, err
	}
	what := "note"
	if corrects != 0 {
		what = "correction"
	}
	return s.AddEntry(thread, Entry{What: what, Text: text, Corrects: corrects})
}
