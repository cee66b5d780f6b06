package cases

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// event seals a team event as by's reviewer does, to the fixture's team,
// labelled as the server labels every team item.
func (f *storeFixture) event(t *testing.T, thread string, by *vault.Member, lamport uint64, d eventData) staff.Item {
	t.Helper()
	id := uuid.NewString()
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	e, err := vault.SignItem(by, &vault.Signed{Thread: thread, ID: id, Kind: vault.KindEvent, Lamport: lamport,
		Day: "2026-03-05", Route: "students", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return f.seal(t, thread, id, e)
}

func (f *storeFixture) seal(t *testing.T, thread, id string, e *vault.Envelope) staff.Item {
	t.Helper()
	sealed, err := vault.Seal(e, f.team.Recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	return staff.Item{ID: id, Thread: thread, Route: "students", Kind: vault.KindReply, Day: "2026-03-05", Sealed: sealed}
}

// reopen opens a sealed item as the fixture's member, for a forger's
// changes to it.
func (f *storeFixture) reopen(t *testing.T, it staff.Item) *vault.Envelope {
	t.Helper()
	e, err := vault.Open(it.Sealed, f.m.Identity())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestForgedReplayedTamperedEvents: a colleague's genuine event joins the
// case; events and replies forged (by someone not in the team file, or
// under a member's key without it), changed after signing, replayed under
// another id or on another case, unsigned, or with content no reviewer
// writes are each set aside and flagged, change nothing, and a reply among
// them is no answer. A repeated genuine event counts once.
func TestForgedReplayedTamperedEvents(t *testing.T) {
	f := newStoreFixture(t)
	th, other := f.thread(), f.thread()
	if _, err := f.st.storeItems([]staff.Item{
		f.item(t, th, vault.KindReport, "2026-03-01", "message", "he takes my phone"),
		f.item(t, other, vault.KindReport, "2026-03-01", "message", "another case"),
	}); err != nil {
		t.Fatal(err)
	}
	mallory, _ := vault.GenerateMember("Mallory")
	genuine := f.event(t, th, f.peer, 1, eventData{Type: evTriage, Set: map[string]string{fUrgency: "high", fStatus: "triaged"}})
	res, err := f.st.storeItems([]staff.Item{genuine})
	if err != nil || res.Events != 1 || len(res.SetAside) != 0 {
		t.Fatalf("genuine event: %+v, %v", res, err)
	}

	// Changed after signing: the forger can seal anything to the team,
	// but not sign it.
	changed := f.reopen(t, genuine)
	changed.Signed = bytes.Replace(changed.Signed, []byte(`"urgency":"high"`), []byte(`"urgency":"low"`), 1)
	// Replayed under another id, and on another case.
	replayID := uuid.NewString()
	replayed := f.reopen(t, genuine)
	// Under a member's key, signed by someone else.
	underKey := f.reopen(t, f.event(t, th, f.peer, 2, eventData{Type: evNote, Text: "forged note"}))
	underKey.Sig = mallory.Sign(append([]byte("hearken-team-item-v1\n"), underKey.Signed...))
	// A reply nobody signed, as an old reviewer wrote them.
	unsignedReply := &vault.Envelope{Kind: vault.KindReply, Day: "2026-03-05", Route: "students",
		Fields: []vault.Field{{Name: "message", Value: "a reply the server wrote"}}, Author: "Sam Deputy"}
	// Flipped bytes in the ciphertext.
	tampered := f.event(t, th, f.peer, 3, eventData{Type: evNote, Text: "true note"})
	tampered.Sealed[len(tampered.Sealed)-20] ^= 1
	bad := []staff.Item{
		f.event(t, th, mallory, 5, eventData{Type: evTriage, Set: map[string]string{fUrgency: "low"}}), // not in the team
		{}, // the changed event, below
		f.seal(t, th, replayID, replayed),
		f.seal(t, other, uuid.NewString(), f.reopen(t, genuine)),
		f.seal(t, th, uuid.NewString(), underKey),
		f.seal(t, th, uuid.NewString(), unsignedReply),
		tampered,
		f.event(t, th, f.peer, 4, eventData{Type: evTriage, Set: map[string]string{fStatus: "pwned"}}),
		f.event(t, th, f.peer, 4, eventData{Type: evHandling, Set: map[string]string{fHandler: vault.FormatSigningKey(f.m.SigningPublic())}}),
		f.event(t, th, f.peer, 4, eventData{Type: "delete-case"}),
	}
	// Under the genuine id it would be a repeat of a stored item, and
	// ignored: under an id of its own, it is checked.
	bad[1] = f.seal(t, th, uuid.NewString(), changed)
	res, err = f.st.storeItems(append(bad, genuine))
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 0 || len(res.SetAside) != len(bad) {
		t.Fatalf("stored %d events, set aside %d of %d: %+v", res.Events, len(res.SetAside), len(bad), res.SetAside)
	}
	want := []string{
		"not in this computer's team file",
		"signature does not match",
		"signed for another case or item",
		"signed for another case or item",
		"signature does not match",
		"not signed by its author",
		"changed after it was sealed",
		"content is not valid",
		"content is not valid",
		"does not know",
	}
	for i, a := range res.SetAside {
		if !strings.Contains(a.Reason, want[i]) {
			t.Errorf("item %d set aside because %q, want %q", i, a.Reason, want[i])
		}
	}
	cv, err := f.st.Show(caseNumberOf(t, f.st, th))
	if err != nil {
		t.Fatal(err)
	}
	if cv.Urgency != "high" || cv.Status != "triaged" || len(cv.Handling) != 0 || len(cv.Conflicts) != 0 || !cv.Unanswered {
		t.Errorf("the case changed: %+v", cv.CaseSummary)
	}
	if cv.Problems != len(bad)-1 { // one of them was sent on the other case
		t.Errorf("%d problems flagged, want %d", cv.Problems, len(bad)-1)
	}
	for _, l := range cv.Chronology {
		if l.ID != "" && l.ID != genuine.ID {
			t.Errorf("a set-aside event reached the chronology: %+v", l)
		}
	}
	// A signature that does not check changes nothing in the list either.
	all, _ := f.st.List()
	for _, c := range all {
		if c.Thread == th && (c.Urgency != "high" || !c.Unanswered) {
			t.Errorf("list: %+v", c)
		}
	}
}

// TestEventContentChanged: a genuine event whose content a forger
// changes, sent under its own id, is refused for its signature.
func TestEventContentChanged(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "x")})
	it := f.event(t, th, f.peer, 1, eventData{Type: evTriage, Set: map[string]string{fUrgency: "high"}})
	e := f.reopen(t, it)
	e.Signed = bytes.Replace(e.Signed, []byte(`"urgency":"high"`), []byte(`"urgency":"low"`), 1)
	forged := f.seal(t, th, it.ID, e)
	res, err := f.st.storeItems([]staff.Item{forged})
	if err != nil || len(res.SetAside) != 1 || !strings.Contains(res.SetAside[0].Reason, "signature does not match") {
		t.Fatalf("%+v, %v", res, err)
	}
}

// TestRemovedMember: a member taken out of the team file here is no longer
// believed: their later events and replies are set aside, while what they
// wrote while on the team stays.
func TestRemovedMember(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	if _, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "x"),
		f.event(t, th, f.peer, 1, eventData{Type: evNote, Text: "while on the team"})}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, teamsDir, "students.txt"), []byte(f.m.TeamLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := f.st.storeItems([]staff.Item{f.event(t, th, f.peer, 2, eventData{Type: evNote, Text: "after leaving"}),
		f.item(t, th, vault.KindReply, "2026-03-06", "message", "a reply after leaving")})
	if err != nil || len(res.SetAside) != 2 {
		t.Fatalf("%+v, %v", res, err)
	}
	cv, _ := f.st.Show(caseNumberOf(t, f.st, th))
	var notes []string
	for _, l := range cv.Chronology {
		if l.What == "note" {
			notes = append(notes, l.Text)
		}
	}
	if strings.Join(notes, "|") != "while on the team" || !cv.Unanswered {
		t.Errorf("notes %q, unanswered %v", notes, cv.Unanswered)
	}
}

