package cases

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hearken-project/hearken/vault"
)

// A colleague's signed event whose content no reviewer writes (a changed
// or buggy reviewer, or a stolen key used by hand) is refused with the
// reason, so it is set aside rather than merged into the case record; what
// reviewer does write passes.
func TestEventDataRefused(t *testing.T) {
	author := "ed25519:" + strings.Repeat("A", 43)
	id := uuid.NewString()
	item := handedItem{ID: uuid.NewString(), Kind: vault.KindReport, Day: "2026-03-01", Sealed: []byte("age-encryption.org/v1\n")}
	tests := []struct {
		name string
		d    eventData
		want string // "" if it passes
	}{
		{"triage", eventData{Type: evTriage, Set: map[string]string{fStatus: "triaged"}, Prev: map[string][]string{fStatus: {id}}}, ""},
		{"handover", eventData{Type: evHandover, Text: "over to you", Items: []handedItem{item}}, ""},
		{"correction", eventData{Type: evCorrection, Text: "it was the deputy", Corrects: id}, ""},
		{"triage changing nothing", eventData{Type: evTriage}, "it changes nothing"},
		{"handling changing nothing", eventData{Type: evHandling}, "it changes nothing"},
		{"a note that sets a field", eventData{Type: evNote, Text: "x", Set: map[string]string{fStatus: "closed"}}, "a note that changes fields"},
		{"an empty note", eventData{Type: evNote, Text: " "}, "its text"},
		{"an export that replaces", eventData{Type: evExport, Text: "x", Prev: map[string][]string{fStatus: {id}}}, "a note that changes fields"},
		{"a handover that sets a field", eventData{Type: evHandover, Text: "x", Items: []handedItem{item}, Set: map[string]string{fStatus: "closed"}}, "a handover that changes fields"},
		{"a handover with no text", eventData{Type: evHandover, Items: []handedItem{item}}, "its text"},
		{"a handover of nothing", eventData{Type: evHandover, Text: "x"}, "it hands over nothing"},
		{"a handover of an unknown kind", eventData{Type: evHandover, Text: "x", Items: []handedItem{{ID: item.ID, Kind: "note", Day: item.Day, Sealed: item.Sealed}}}, "an item of an unknown kind"},
		{"a handover of the same item twice", eventData{Type: evHandover, Text: "x", Items: []handedItem{item, item}}, "an item that is not valid"},
		{"a status not in the list", eventData{Type: evTriage, Set: map[string]string{fStatus: "deleted"}}, "field status"},
		{"handling for someone else", eventData{Type: evHandling, Set: map[string]string{fHandler: "ed25519:" + strings.Repeat("B", 43)}}, "field handler"},
		{"a handler set by triage", eventData{Type: evTriage, Set: map[string]string{fHandler: ""}}, "field handler"},
		{"an unknown field", eventData{Type: evTriage, Set: map[string]string{"receipt": "x"}}, "field receipt"},
		{"replacing a field it does not set", eventData{Type: evTriage, Set: map[string]string{fStatus: "triaged"}, Prev: map[string][]string{fUrgency: {id}}}, "what it replaces"},
		{"replacing what is not an id", eventData{Type: evTriage, Set: map[string]string{fStatus: "triaged"}, Prev: map[string][]string{fStatus: {"../x"}}}, "what it replaces"},
		{"replacing too much", eventData{Type: evTriage, Set: map[string]string{fStatus: "triaged"}, Prev: map[string][]string{fStatus: make([]string, maxPrev+1)}}, "what it replaces"},
		{"items in a note", eventData{Type: evNote, Text: "x", Items: []handedItem{item}}, "items in an event that hands nothing over"},
		{"a note that corrects", eventData{Type: evNote, Text: "x", Corrects: id}, "what it corrects"},
		{"a correction of nothing", eventData{Type: evCorrection, Text: "x"}, "what it corrects"},
		{"a correction of what is not an id", eventData{Type: evCorrection, Text: "x", Corrects: "7"}, "what it corrects"},
		{"a place that is not an id", eventData{Type: evNote, Text: "x", After: "first"}, "its place"},
		{"a reply key too long", eventData{Type: evReplyKey, Text: "x", ReplyKey: strings.Repeat("A", 65)}, "its reply key"},
		{"a reply key with a control", eventData{Type: evReplyKey, Text: "x", ReplyKey: "7K3M\x1b[2J"}, "its reply key"},
		{"an unknown type", eventData{Type: "delete-case\u202e"}, "a kind of team event this version of reviewer does not know"},
	}
	for _, tt := range tests {
		err := tt.d.check(author)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		case err != nil && strings.ContainsAny(err.Error(), "\x1b\u202e"):
			t.Errorf("%s: the reason carries a control character: %q", tt.name, err)
		}
	}
}
