package cases

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// The merge. Every reviewer of the team holds some set of a case's
// events; the case's state is a function of that set alone, never of the
// order the events arrived in, so reviewers that hold the same events show
// the same case:
//
//   - Events are ordered by Lamport time, then by author key, then by id.
//     An event's Lamport time is one more than the greatest its author's
//     reviewer had seen in the case, so an event comes after everything
//     its author had seen.
//   - Each field (status, category, urgency, assigned) is a register of the events that set it and that no other event
//     replaces: an event replaces those its Prev names for the field, the
//     ones its author saw as current. One such event gives the field its
//     value. Several are changes made without sight of each other: the
//     latest in the order above gives the value shown, and the case shows
//     the conflict ("Ms Patel set urgency to high while Mr Jones set it to
//     low; showing high") until someone sets the field again having seen
//     them, which replaces them all.
//   - "I am handling this" is each member's own: the latest of a member's
//     handling events says whether they are. Two members handling a case
//     at once is shown, as a conflict, by both names.
//   - Notes, corrections, exports and reply-key decisions are all kept,
//     in order, and numbered 1, 2, 3... in it; a correction names the event
//     it corrects by id.
//
// Triage written on this computer before case records were shared stays
// here: a field no event has set shows that value, marked as this
// computer's own.

// caseState is a case's shared record, merged.
type caseState struct {
	events []*event // in merged order
	byID   map[string]*event
	number map[string]int // event id -> its number in the chronology
	fields map[string]*fieldState
	// handlers are the latest handling event of each member who says they
	// are handling the case, in order.
	handlers []*event
	clock    uint64 // the greatest Lamport time seen
}

// fieldState is one field of a case, merged.
type fieldState struct {
	value string
	heads []*event // the events whose values stand; several: a conflict
	local bool     // the value is this computer's own, from before sharing
}

func eventLess(a, b *event) int {
	return cmp.Or(cmp.Compare(a.Lamport, b.Lamport), strings.Compare(a.Author, b.Author), strings.Compare(a.ID, b.ID))
}

// merge computes a case's state from its events and, for fields no event
// set, legacy: the triage this computer kept before sharing (nil if none).
func merge(events []*event, legacy *Triage) *caseState {
	st := &caseState{byID: map[string]*event{}, number: map[string]int{}, fields: map[string]*fieldState{}}
	st.events = slices.Clone(events)
	slices.SortFunc(st.events, eventLess)
	replaced := map[string]map[string]bool{} // field -> ids replaced
	for i, e := range st.events {
		st.byID[e.ID] = e
		st.number[e.ID] = i + 1
		st.clock = max(st.clock, e.Lamport)
		for f, ids := range e.data.Prev {
			if replaced[f] == nil {
				replaced[f] = map[string]bool{}
			}
			for _, id := range ids {
				replaced[f][id] = true
			}
		}
	}
	latest := map[string]*event{} // author -> their latest handling event
	for _, e := range st.events {
		if e.data.Type == evHandling {
			latest[e.Author] = e
		}
	}
	for _, e := range st.events {
		if latest[e.Author] == e && e.data.Set[fHandler] != "" {
			st.handlers = append(st.handlers, e)
		}
	}
	for _, f := range registerFields {
		fs := &fieldState{}
		for _, e := range st.events {
			if v, ok := e.data.Set[f]; ok && !replaced[f][e.ID] {
				fs.heads = append(fs.heads, e)
				fs.value = v // the last head in order wins
			}
		}
		if len(fs.heads) == 0 {
			fs.value, fs.local = legacy.field(f)
			if f == fStatus && fs.value == "" {
				fs.value, fs.local = "new", false
			}
		}
		st.fields[f] = fs
	}
	return st
}

func (t *Triage) field(f string) (string, bool) {
	if t == nil {
		return "", false
	}
	var v string
	switch f {
	case fStatus:
		v = t.Status
	case fCategory:
		v = t.Category
	case fUrgency:
		v = t.Urgency
	case fAssigned:
		v = t.Assigned
	}
	if f == fStatus && v == "new" {
		return "", false
	}
	return v, v != ""
}

// caseState reads and merges a case's events.
func (s *Store) caseState(tx *bolt.Tx, thread string) (*caseState, error) {
	events, err := s.loadEvents(tx, thread)
	if err != nil {
		return nil, err
	}
	var legacy *Triage
	if v := tx.Bucket(bTriage).Get([]byte(thread)); v != nil {
		legacy = &Triage{}
		if err := s.key.open(bTriage, []byte(thread), v, legacy); err != nil {
			return nil, err
		}
	}
	return merge(events, legacy), nil
}

// heads returns the ids of a field's standing events: what a change of it
// replaces.
func (st *caseState) heads(f string) []string {
	var ids []string
	for _, e := range st.fields[f].heads {
		ids = append(ids, e.ID)
	}
	return ids
}

// triage is the merged triage, as Triage and the summaries show it.
func (st *caseState) triage() Triage {
	return Triage{Status: st.fields[fStatus].value, Category: st.fields[fCategory].value,
		Urgency: st.fields[fUrgency].value, Assigned: st.fields[fAssigned].value}
}

// handling names whoever says they are handling the case, in order.
func (st *caseState) handling() []string {
	var out []string
	for _, e := range st.handlers {
		out = append(out, e.name)
	}
	return out
}

// handles says whether the member with signing key author says they are
// handling the case.
func (st *caseState) handles(author string) bool {
	for _, e := range st.handlers {
		if e.Author == author {
			return true
		}
	}
	return false
}

// localFields lists the fields whose values are this computer's own.
func (st *caseState) localFields() []string {
	var out []string
	for _, f := range registerFields {
		if st.fields[f].local {
			out = append(out, fieldWords[f])
		}
	}
	return out
}

var fieldWords = map[string]string{fStatus: "status", fCategory: "category", fUrgency: "urgency",
	fAssigned: "assigned"}

// conflicts describes each field changed by colleagues without sight of
// each other's change, in words: "Ms Patel set urgency to high while Mr
// Jones set it to low; showing high".
func (st *caseState) conflicts() []string {
	var out []string
	for _, f := range registerFields {
		fs := st.fields[f]
		values := map[string]bool{}
		for _, e := range fs.heads {
			values[e.data.Set[f]] = true
		}
		if len(values) < 2 {
			continue
		}
		var parts []string
		for _, e := range fs.heads {
			parts = append(parts, describeSet(e, f, len(parts) > 0))
		}
		out = append(out, fmt.Sprintf("%s; showing %s", joinWhile(parts), orWord(fs.value, f)))
	}
	if names := st.handling(); len(names) > 1 {
		out = append(out, fmt.Sprintf("%s and %s each said they are handling this", strings.Join(names[:len(names)-1], ", "), names[len(names)-1]))
	}
	return out
}

// describeSet says what e did to field f, for a conflict: "Ms Patel set
// urgency to high"; later parts say "it" for the field.
func describeSet(e *event, f string, later bool) string {
	v := e.data.Set[f]
	what := fieldWords[f]
	if later {
		what = "it"
	}
	switch {
	case f == fAssigned && v == "":
		return e.name + " assigned it to nobody"
	case f == fAssigned:
		return e.name + " assigned it to " + v
	case v == "":
		return e.name + " cleared " + what
	}
	return e.name + " set " + what + " to " + v
}

func joinWhile(parts []string) string {
	if len(parts) <= 2 {
		return strings.Join(parts, " while ")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " while " + parts[len(parts)-1]
}

func orWord(v, f string) string {
	if v != "" {
		return v
	}
	if f == fAssigned {
		return "nobody"
	}
	return "none"
}
