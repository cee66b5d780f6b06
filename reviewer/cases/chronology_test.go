package cases

import (
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

func TestNoteCorrections(t *testing.T) {
	f := newStoreFixture(t)
	if _, err := f.st.storeItems([]staff.Item{f.item(t, f.thread(), vault.KindReport, "2026-03-01")}); err != nil {
		t.Fatal(err)
	}
	n, err := f.st.Note(1, "spoke to head of year", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Note(1, "it was the deputy head", n); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Note(1, "x", 99); err == nil {
		t.Error("a correction of a missing entry was accepted")
	}
	cv, _ := f.st.Show(1)
	var lines []string
	for _, l := range cv.Chronology {
		lines = append(lines, l.What+":"+l.Text)
	}
	got := strings.Join(lines, "|")
	if !strings.Contains(got, "note:spoke to head of year|correction to entry 1:it was the deputy head") {
		t.Errorf("chronology %s", got)
	}
}

// TestNoteNumberAfterColleagues: the number Note returns is the one the
// new entry shows in the chronology, after colleagues' events of higher
// Lamport times than this computer's own.
func TestNoteNumberAfterColleagues(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	if _, err := f.st.storeItems([]staff.Item{
		f.item(t, th, vault.KindReport, "2026-03-01"),
		f.event(t, th, f.peer, 9, eventData{Type: evNote, Text: "a colleague's later note"}),
		f.event(t, th, f.peer, 4, eventData{Type: evNote, Text: "a colleague's note"}),
	}); err != nil {
		t.Fatal(err)
	}
	n, err := f.st.Note(1, "spoke to head of year", 0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("Note returned %d, want 3", n)
	}
	cv, err := f.st.Show(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range cv.Chronology {
		if l.Text == "spoke to head of year" && l.N != n {
			t.Errorf("the note shows as entry %d, Note returned %d", l.N, n)
		}
	}
}
