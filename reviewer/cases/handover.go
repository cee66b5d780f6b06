package cases

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
	bolt "go.etcd.io/bbolt"
)

// Handing a case over. Everything on a case is sealed to its route's team
// as it stood when it was written, and leaves the server once every member
// of the time has fetched it: a member who joins later (or whose key was
// replaced) can open neither what came before nor what is gone. A
// colleague who can open the case hands it over: their reviewer opens each
// item of the case and seals it again, unchanged, to the route's team as
// their team file has it now, inside a team event (evHandover) that they
// sign and send like any other, so every member sees who handed over what.
//
// The newcomer's reviewer checks the handover like any other event, then
// each item in it as if the server had sent it: a reply or an event must
// still carry its own author's signature, made for this case and this item,
// by a member of the route's team file; a report or follow-up is taken on
// the word of the colleague who signed the handover (the reporter signs
// nothing). An item already readable here is left as it is; one set aside
// because it could not be opened is replaced by the readable copy.

// evHandover is the event type of a handover: Items, and Text saying what
// was handed over.
const evHandover = "handover"

// handedItem is one item of a case, sealed again for a handover.
type handedItem struct {
	ID     string     `json:"id"`
	Kind   vault.Kind `json:"kind"` // report, followup, reply or event
	Day    string     `json:"day"`
	Sealed []byte     `json:"sealed"`
}

// maxHandoverBytes bounds the sealed items of one handover event, so that
// the event (in base64, signed and sealed again) stays in the 1 MiB padding
// bucket and under vault.MaxReplySize. A case with more is handed over in
// several events; an item that is larger alone (a report's attachments)
// is handed over without its attachments.
const maxHandoverBytes = 640 << 10

// asideBeforeJoining is why an item sealed to the route's team without
// this member (before they joined it) is set aside until it is handed over.
const asideBeforeJoining = "it was sealed to the team before you joined it (or without you), so your key cannot open it; " +
	"a colleague who can open it can hand the case over to you (reviewer handover CASE)"

// HandoverResult says what Handover did for one case.
type HandoverResult struct {
	Case   string `json:"case"`
	Items  int    `json:"items"`  // items sealed again for the team
	Events int    `json:"events"` // handover events written, sent at the next sync
	// NoAttachments counts items handed over without their attachments,
	// too large to travel in a handover: the member can export them.
	NoAttachments int `json:"no_attachments,omitempty"`
	// Unreadable counts items this member cannot open either.
	Unreadable int `json:"unreadable,omitempty"`
}

// Handover seals every item of case n that this member can open again, to
// the route's team as the team file here has it now, in signed handover
// events that the next sync sends. Items written here and not yet sent are
// left out (they are sealed to the team as it is when they are sent), and
// so are earlier handovers.
func (s *Store) Handover(n uint64) (*HandoverResult, error) {
	thread, err := s.caseThread(n)
	if err != nil {
		return nil, err
	}
	var rc *rawCase
	err = s.db.View(func(tx *bolt.Tx) error {
		rc, err = loadCase(tx, []byte(thread), true)
		return err
	})
	if err != nil {
		return nil, err
	}
	team, err := s.TeamFor(rc.Route)
	if err != nil {
		return nil, err
	}
	recipients, names := s.teamRecipients(team), []string{}
	for _, tm := range team.Members {
		names = append(names, tm.Name)
	}
	res := &HandoverResult{Case: CaseNumber(n)}
	var batches [][]handedItem
	size := 0
	for _, m := range rc.Items {
		if m.Mine && (!m.Sent || m.Failed != "") || m.Kind == vault.KindNote {
			continue
		}
		if reason, aside := rc.Aside[m.ID]; aside && !opensAside(reason) {
			res.Unreadable++
			continue
		}
		h, dropped, err := s.resealItem(m, rc.Sealed[m.ID], recipients)
		if err != nil {
			res.Unreadable++
			continue
		}
		if h == nil {
			continue // an earlier handover
		}
		if dropped {
			res.NoAttachments++
		}
		if len(batches) == 0 || size+len(h.Sealed) > maxHandoverBytes {
			batches, size = append(batches, nil), 0
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], *h)
		size += len(h.Sealed)
		res.Items++
	}
	if res.Items == 0 {
		return res, nil
	}
	for i, b := range batches {
		text := fmt.Sprintf("handed over %s of the case, sealed again for the team: %s", count(len(b), "item", "items"), strings.Join(names, ", "))
		if len(batches) > 1 {
			text += fmt.Sprintf(" (part %d of %d)", i+1, len(batches))
		}
		if i == len(batches)-1 && res.NoAttachments > 0 {
			text += fmt.Sprintf("; the attachments of %s were too large to hand over: %s holds them",
				count(res.NoAttachments, "item", "items"), s.m.Name)
		}
		_, err := s.addEvent(thread, func(*caseState) (*eventData, error) {
			return &eventData{Type: evHandover, Text: text, Items: b}, nil
		})
		if err != nil {
			return res, err
		}
		res.Events++
	}
	return res, nil
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// resealItem opens one stored item and seals it again to recipients,
// without its attachments if it would not fit a handover with them. It
// returns nil for an earlier handover, which is not handed on.
func (s *Store) resealItem(m itemMeta, sealed []byte, recipients []age.Recipient) (*handedItem, bool, error) {
	e, err := vault.Open(sealed, s.ident)
	if err != nil {
		return nil, false, err
	}
	if e.Kind == vault.KindEvent {
		sg, err := e.Verify(m.Thread, m.ID)
		if err != nil {
			return nil, false, err
		}
		var d eventData
		if json.Unmarshal(sg.Data, &d) == nil && d.Type == evHandover {
			return nil, false, nil
		}
	}
	again, err := vault.Seal(e, recipients...)
	if err != nil {
		return nil, false, err
	}
	dropped := false
	if len(again) > maxHandoverBytes && len(e.Attachments) > 0 {
		c := *e
		c.Attachments, dropped = nil, true
		if again, err = vault.Seal(&c, recipients...); err != nil {
			return nil, false, err
		}
	}
	if len(again) > maxHandoverBytes {
		return nil, false, errors.New("too large to hand over")
	}
	return &handedItem{ID: m.ID, Kind: e.Kind, Day: m.Day, Sealed: again}, dropped, nil
}

