package cases

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// A case's shared record is a log of team events: triage changes,
// assignments, "I am handling this", notes, corrections, exports and
// reply-key decisions. Each is signed by its author (vault.SignItem), kept
// here as signed, sealed to the route's team when it is sent, and merged
// the same way on every computer (merge.go). Events are only ever added;
// a correction is a new event that names the one it corrects.

// Event types.
const (
	evTriage     = "triage"     // Set: status, category, urgency, assigned
	evHandling   = "handling"   // Set: handler (the author's key, or "")
	evNote       = "note"       // Text
	evCorrection = "correction" // Text, Corrects
	evExport     = "export"     // Text
	evReplyKey   = "reply-key"  // Text, ReplyKey: a reply-key conflict resolved
	// evHandover (handover.go): Text, Items
)

// Shared fields of a case, in the order they are shown.
const (
	fStatus   = "status"
	fCategory = "category"
	fUrgency  = "urgency"
	fAssigned = "assigned"
	fHandler  = "handler"
)

// registerFields are the fields merged as registers, in the order shown.
var registerFields = []string{fStatus, fCategory, fUrgency, fAssigned}

// eventData is an event's content: vault.Signed's Data.
type eventData struct {
	Type string `json:"type"`
	// Set gives fields their new values ("" clears one).
	Set map[string]string `json:"set,omitempty"`
	// Prev names, for each field in Set, the events whose values of it the
	// author's reviewer showed as current: what this change replaces. Two
	// changes of a field of which neither names the other were made
	// without seeing each other, and are shown as a conflict.
	Prev     map[string][]string `json:"prev,omitempty"`
	Text     string              `json:"text,omitempty"`
	Corrects string              `json:"corrects,omitempty"` // the event a correction corrects
	// After is the newest message of the case the author had (a report,
	// follow-up or reply), which places the event in the chronology.
	After string `json:"after,omitempty"`
	// ReplyKey is the fingerprint of the reply key the author's reviewer
	// holds for the case, so colleagues' reviewers can compare.
	ReplyKey string `json:"reply_key,omitempty"`
	// Items are a handover's items, sealed again for the team.
	Items []handedItem `json:"items,omitempty"`
}

// Limits on events from colleagues.
const (
	maxPrev       = 64
	maxAssignName = 100
)

// check refuses content no reviewer writes: an unknown type or field, a
// value outside the vocabularies, a claim to handle a case for someone
// else, ids that are not ids, text over the limit.
func (d *eventData) check(author string) error {
	bad := func(what string) error { return fmt.Errorf("its content is not valid (%s)", what) }
	switch d.Type {
	case evTriage, evHandling:
		if len(d.Set) == 0 {
			return bad("it changes nothing")
		}
	case evNote, evExport, evReplyKey, evCorrection:
		if len(d.Set) > 0 || len(d.Prev) > 0 {
			return bad("a note that changes fields")
		}
		if _, err := CheckText("note", d.Text); err != nil {
			return bad("its text")
		}
	case evHandover:
		if len(d.Set) > 0 || len(d.Prev) > 0 {
			return bad("a handover that changes fields")
		}
		if _, err := CheckText("note", d.Text); err != nil {
			return bad("its text")
		}
		if err := checkHanded(d.Items); err != nil {
			return bad(err.Error())
		}
	default:
		return fmt.Errorf("it is a kind of team event this version of reviewer does not know (%q); update reviewer", clip(d.Type))
	}
	for f, v := range d.Set {
		var ok bool
		switch f {
		case fStatus:
			ok = slices.Contains(Statuses, v)
		case fCategory:
			ok = v == "" || slices.Contains(Categories, v)
		case fUrgency:
			ok = v == "" || slices.Contains(Urgencies, v)
		case fAssigned:
			ok = len(v) <= maxAssignName && strings.IndexFunc(v, UnsafeRune) < 0
		case fHandler:
			ok = d.Type == evHandling && (v == "" || v == author)
		}
		if !ok || (f == fHandler) != (d.Type == evHandling) {
			return bad("field " + clip(f))
		}
	}
	for f, ids := range d.Prev {
		if _, set := d.Set[f]; !set || len(ids) > maxPrev {
			return bad("what it replaces")
		}
		for _, id := range ids {
			if !vault.ValidID(id) {
				return bad("what it replaces")
			}
		}
	}
	if len(d.Items) > 0 && d.Type != evHandover {
		return bad("items in an event that hands nothing over")
	}
	if (d.Corrects != "") != (d.Type == evCorrection) || (d.Corrects != "" && !vault.ValidID(d.Corrects)) {
		return bad("what it corrects")
	}
	if d.After != "" && !vault.ValidID(d.After) {
		return bad("its place")
	}
	if len(d.ReplyKey) > 64 || strings.IndexFunc(d.ReplyKey, UnsafeRune) >= 0 {
		return bad("its reply key")
	}
	return nil
}

