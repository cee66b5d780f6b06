package cases

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// handed seals it again to the fixture's team, as a handover carries it.
func (f *storeFixture) handed(t *testing.T, it staff.Item, kind vault.Kind) handedItem {
	t.Helper()
	e, err := vault.Open(it.Sealed, f.m.Identity(), f.peer.Identity())
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := vault.Seal(e, f.team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	return handedItem{ID: it.ID, Kind: kind, Day: it.Day, Sealed: sealed}
}

// TestHandoverChecked: a report sealed to the team before Dana joined it
// waits for a handover, calmly, not as damage. Handovers that are forged
// (by someone not in the team file), or that carry a colleague's item
// forged, changed or replayed from another case, place nothing; a genuine
// handover places the report and a colleague's note, once, and repeats
// change nothing.
func TestHandoverChecked(t *testing.T) {
	f := newStoreFixture(t)
	th, other := f.thread(), f.thread()
	rep := f.item(t, th, vault.KindReport, "2026-03-01", "message", "he takes my phone")
	// As the intake sealed it, before Dana was on the team.
	e := f.reopen(t, rep)
	early := rep
	var err error
	if early.Sealed, err = vault.Seal(e, f.peer.Recipient()); err != nil {
		t.Fatal(err)
	}
	res, err := f.st.storeItems([]staff.Item{early})
	if err != nil || len(res.SetAside) != 0 || len(res.BeforeJoining) != 1 {
		t.Fatalf("a report sealed before Dana joined: %+v, %v", res, err)
	}
	n := caseNumberOf(t, f.st, th)
	all, _ := f.st.List()
	if len(all) != 1 || all[0].Preview != handoverPreview {
		t.Fatalf("list before the handover: %+v", all)
	}

	mallory, _ := vault.GenerateMember("Mallory")
	note := f.event(t, th, f.peer, 1, eventData{Type: evNote, Text: "Sam spoke to the tutor"})
	forgedNote := f.event(t, th, mallory, 2, eventData{Type: evNote, Text: "a forged note"})
	otherNote := f.event(t, other, f.peer, 1, eventData{Type: evNote, Text: "a note on another case"})
	changed := f.handed(t, f.event(t, th, f.peer, 3, eventData{Type: evNote, Text: "a true note"}), vault.KindEvent)
	ce, _ := vault.Open(changed.Sealed, f.m.Identity())
	ce.Signed = bytes.Replace(ce.Signed, []byte("a true note"), []byte("a false note"), 1)
	changed.Sealed, _ = vault.Seal(ce, f.team.Recipients()...)
	replayed := f.handed(t, otherNote, vault.KindEvent)
	replayed.ID = otherNote.ID
	hand := func(by *vault.Member, lamport uint64, items ...handedItem) staff.Item {
		return f.event(t, th, by, lamport, eventData{Type: evHandover, Text: "handed over", Items: items})
	}
	bad := []staff.Item{
		hand(mallory, 4, f.handed(t, rep, vault.KindReport)),
		hand(f.peer, 5, f.handed(t, forgedNote, vault.KindEvent), changed, replayed),
	}
	res, err = f.st.storeItems(bad)
	if err != nil || res.HandedOver != 0 || len(res.SetAside) != 2 || !strings.Contains(res.SetAside[0].Reason, "not in this computer's team file") ||
		res.SetAside[1].Reason != "3 items of a handover from Sam Deputy did not check out (forged, changed or sent for another case) and were left out" {
		t.Fatalf("forged handovers: %+v, %v", res, err)
	}
	if cv, _ := f.st.Show(n); !strings.HasPrefix(cv.Messages[0].Problem, "waiting for a handover") {
		t.Fatalf("after forged handovers: %+v", cv.Messages)
	}

	good := hand(f.peer, 6, f.handed(t, rep, vault.KindReport), f.handed(t, note, vault.KindEvent))
	res, err = f.st.storeItems([]staff.Item{good})
	if err != nil || res.HandedOver != 2 || len(res.SetAside) != 0 {
		t.Fatalf("genuine handover: %+v, %v", res, err)
	}
	// The note itself, and the handover again under a new id: nothing new.
	again := hand(f.peer, 7, f.handed(t, rep, vault.KindReport), f.handed(t, note, vault.KindEvent))
	if res, err = f.st.storeItems([]staff.Item{note, again}); err != nil || res.HandedOver != 0 {
		t.Fatalf("repeats: %+v, %v", res, err)
	}
	cv, err := f.st.Show(n)
	if err != nil {
		t.Fatal(err)
	}
	// The forged handover stays flagged.
	if cv.Preview != "he takes my phone" || cv.Problems != 1 || cv.ReplyKey != Fingerprint(f.reply.Recipient().String()) {
		t.Errorf("after the handover: %+v", cv.CaseSummary)
	}
	var notes, handovers int
	for _, l := range cv.Chronology {
		switch {
		case l.What == "note" && l.Text == "Sam spoke to the tutor":
			notes++
		case l.What == "note":
			t.Errorf("a forged note placed: %+v", l)
		case l.What == "handover":
			handovers++
		}
	}
	if notes != 1 || handovers != 3 { // the one with forged items, the good one, and again
		t.Errorf("chronology: %d notes, %d handovers: %+v", notes, handovers, cv.Chronology)
	}
}

// TestHandoverSizes: a case too large for one handover is handed over in
// several, each of which seals within the staff channel's limit; a report
// whose attachments could never fit is handed over without them, and the
// handover says who holds them.
func TestHandoverSizes(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	withFile := func(kind vault.Kind, size int) staff.Item {
		it := f.item(t, th, kind, "2026-03-01", "message", "see the file")
		e := f.reopen(t, it)
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + i>>8) // not compressible into less
		}
		e.Attachments = []vault.Attachment{{Name: "photo.jpg", Type: "image/jpeg", Data: data}}
		var err error
		if it.Sealed, err = vault.Seal(e, f.team.Recipients()...); err != nil {
			t.Fatal(err)
		}
		return it
	}
	// Each of the first three seals to about 256 KiB (its padding
	// bucket): two fit in one handover. The last cannot fit at all.
	items := []staff.Item{withFile(vault.KindReport, 100<<10), withFile(vault.KindFollowUp, 100<<10),
		withFile(vault.KindFollowUp, 100<<10), withFile(vault.KindFollowUp, 2<<20)}
	if res, err := f.st.storeItems(items); err != nil || len(res.SetAside) != 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	r, err := f.st.Handover(caseNumberOf(t, f.st, th))
	if err != nil || r.Items != 4 || r.Events != 2 || r.NoAttachments != 1 || r.Unreadable != 0 {
		t.Fatalf("handover: %+v, %v", r, err)
	}
	out, err := f.st.eventOutbox()
	if err != nil || len(out) != 2 {
		t.Fatalf("outbox: %d, %v", len(out), err)
	}
	handed := 0
	for _, p := range out {
		sealed, err := f.st.sealEvent(p, f.team)
		if err != nil || len(sealed) > vault.MaxReplySize {
			t.Errorf("a handover seals to %d bytes: %v", len(sealed), err)
		}
		handed += len(p.ev.data.Items)
		for _, h := range p.ev.data.Items {
			e, err := vault.Open(h.Sealed, f.peer.Identity())
			if err != nil {
				t.Fatal(err)
			}
			if n := len(e.Attachments); (h.ID == items[3].ID) != (n == 0) {
				t.Errorf("item %s handed over with %d attachments", h.ID, n)
			}
		}
	}
	if handed != 4 || len(out[0].ev.data.Items) != 2 || !strings.Contains(out[1].ev.data.Text, "the attachments of 1 item were too large to hand over: Dana Lead holds them") {
		t.Errorf("%d items handed over; %q", handed, out[1].ev.data.Text)
	}
}
