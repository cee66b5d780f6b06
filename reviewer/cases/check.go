package cases

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// checkPage checks a page's labels and opens the items not yet stored. An
// item with a bad label is marked to be set aside, not refused, so one bad
// item cannot block the member's queue. teams holds the team files the
// page's team items are checked against.
func (s *Store) checkPage(items []staff.Item, teams *teamSet) ([]itemCheck, error) {
	checks := make([]itemCheck, len(items))
	known := make([]bool, len(items))
	for i, it := range items {
		if err := checkWireItem(it); err != nil {
			checks[i] = itemCheck{done: true, rejected: err.Error()}
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		ib, rb := tx.Bucket(bItems), tx.Bucket(bRejected)
		for i, it := range items {
			known[i] = (vault.ValidID(it.ID) && ib.Get([]byte(it.ID)) != nil) || rb.Get(rejectedKey(it)) != nil
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to store items: %w", err)
	}
	for i, it := range items {
		if !known[i] && checks[i].rejected == "" {
			teams.load(it.Route) // for team items, and to tell a newcomer why an item waits
		}
	}
	parallel(len(items), func(i int) {
		if !known[i] && checks[i].rejected == "" {
			checks[i] = s.checkItem(items[i], teams)
		}
	})
	return checks, nil
}

// itemCheck is the result of opening one pulled item.
type itemCheck struct {
	done     bool
	rejected string      // why its labels are refused; it joins no case
	reason   string      // why it is set aside; "" if it opened and matched
	report   *reportText // for a report that opened
	replyTo  string      // the reply key a report or follow-up presents
	team     *teamCheck  // a team item whose author checked out
	recheck  bool        // set aside for want of a team file for its route
	kind     vault.Kind  // what it is: for a team item, what its envelope says
}

// teamCheck is a team item (a reply or an event) whose signature matches
// a member of its route's team, or the member's own key.
type teamCheck struct {
	env    *vault.Envelope
	signed *vault.Signed
	data   eventData // an event's content; a reply's reply_key
	name   string    // the author's name in the team file
	mine   bool
}

// checkItem opens a pulled item to find whether it can be trusted, and
// keeps what list shows of a report. The rest of the opened item is dropped.
func (s *Store) checkItem(it staff.Item, teams *teamSet) itemCheck {
	e, err := vault.Open(it.Sealed, s.ident)
	switch {
	case errors.Is(err, vault.ErrWrongKey) && s.inTeam(teams.get(it.Route)):
		return itemCheck{done: true, reason: asideBeforeJoining, kind: it.Kind}
	case err != nil:
		return itemCheck{done: true, reason: asideReason(err), kind: it.Kind}
	case it.Kind == vault.KindReply:
		return s.checkTeamItem(it, e, teams)
	case e.Kind != it.Kind || (e.Route != "" && e.Route != it.Route):
		return itemCheck{done: true, reason: "its sealed content does not match its label", kind: it.Kind}
	case e.Kind == vault.KindReport:
		return itemCheck{done: true, kind: e.Kind, replyTo: e.ReplyTo,
			report: &reportText{Preview: preview(e.Field("message")), Danger: e.Field("danger")}}
	}
	return itemCheck{done: true, kind: e.Kind, replyTo: e.ReplyTo}
}

// checkTeamItem checks a reply or team event: signed, for this case and
// item, by a member of the route's team in this computer's team file (or
// by this member), with content a reviewer writes.
func (s *Store) checkTeamItem(it staff.Item, e *vault.Envelope, teams *teamSet) itemCheck {
	aside := func(reason string) itemCheck { return itemCheck{done: true, reason: reason, kind: it.Kind} }
	if e.Kind != vault.KindReply && e.Kind != vault.KindEvent {
		return aside("its sealed content does not match its label")
	}
	sg, err := e.Verify(it.Thread, it.ID)
	switch {
	case errors.Is(err, vault.ErrUnsigned):
		return aside("it is not signed by its author, as every reply and team event is; it does not count as an answer")
	case errors.Is(err, vault.ErrBadSignature):
		return aside("its signature does not match its content: it was forged or changed; it does not count as an answer")
	case err != nil, sg.Route != it.Route:
		return aside("it was signed for another case or item and sent again as this one; it does not count as an answer")
	}
	tc := &teamCheck{env: e, signed: sg, name: sg.Name, mine: sg.Author == s.myKey}
	if !tc.mine {
		team := teams.get(it.Route)
		if team == nil {
			c := aside(fmt.Sprintf("no team file is recorded on this computer for route %s, so who wrote it cannot be checked; "+
				"it is checked again at each sync once there is one (reviewer init --team FILE --route %s)", it.Route, it.Route))
			c.recheck = true
			return c
		}
		pub, _ := vault.ParseSigningKey(sg.Author)
		tm, ok := team.Lookup(pub)
		if !ok {
			return aside(fmt.Sprintf("it is signed by someone who is not in this computer's team file for route %s; it does not count as an answer", it.Route))
		}
		tc.name = tm.Name
	}
	if len(sg.Data) > 0 {
		d := json.NewDecoder(bytes.NewReader(sg.Data))
		d.DisallowUnknownFields()
		if err := d.Decode(&tc.data); err != nil {
			return aside("its content is not valid")
		}
	}
	switch e.Kind {
	case vault.KindEvent:
		if err := tc.data.check(sg.Author); err != nil {
			return aside(err.Error())
		}
	case vault.KindReply:
		if tc.data.Type != "" || len(tc.data.Set) > 0 || len(tc.data.Prev) > 0 || tc.data.Text != "" || tc.data.Corrects != "" || len(tc.data.Items) > 0 {
			return aside("its content is not valid")
		}
	}
	return itemCheck{done: true, team: tc, kind: e.Kind}
}

// inTeam says whether this member's key is in team.
func (s *Store) inTeam(team *vault.Team) bool {
	if team == nil {
		return false
	}
	_, ok := team.Lookup(s.m.SigningPublic())
	return ok
}

func asideReason(err error) string {
	switch {
	case errors.Is(err, vault.ErrTampered):
		return "it was changed after it was sealed"
	case errors.Is(err, vault.ErrWrongKey):
		return "it cannot be opened with your key: it was sealed to others, or the part sealed to you was damaged"
	case errors.Is(err, vault.ErrTruncated):
		return "it is incomplete"
	case errors.Is(err, vault.ErrTooLarge):
		return "it is too large"
	}
	return "it is not a sealed Hearken item"
}

// checkWireItem refuses items whose labels could not be ours: the store keys
// records by these strings.
func checkWireItem(it staff.Item) error {
	bad := func(what string) error { return fmt.Errorf("the server sent it with an invalid %s", what) }
	switch {
	case !vault.ValidID(it.ID):
		return bad("id")
	case !vault.ValidID(it.Thread):
		return bad("thread id")
	case !routeName.MatchString(it.Route):
		return bad("route")
	case it.Kind != vault.KindReport && it.Kind != vault.KindFollowUp && it.Kind != vault.KindReply:
		return bad("kind")
	case len(it.Sealed) == 0:
		return bad("content")
	}
	if _, err := time.Parse("2006-01-02", it.Day); err != nil {
		return bad("day")
	}
	return nil
}

// rejectedItem is an item set aside for its labels, as it arrived.
type rejectedItem struct {
	Reason string     `json:"reason"`
	Day    string     `json:"day"` // the local day it arrived
	Item   staff.Item `json:"item"`
}

// rejectedKey is the key of an item in bRejected: its id when that is
// usable, else a hash of the whole item, so a repeat is stored once.
func rejectedKey(it staff.Item) []byte {
	if vault.ValidID(it.ID) {
		return []byte(it.ID)
	}
	data, _ := json.Marshal(it)
	sum := sha256.Sum256(data)
	return []byte("sha256:" + hex.EncodeToString(sum[:]))
}

// rejectedItems lists the items set aside for their labels.
func (s *Store) rejectedItems() ([]SetAsideItem, error) {
	var out []SetAsideItem
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bRejected).ForEach(func(k, v []byte) error {
			var r rejectedItem
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%w: an unreadable record", ErrStoreCorrupt)
			}
			out = append(out, SetAsideItem{ID: string(k), Reason: r.Reason})
			return nil
		})
	})
	return out, err
}