// clip shortens a colleague's word for an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return strings.Map(func(r rune) rune {
		if UnsafeRune(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// eventRec is a team event as stored: exactly as its author signed it.
type eventRec struct {
	Signed json.RawMessage `json:"signed"`
	Sig    []byte          `json:"sig"`
	// Name is the author's name in the team file when it was checked
	// (or the member's own, for events written here).
	Name string `json:"name"`
	Mine bool   `json:"mine,omitempty"`
	// Failed says why the server will never take an event written here.
	Failed string `json:"failed,omitempty"`
}

// event is a stored event, decoded.
type event struct {
	vault.Signed
	data    eventData
	name    string
	mine    bool
	pending bool   // written here, not yet sent
	failed  string // written here, refused by the server
}

func eventKey(thread, id string) []byte { return []byte(thread + id) }

// loadEvents reads and decodes a case's events, in no particular order.
func (s *Store) loadEvents(tx *bolt.Tx, thread string) ([]*event, error) {
	var out []*event
	prefix := []byte(thread)
	out2 := tx.Bucket(bEventOut)
	c := tx.Bucket(bEvents).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == 2*len(thread); k, v = c.Next() {
		var r eventRec
		if err := s.key.open(bEvents, k, v, &r); err != nil {
			return nil, err
		}
		e, err := decodeEvent(r)
		if err != nil {
			return nil, fmt.Errorf("%w: an unreadable event", ErrStoreCorrupt)
		}
		e.pending = r.Mine && out2.Get([]byte(e.ID)) != nil
		out = append(out, e)
	}
	return out, nil
}

func decodeEvent(r eventRec) (*event, error) {
	e := &event{name: r.Name, mine: r.Mine, failed: r.Failed}
	if err := json.Unmarshal(r.Signed, &e.Signed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(e.Data, &e.data); err != nil {
		return nil, err
	}
	return e, nil
}

// putEvent stores a verified event, unless one with its id is there.
func (s *Store) putEvent(tx *bolt.Tx, thread string, r eventRec, id string) (bool, error) {
	k := eventKey(thread, id)
	b := tx.Bucket(bEvents)
	if b.Get(k) != nil {
		return false, nil
	}
	sealed, err := s.key.seal(bEvents, k, r)
	if err != nil {
		return false, err
	}
	return true, b.Put(k, sealed)
}

// addEvent writes an event of the member's own on thread's case, signed,
// and queues it for the next sync: the new state shows at once here, and
// on colleagues' computers once it reaches them. build fills the event
// from the case's current state; it returns nil data for no change. It
// returns the event's number in the case's chronology (0 for none).
func (s *Store) addEvent(thread string, build func(st *caseState) (*eventData, error)) (int, error) {
	var num int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var c caseRec
		if err := getJSON(tx.Bucket(bThreads), []byte(thread), &c); err != nil {
			return err
		}
		st, err := s.caseState(tx, thread)
		if err != nil {
			return err
		}
		d, err := build(st)
		if err != nil || d == nil {
			return err
		}
		rc, err := loadCase(tx, []byte(thread), false)
		if err != nil {
			return err
		}
		d.After = lastMessage(rc)
		if pin, err := s.loadPin(tx, thread); err == nil && pin != nil {
			d.ReplyKey = Fingerprint(pin.ReplyTo)
		}
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		id, err := uuid.NewRandom()
		if err != nil {
			return err
		}
		env, err := vault.SignItem(s.m, &vault.Signed{Thread: thread, ID: id.String(), Kind: vault.KindEvent,
			Lamport: st.clock + 1, Day: s.today(), Route: c.Route, Data: data})
		if err != nil {
			return err
		}
		if _, err := s.putEvent(tx, thread, eventRec{Signed: env.Signed, Sig: env.Sig, Name: s.m.Name, Mine: true}, id.String()); err != nil {
			return err
		}
		if err := tx.Bucket(bEventOut).Put([]byte(id.String()), []byte(thread)); err != nil {
			return err
		}
		if err := s.refreshDigest(tx, thread, nil); err != nil {
			return err
		}
		// Its Lamport time is greater than every other's, so it is last
		// in the merged order (merge.go).
		num = len(st.events) + 1
		return nil
	})
	return num, err
}

// lastMessage is the id of the newest report, follow-up or reply of a
// case here ("" if none).
func lastMessage(rc *rawCase) string {
	for i := len(rc.Items) - 1; i >= 0; i-- {
		if rc.Items[i].Kind != vault.KindEvent {
			return rc.Items[i].ID
		}
	}
	return ""
}