// TestNoTeamFileRecheck: a team item that arrives before its route's team
// file is recorded is set aside, and checked again (and joins its case)
// at the first sync after the team file is installed.
func TestNoTeamFileRecheck(t *testing.T) {
	f := newStoreFixture(t)
	os.Remove(filepath.Join(f.dir, teamsDir, "students.txt"))
	th := f.thread()
	res, err := f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "x"),
		f.event(t, th, f.peer, 1, eventData{Type: evTriage, Set: map[string]string{fUrgency: "immediate"}})})
	if err != nil || len(res.SetAside) != 1 || !strings.Contains(res.SetAside[0].Reason, "no team file") {
		t.Fatalf("%+v, %v", res, err)
	}
	os.WriteFile(filepath.Join(f.dir, teamsDir, "students.txt"), []byte(f.m.TeamLine()+"\n"+f.peer.TeamLine()+"\n"), 0o600)
	var sr SyncResult
	if err := f.st.recheck(newTeamSet(f.st), &sr); err != nil || sr.Updates != 1 {
		t.Fatalf("recheck: %+v, %v", sr, err)
	}
	cv, _ := f.st.Show(caseNumberOf(t, f.st, th))
	if cv.Urgency != "immediate" || cv.Problems != 0 {
		t.Errorf("after the recheck: %+v", cv.CaseSummary)
	}
}

