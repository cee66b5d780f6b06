package cases

import (
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/vault"
)

// MaxMessage bounds a reply or note typed by a team member, in bytes.
const MaxMessage = 64 << 10

// CheckText checks the text of a reply or note (what says which, for the
// error) as Reply and Note will, and returns it as they keep it: without
// trailing line breaks. A caller can check before asking for a passphrase.
func CheckText(what, text string) (string, error) {
	text = strings.TrimRight(text, "\r\n")
	switch {
	case strings.TrimSpace(text) == "":
		return "", fmt.Errorf("the %s is empty", what)
	case len(text) > MaxMessage:
		return "", fmt.Errorf("the %s is too long (at most %d KiB)", what, MaxMessage>>10)
	}
	return text, nil
}

// Reply seals a reply to the case's reporter (the thread's reply recipient)
// and to every member of team, and queues it for the next sync. It returns
// the reply's id.
func (s *Store) Reply(number uint64, text string, team *vault.Team) (string, error) {
	text, err := CheckText("reply", text)
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
	if err := s.queueReply(cv.Thread, id.String(), sealed); err != nil {
		return "", err
	}
	return id.String(), nil
}
