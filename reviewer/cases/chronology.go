package cases

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// entry is a line of a case's chronology written on this computer before
// case records were shared (schema 2). Such entries are kept as they were
// and shown as this computer's own; nothing writes them any more: notes,
// triage and exports are team events now (event.go).
type entry struct {
	N        uint64 `json:"n"`
	Day      string `json:"day"`
	Who      string `json:"who"`
	What     string `json:"what"` // "triage", "note", "correction", "reply", "export"
	Text     string `json:"text"`
	Corrects uint64 `json:"corrects,omitempty"`
	// After is the local order of the newest item when the entry was made,
	// which places it among the case's messages.
	After uint64 `json:"after"`
}

// addEntry adds a line to a case's chronology, as a team event: a note,
// a correction of event e.Corrects (by its number), or the record of an
// export (e.What "export"). It returns the event's number.
func (s *Store) addEntry(thread string, e entry) (uint64, error) {
	n, err := s.addEvent(thread, func(st *caseState) (*eventData, error) {
		d := &eventData{Type: evNote, Text: e.Text}
		switch {
		case e.What == "export":
			d.Type = evExport
		case e.Corrects != 0:
			if e.Corrects > uint64(len(st.events)) {
				return nil, fmt.Errorf("entry %d is not in this case's chronology", e.Corrects)
			}
			d.Type, d.Corrects = evCorrection, st.events[e.Corrects-1].ID
		}
		return d, nil
	})
	return uint64(n), err
}

// Note adds a note, or a correction of entry corrects, to a case's
// chronology, and returns the new entry's number. The note is a signed
// team event: it shows here at once and on colleagues' computers once
// sync has carried it to them.
func (s *Store) Note(number uint64, text string, corrects uint64) (uint64, error) {
	text, err := CheckText("note", text)
	if err != nil {
		return 0, err
	}
	thread, err := s.caseThread(number)
	if err != nil {
		return 0, err
	}
	return s.addEntry(thread, entry{What: "note", Text: text, Corrects: corrects})
}

// chronology interleaves a case's messages (in the order they arrived),
// its team events (in merged order, each after the message its author had
// last seen) and its entries from before sharing (each after the message
// that was newest when it was written).
func chronology(msgs []Message, st *caseState, legacy []entry) []ChronoLine {
	type placed struct {
		slot int // after msgs[slot]; -1 before all
		rank int // order within a slot: local entries, then events
		line ChronoLine
	}
	var all []placed
	at := map[string]int{}
	for i, m := range msgs {
		at[m.ID] = i
	}
	for i, e := range legacy {
		slot := -1
		for j, m := range msgs {
			if m.order <= e.After {
				slot = j
			}
		}
		what := e.What
		if e.Corrects != 0 {
			what = fmt.Sprintf("correction to entry %d", e.Corrects)
		}
		all = append(all, placed{slot, i, ChronoLine{Day: e.Day, Who: e.Who, What: what, Text: e.Text, Local: true}})
	}
	for i, e := range st.events {
		slot, ok := at[e.data.After]
		if !ok {
			slot = -1
			for j, m := range msgs {
				if m.Day <= e.Day {
					slot = j
				}
			}
		}
		l := ChronoLine{N: uint64(st.number[e.ID]), ID: e.ID, Day: e.Day, Who: e.name}
		l.What, l.Text = describeEvent(e, st)
		switch {
		case e.failed != "":
			l.State = "not delivered: " + e.failed
		case e.pending:
			l.State = "not yet sent to the team: run reviewer sync"
		}
		all = append(all, placed{slot, len(legacy) + i, l})
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].slot != all[j].slot {
			return all[i].slot < all[j].slot
		}
		return all[i].rank < all[j].rank
	})
	var out []ChronoLine
	k := 0
	for i := -1; i < len(msgs); i++ {
		if i >= 0 {
			out = append(out, messageLine(msgs[i]))
		}
		for k < len(all) && all[k].slot == i {
			out = append(out, all[k].line)
			k++
		}
	}
	return out
}

// describeEvent says what an event did, for the chronology.
func describeEvent(e *event, st *caseState) (what, text string) {
	d := e.data
	switch d.Type {
	case evTriage:
		var parts []string
		for _, f := range registerFields {
			v, ok := d.Set[f]
			if !ok {
				continue
			}
			// What it replaced: nothing (the author saw none), the
			// value its author saw, or, for a change that settled a
			// conflict, the values it settled. Unknown when the events it
			// replaced have not reached this computer.
			from := fromWord("", f) + " → "
			if prev := d.Prev[f]; len(prev) > 0 {
				from = ""
				if allKnown(prev, st) {
					var vals []string
					for _, id := range prev {
						if v := fromWord(st.byID[id].data.Set[f], f); !slices.Contains(vals, v) {
							vals = append(vals, v)
						}
					}
					from = strings.Join(vals, " / ") + " → "
				}
			}
			label := fieldWords[f]
			if f == fAssigned {
				label = "assigned to"
			}
			parts = append(parts, label+": "+from+fromWord(v, f))
		}
		return "triage", strings.Join(parts, "; ")
	case evHandling:
		if d.Set[fHandler] != "" {
			return "handling", "said they are handling this"
		}
		return "handling", "is no longer handling this"
	case evCorrection:
		if n := st.number[d.Corrects]; n != 0 {
			return fmt.Sprintf("correction to entry %d", n), d.Text
		}
		return "correction to an entry not on this computer", d.Text
	case evExport:
		return "export", d.Text
	case evReplyKey:
		return "reply key", d.Text
	case evHandover:
		return "handover", d.Text
	}
	return "note", d.Text
}

// fromWord writes a field's value for the chronology: "(none)" for none,
// and a status that was never set is "new".
func fromWord(v, f string) string {
	switch {
	case v != "":
		return v
	case f == fStatus:
		return "new"
	}
	return "(none)"
}

func allKnown(ids []string, st *caseState) bool {
	for _, id := range ids {
		if st.byID[id] == nil {
			return false
		}
	}
	return true
}