// checkHanded checks the shape of a handover's items; each is checked
// again, as an item, when it is placed.
func checkHanded(items []handedItem) error {
	if len(items) == 0 {
		return errors.New("it hands over nothing")
	}
	seen, size := map[string]bool{}, 0
	for _, h := range items {
		switch h.Kind {
		case vault.KindReport, vault.KindFollowUp, vault.KindReply, vault.KindEvent:
		default:
			return errors.New("an item of an unknown kind")
		}
		if _, err := time.Parse("2006-01-02", h.Day); err != nil || !vault.ValidID(h.ID) || seen[h.ID] || len(h.Sealed) == 0 {
			return errors.New("an item that is not valid")
		}
		seen[h.ID] = true
		size += len(h.Sealed)
	}
	if size > maxHandoverBytes {
		return errors.New("too large")
	}
	return nil
}

// placeHandover places the items of a verified handover event on its case:
// each is checked as if the server had sent it, and stored if it is new
// here, or in place of a copy that could not be opened. It returns how many
// items it placed, and how many it refused because they did not check out
// (a colleague's item forged, changed or sent for another case); reports
// that opened are added to reports for the case's summary.
func (s *Store) placeHandover(tx *bolt.Tx, thread, route string, tc *teamCheck, teams *teamSet, reports map[string]reportText) (placed, refused int, err error) {
	ib, ab := tx.Bucket(bItems), tx.Bucket(bAside)
	for _, h := range tc.data.Items {
		wire := h.Kind
		if wire == vault.KindEvent {
			wire = vault.KindReply // as the server labels every team item
		}
		it := staff.Item{ID: h.ID, Thread: thread, Route: route, Kind: wire, Day: h.Day, Sealed: h.Sealed}
		var old *itemMeta
		if ib.Get([]byte(h.ID)) != nil {
			reason := ab.Get([]byte(h.ID))
			if reason == nil || opensAside(string(reason)) {
				continue // readable here already
			}
			old = &itemMeta{}
			if err := getJSON(ib, []byte(h.ID), old); err != nil {
				return placed, refused, err
			}
		}
		if checkWireItem(it) != nil {
			refused++
			continue
		}
		ck := s.checkItem(it, teams)
		if ck.reason != "" || ck.kind == vault.KindEvent && ck.team.data.Type == evHandover {
			refused++ // never stored
			continue
		}
		m := itemMeta{ID: h.ID, Thread: thread, Route: route, Kind: ck.kind, Day: h.Day, Sent: true}
		if ck.team != nil && ck.team.mine && ck.kind == vault.KindReply {
			m.Mine = true
		}
		// Before the item is in place, as for an item the server sent: the
		// first report to open pins its reply key.
		if err := s.placeKeys(tx, it, &ck); err != nil {
			return placed, refused, err
		}
		if old != nil {
			m.Order = old.Order
			if err := putJSON(ib, []byte(h.ID), m); err != nil {
				return placed, refused, err
			}
			if err := tx.Bucket(bSealed).Put(be(m.Order), h.Sealed); err != nil {
				return placed, refused, err
			}
			for _, b := range [][]byte{bAside, bRecheck} {
				if err := tx.Bucket(b).Delete([]byte(h.ID)); err != nil {
					return placed, refused, err
				}
			}
		} else if err := putItem(tx, m, h.Sealed); err != nil {
			return placed, refused, err
		}
		if ck.reason != "" {
			if err := ab.Put([]byte(h.ID), []byte(ck.reason)); err != nil {
				return placed, refused, err
			}
		}
		if ck.team != nil && ck.kind == vault.KindEvent {
			if err := s.storeEvent(tx, thread, ck.team); err != nil {
				return placed, refused, err
			}
		}
		if ck.report != nil && ck.reason == "" && reports != nil {
			reports[h.ID] = *ck.report
		}
		placed++
	}
	return placed, refused, nil
}

// handoverRefused is why a handover's items were left out.
func handoverRefused(n int, tc *teamCheck) string {
	return fmt.Sprintf("%s of a handover from %s did not check out (forged, changed or sent for another case) and %s left out",
		count(n, "item", "items"), tc.name, map[bool]string{true: "was", false: "were"}[n == 1])
}