// TestEventsNeverToReporter: an event is sealed to the team and a
// stand-in key, never to the reporter: the reporter's key cannot open it,
// and it has as many stanzas as a reply.
func TestEventsNeverToReporter(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	f.st.storeItems([]staff.Item{f.item(t, th, vault.KindReport, "2026-03-01", "message", "x")})
	n := caseNumberOf(t, f.st, th)
	if _, err := f.st.Note(n, "team only", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Reply(n, "to the reporter", f.team); err != nil {
		t.Fatal(err)
	}
	out, err := f.st.eventOutbox()
	if err != nil || len(out) != 1 {
		t.Fatalf("%d events, %v", len(out), err)
	}
	ev, err := f.st.sealEvent(out[0], f.team)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(ev, f.reply); err == nil {
		t.Fatal("the reporter's key opens a team event")
	}
	replies, _ := f.st.outbox()
	if stanzas(t, ev) != stanzas(t, replies[0].Sealed) {
		t.Errorf("an event has %d stanzas, a reply %d", stanzas(t, ev), stanzas(t, replies[0].Sealed))
	}
	if _, err := vault.Open(replies[0].Sealed, f.reply); err != nil {
		t.Errorf("the reporter cannot open the reply: %v", err)
	}
}

func stanzas(t *testing.T, sealed []byte) int {
	t.Helper()
	hdr, err := age.ExtractHeader(bytes.NewReader(sealed))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(hdr, []byte("\n-> "))
}

// FuzzEventData: any content a colleague's signed event carries is either
// refused or within what reviewer writes.
func FuzzEventData(f *testing.F) {
	author := "ed25519:" + strings.Repeat("A", 43)
	for _, d := range []eventData{
		{Type: evTriage, Set: map[string]string{fUrgency: "high"}, Prev: map[string][]string{fUrgency: {uuid.NewString()}}},
		{Type: evHandling, Set: map[string]string{fHandler: author}},
		{Type: evCorrection, Text: "x", Corrects: uuid.NewString()},
		{Type: evNote, Text: "x", After: uuid.NewString(), ReplyKey: "7K3M-Q9XD-2F4A"},
	} {
		data, _ := json.Marshal(d)
		f.Add(data)
	}
	f.Add([]byte(`{"type":"triage","set":{"status":"\u202e"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d eventData
		if json.Unmarshal(data, &d) != nil || d.check(author) != nil {
			return
		}
		for k, v := range d.Set {
			if strings.IndexFunc(v, UnsafeRune) >= 0 || (k == fHandler && v != "" && v != author) || len(v) > maxAssignName {
				t.Fatalf("accepted %q = %q", k, v)
			}
		}
		if len(d.Text) > MaxMessage {
			t.Fatal("accepted an over-long text")
		}
	})
}

// TestRecheckNamesItsCase: a handover checked again once its team file is
// installed, refusing an item it carries, names its own case, also when
// another case had that case's number first.
func TestRecheckNamesItsCase(t *testing.T) {
	f := newStoreFixture(t)
	first, second := testThread(7), testThread(7)
	if _, err := f.st.storeItems([]staff.Item{f.item(t, first, vault.KindReport, "2026-03-01", "message", "x"),
		f.item(t, second, vault.KindReport, "2026-03-01", "message", "y")}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(f.dir, teamsDir, "students.txt"))
	mallory, _ := vault.GenerateMember("Mallory")
	forged := f.event(t, second, mallory, 1, eventData{Type: evNote, Text: "a forged note"})
	hand := f.event(t, second, f.peer, 2, eventData{Type: evHandover, Text: "handed over", Items: []handedItem{f.handed(t, forged, vault.KindEvent)}})
	if res, err := f.st.storeItems([]staff.Item{hand}); err != nil || len(res.SetAside) != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	os.WriteFile(filepath.Join(f.dir, teamsDir, "students.txt"), []byte(f.m.TeamLine()+"\n"+f.peer.TeamLine()+"\n"), 0o600)
	var sr SyncResult
	if err := f.st.recheck(newTeamSet(f.st), &sr); err != nil {
		t.Fatal(err)
	}
	want := CaseNumber(caseNumberOf(t, f.st, second))
	if want == CaseNumber(caseNumberOf(t, f.st, first)) {
		t.Fatal("the two cases have one number")
	}
	if len(sr.SetAside) != 1 || sr.SetAside[0].Case != want {
		t.Errorf("recheck set aside %+v, want one item of %s", sr.SetAside, want)
	}
}
