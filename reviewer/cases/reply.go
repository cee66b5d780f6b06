package cases

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
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

// Reply seals a reply to the case's reporter (its pinned reply key) and to
// every member of team, signed by the member, and queues it for the next
// sync. It returns the reply's id. A case given more than one reply key is
// refused with ErrReplyKeyConflict until a lead resolves it.
func (s *Store) Reply(number uint64, text string, team *vault.Team) (string, error) {
	text, err := CheckText("reply", text)
	if err != nil {
		return "", err
	}
	cv, err := s.Show(number)
	if err != nil {
		return "", err
	}
	if cv.KeyProblem != "" {
		return "", fmt.Errorf("%w, and no lead has said which is the reporter's: %s", ErrReplyKeyConflict,
			strings.TrimPrefix(cv.KeyProblem, "this case has been given more than one reply key: "))
	}
	if cv.ReplyTo == "" {
		if cv.Notice != "" {
			return "", errors.New(cv.Notice)
		}
		return "", errors.New("the report of this case could not be opened on this computer (see reviewer show), so there is no way to reach the reporter from here; ask a colleague on the team to reply")
	}
	// Pin the key now if the case was stored before keys were pinned.
	var clock uint64
	err = s.db.Update(func(tx *bolt.Tx) error {
		p, err := s.ensurePin(tx, cv.Thread)
		if err != nil {
			return err
		}
		if p == nil || p.ReplyTo != cv.ReplyTo {
			return ErrReplyKeyConflict
		}
		st, err := s.caseState(tx, cv.Thread)
		if err != nil {
			return err
		}
		clock = st.clock
		return nil
	})
	if err != nil {
		return "", err
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return "", err
	}
	sealed, err := s.sealReply(cv.Thread, id.String(), cv.Route, cv.ReplyTo, clock+1, text, team)
	if err != nil {
		return "", err
	}
	if err := s.queueReply(cv.Thread, id.String(), sealed); err != nil {
		return "", err
	}
	return id.String(), nil
}

// sealReply signs a reply and seals it to the reporter's key, the team and
// the author.
func (s *Store) sealReply(thread, id, route, replyTo string, lamport uint64, text string, team *vault.Team) ([]byte, error) {
	reporter, err := age.ParseHybridRecipient(replyTo)
	if err != nil {
		return nil, errors.New("the report of this case carries no valid reply address")
	}
	recipients := append([]age.Recipient{reporter}, s.teamRecipients(team)...)
	data, err := json.Marshal(eventData{ReplyKey: Fingerprint(replyTo)})
	if err != nil {
		return nil, err
	}
	e, err := vault.SignItem(s.m, &vault.Signed{Thread: thread, ID: id, Kind: vault.KindReply, Lamport: lamport,
		Day: s.today(), Route: route, Fields: []vault.Field{{Name: "message", Value: text}}, Data: data})
	if err != nil {
		return nil, err
	}
	sealed, err := vault.Seal(e, recipients...)
	if err != nil {
		return nil, err
	}
	if len(sealed) > vault.MaxReplySize {
		return nil, errors.New("the reply is too large to send")
	}
	return sealed, nil
}

// resignReply signs a reply written before replies were signed and not
// yet sent, seals it again to the case's pinned key and the route's team
// here, and keeps the new sealed form in its place.
func (s *Store) resignReply(o outgoing) ([]byte, error) {
	e, err := vault.Open(o.Sealed, s.ident)
	if err != nil {
		return nil, err
	}
	var (
		m     itemMeta
		route string
		pin   *pinRec
		clock uint64
	)
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bItems), []byte(o.ID), &m); err != nil {
			return err
		}
		var c caseRec
		if err := getJSON(tx.Bucket(bThreads), []byte(o.Thread), &c); err != nil {
			return err
		}
		route = c.Route
		if pin, err = s.ensurePin(tx, o.Thread); err != nil {
			return err
		}
		st, err := s.caseState(tx, o.Thread)
		if err != nil {
			return err
		}
		clock = st.clock
		return nil
	})
	if err != nil {
		return nil, err
	}
	if pin == nil || len(pin.open()) > 0 {
		return nil, ErrReplyKeyConflict
	}
	team, err := s.TeamFor(route)
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealReply(o.Thread, o.ID, route, pin.ReplyTo, clock+1, e.Field("message"), team)
	if err != nil {
		return nil, err
	}
	return sealed, s.db.Update(func(tx *bolt.Tx) error {
		m.Legacy = false
		if err := putJSON(tx.Bucket(bItems), []byte(o.ID), m); err != nil {
			return err
		}
		return tx.Bucket(bSealed).Put(be(m.Order), sealed)
	})
}
