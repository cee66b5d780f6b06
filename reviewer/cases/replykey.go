package cases

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// Reply keys. A report carries its thread's reply recipient, and replies
// are sealed to it. The server seals reports to the team itself, so a
// malicious server could add a second "report" to a thread, with a reply
// key of its own, and read every answer sealed to it. So a thread has
// exactly one report: the reviewer pins the reply key of the first report
// it receives for a thread, sets aside any later report (and any follow-up
// that presents a reply key at all), and when one of them presents another
// key, or a colleague's reviewer has pinned another, refuses to reply
// until a lead says which key is the reporter's (Resolve). Show gives the
// pinned key's fingerprint so colleagues can compare.

// ErrReplyKeyConflict means a case has been given more than one reply
// key and no lead has said which is the reporter's.
var ErrReplyKeyConflict = errors.New("this case has been given more than one reply key")

// Why items that present a reply key are set aside.
const (
	asideSecondReport = "a second report arrived for this case: a case has one report, and this one may come from the server rather than the reporter"
	asideFollowUpKey  = "a follow-up presented a reply key, which reporters' follow-ups never do"
	asideKeyRejected  = "a lead decided its reply key is not the reporter's (reviewer resolve)"
)

// opensAside says whether an item set aside for reason is still opened
// for reading: its content is sound, only the reply key it presents is in
// doubt, and a lead must read it to decide.
func opensAside(reason string) bool {
	return strings.HasPrefix(reason, asideSecondReport) || strings.HasPrefix(reason, asideFollowUpKey) || reason == asideKeyRejected
}

// pinRec is a case's pinned reply key and the others it has been given.
type pinRec struct {
	ReplyTo string     `json:"reply_to"`
	Item    string     `json:"item,omitempty"` // the report it came from
	Claims  []keyClaim `json:"claims,omitempty"`
}

// keyClaim is another reply key a case was given.
type keyClaim struct {
	Fingerprint string `json:"fingerprint"`
	ReplyTo     string `json:"reply_to,omitempty"` // the key, when an item here presented it
	Item        string `json:"item,omitempty"`
	From        string `json:"from"` // in words: "a second report", "Ms Patel's reviewer"
	Day         string `json:"day"`
	// Settled says who decided against it, or for it, and when.
	Settled string `json:"settled,omitempty"`
}

// Fingerprint is a short form of a reply key for people to compare:
// twelve symbols of the key's SHA-256 ("7K3M-Q9XD-2F4A").
func Fingerprint(replyTo string) string {
	if replyTo == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(replyTo))
	var n uint64
	for _, b := range sum[:8] {
		n = n<<8 | uint64(b)
	}
	var out [12]byte
	for i := range out {
		out[i] = crockford[n>>59]
		n <<= 5
	}
	return string(out[:4]) + "-" + string(out[4:8]) + "-" + string(out[8:])
}

func (s *Store) loadPin(tx *bolt.Tx, thread string) (*pinRec, error) {
	if c := s.pins.Load(); c != nil && c.tx == tx {
		if p, ok := c.pins[thread]; ok {
			return p.clone(), nil
		}
	}
	v := tx.Bucket(bPins).Get([]byte(thread))
	if v == nil {
		return nil, nil
	}
	var p pinRec
	if err := s.key.open(bPins, []byte(thread), v, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *Store) putPin(tx *bolt.Tx, thread string, p *pinRec) error {
	sealed, err := s.key.seal(bPins, []byte(thread), p)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bPins).Put([]byte(thread), sealed); err != nil {
		return err
	}
	if c := s.pins.Load(); c != nil && c.tx == tx {
		c.pins[thread] = p.clone()
	}
	return nil
}

// pinCache holds the pins one write transaction has stored, as they were
// stored, so that reading one back (a page's summaries read the pins its
// reports have just made) does not open it again. Only that transaction,
// on its own goroutine, uses it: loadPin and putPin check it is theirs.
type pinCache struct {
	tx   *bolt.Tx
	pins map[string]*pinRec
}

// cachePins keeps the pins tx stores until the returned function is called.
func (s *Store) cachePins(tx *bolt.Tx) (done func()) {
	c := &pinCache{tx: tx, pins: map[string]*pinRec{}}
	s.pins.Store(c)
	return func() { s.pins.CompareAndSwap(c, nil) }
}

func (p *pinRec) clone() *pinRec {
	c := *p
	c.Claims = slices.Clone(p.Claims)
	return &c
}

// ensurePin pins the reply key of a case stored before keys were pinned:
// that of its first report here that is not set aside. It returns nil
// when the case has no such report.
func (s *Store) ensurePin(tx *bolt.Tx, thread string) (*pinRec, error) {
	p, err := s.loadPin(tx, thread)
	if p != nil || err != nil {
		return p, err
	}
	rc, err := loadCase(tx, []byte(thread), false)
	if err != nil {
		return nil, err
	}
	for _, m := range rc.Items {
		if m.Kind != vault.KindReport || rc.Aside[m.ID] != "" {
			continue
		}
		e, err := vault.Open(tx.Bucket(bSealed).Get(be(m.Order)), s.ident)
		if err != nil || e.ReplyTo == "" {
			continue
		}
		p = &pinRec{ReplyTo: e.ReplyTo, Item: m.ID}
		return p, s.putPin(tx, thread, p)
	}
	return nil, nil
}

// claim records another reply key given to a case, unless it is the
// pinned one or already recorded.
func (p *pinRec) claim(c keyClaim) bool {
	if c.Fingerprint == Fingerprint(p.ReplyTo) {
		return false
	}
	for i, o := range p.Claims {
		if o.Fingerprint == c.Fingerprint {
			if o.ReplyTo == "" && c.ReplyTo != "" {
				p.Claims[i].ReplyTo, p.Claims[i].Item = c.ReplyTo, c.Item
			}
			return false
		}
	}
	p.Claims = append(p.Claims, c)
	return true
}

// open reports the claims no lead has settled.
func (p *pinRec) open() []keyClaim {
	var out []keyClaim
	for _, c := range p.Claims {
		if c.Settled == "" {
			out = append(out, c)
		}
	}
	return out
}

// KeyClaim is another reply key a case was given, as Show reports it.
type KeyClaim struct {
	Fingerprint string `json:"fingerprint"`
	From        string `json:"from"`
	Day         string `json:"day"`
	Settled     string `json:"settled,omitempty"`
}

// keyProblem says in words what is wrong with a case's reply keys ("" if
// nothing is).
func keyProblem(p *pinRec) string {
	open := p.open()
	if len(open) == 0 {
		return ""
	}
	var others []string
	for _, c := range open {
		others = append(others, c.Fingerprint+" (from "+c.From+", "+c.Day+")")
	}
	return fmt.Sprintf("this case has been given more than one reply key: this computer holds %s, and also %s. "+
		"A reply sealed to the wrong key could be read by whoever made it, so replies wait until a lead compares "+
		"fingerprints with colleagues and chooses: reviewer resolve CASE --keep FINGERPRINT",
		Fingerprint(p.ReplyTo), strings.Join(others, "; "))
}

// Resolve says which reply key is the reporter's, by its fingerprint: the
// one pinned here, or another the case was given by an item here. Items
// presenting the other keys are set aside, and the decision goes to the
// team as an event.
func (s *Store) Resolve(number uint64, keep string) error {
	keep = strings.ToUpper(strings.TrimSpace(keep))
	thread, err := s.caseThread(number)
	if err != nil {
		return err
	}
	var kept string
	err = s.db.Update(func(tx *bolt.Tx) error {
		p, err := s.ensurePin(tx, thread)
		if err != nil {
			return err
		}
		if p == nil {
			return errors.New("this computer holds no report of this case, so it has no reply key to keep")
		}
		settled := "settled by " + s.m.Name + " on " + s.today()
		switch {
		case keep == Fingerprint(p.ReplyTo):
		default:
			i := -1
			for j, c := range p.Claims {
				if c.Fingerprint == keep {
					i = j
				}
			}
			if i < 0 {
				return fmt.Errorf("%s is not a reply key of this case (see reviewer show)", clip(keep))
			}
			c := p.Claims[i]
			if c.ReplyTo == "" {
				return fmt.Errorf("this computer has not received the item that holds reply key %s (%s has it): ask them to reply, or to resolve it on their computer", c.Fingerprint, c.From)
			}
			// The chosen key becomes the case's; the one pinned here
			// becomes a claim, settled against.
			old := keyClaim{Fingerprint: Fingerprint(p.ReplyTo), ReplyTo: p.ReplyTo, Item: p.Item, From: "the first report here", Day: s.today()}
			p.Claims = append(p.Claims[:i], p.Claims[i+1:]...)
			p.ReplyTo, p.Item = c.ReplyTo, c.Item
			p.Claims = append(p.Claims, old)
			ab := tx.Bucket(bAside)
			if c.Item != "" {
				if err := ab.Delete([]byte(c.Item)); err != nil {
					return err
				}
			}
			if old.Item != "" {
				if err := ab.Put([]byte(old.Item), []byte(asideKeyRejected)); err != nil {
					return err
				}
			}
		}
		for i := range p.Claims {
			if p.Claims[i].Settled == "" {
				p.Claims[i].Settled = settled
			}
		}
		kept = Fingerprint(p.ReplyTo)
		if err := s.putPin(tx, thread, p); err != nil {
			return err
		}
		return s.refreshDigest(tx, thread, nil)
	})
	if err != nil {
		return err
	}
	_, err = s.addEvent(thread, func(*caseState) (*eventData, error) {
		return &eventData{Type: evReplyKey, Text: "decided that reply key " + kept + " is the reporter's"}, nil
	})
	return err
}
