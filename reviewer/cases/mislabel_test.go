package cases

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hearken-project/hearken/staff"
	"github.com/hearken-project/hearken/vault"
)

// A server that is broken, or in an attacker's hands, can label items as it
// likes. Each item whose sealed content does not bear out its label is set
// aside with a reason a lead can read, and counts for nothing: a report
// relabelled as a follow-up or moved to another route, a report labelled
// as a team reply, a reply whose signed content is an event's or carries
// fields no reviewer writes, one over the size limit, and one that is not
// age at all. Labels that could not be ours (a thread id that is not one,
// no content) are refused before anything is opened. An item sealed to the
// team without this member waits for a handover. The one honest report is
// stored as it is.
func TestServerMislabelsItems(t *testing.T) {
	f := newStoreFixture(t)
	th := f.thread()
	good := f.item(t, th, vault.KindReport, "2026-03-01", "message", "the honest report")

	relabelled := f.item(t, th, vault.KindReport, "2026-03-01", "message", "a report")
	relabelled.Kind = vault.KindFollowUp

	otherRoute := f.item(t, th, vault.KindFollowUp, "2026-03-01", "message", "for the head")
	e := f.reopen(t, otherRoute)
	e.Route = "head"
	otherRoute = f.seal(t, th, otherRoute.ID, e)
	otherRoute.Kind = vault.KindFollowUp

	reportAsReply := f.item(t, th, vault.KindReport, "2026-03-01", "message", "not a reply")
	reportAsReply.Kind = vault.KindReply

	signed := func(data string) staff.Item {
		id := uuid.NewString()
		e, err := vault.SignItem(f.peer, &vault.Signed{Thread: th, ID: id, Kind: vault.KindReply, Lamport: 1, Day: "2026-03-05",
			Route: "students", Fields: []vault.Field{{Name: "message", Value: "we are here"}}, Data: json.RawMessage(data)})
		if err != nil {
			t.Fatal(err)
		}
		return f.seal(t, th, id, e)
	}
	replyWithEvent := signed(`{"type":"note","text":"a note dressed as a reply"}`)
	replyUnknownField := signed(`{"reply_key":"` + Fingerprint(f.reply.Recipient().String()) + `","extra":"x"}`)

	outsider, _ := vault.GenerateMember("Outsider")
	toOthers := f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "x")
	toOthers.Sealed, _ = vault.Seal(&vault.Envelope{Kind: vault.KindFollowUp, Day: "2026-03-02", Route: "students"}, outsider.Recipient())

	huge := f.item(t, th, vault.KindFollowUp, "2026-03-02")
	huge.Sealed = append([]byte("age-encryption.org/v1\n"), make([]byte, 74<<20)...)

	notAge := f.item(t, th, vault.KindFollowUp, "2026-03-02")
	notAge.Sealed = []byte("just some bytes the server made up")

	badThread := f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "x")
	badThread.Thread = "../" + th
	empty := f.item(t, th, vault.KindFollowUp, "2026-03-02", "message", "x")
	empty.Sealed = nil

	want := map[string]string{
		relabelled.ID:        "its sealed content does not match its label",
		otherRoute.ID:        "its sealed content does not match its label",
		reportAsReply.ID:     "its sealed content does not match its label",
		replyWithEvent.ID:    "its content is not valid",
		replyUnknownField.ID: "its content is not valid",
		huge.ID:              "it is too large",
		notAge.ID:            "it is not a sealed Hearken item",
		badThread.ID:         "the server sent it with an invalid thread id",
		empty.ID:             "the server sent it with an invalid content",
	}
	res, err := f.st.storeItems([]staff.Item{good, relabelled, otherRoute, reportAsReply, replyWithEvent, replyUnknownField, toOthers, huge, notAge, badThread, empty})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range res.SetAside {
		got[a.ID] = a.Reason
	}
	for id, reason := range want {
		if got[id] != reason {
			t.Errorf("item %s: set aside for %q, want %q", id, got[id], reason)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d items set aside, want %d: %+v", len(got), len(want), res.SetAside)
	}
	if res.Rejected != 2 || len(res.NewCases) != 1 {
		t.Errorf("rejected %d (want the 2 with bad labels), new cases %v (want 1)", res.Rejected, res.NewCases)
	}
	// Sealed to the team without this member, who is in its team file: it
	// may be from before they joined, and waits for a colleague's handover.
	if len(res.BeforeJoining) != 1 || res.BeforeJoining[0] != "HK-0000-0001" {
		t.Errorf("items waiting for a handover: %v, want the one sealed to others", res.BeforeJoining)
	}

	cv, err := f.st.Show(1)
	if err != nil {
		t.Fatal(err)
	}
	if cv.ReplyTo != f.reply.Recipient().String() {
		t.Error("the case's reply key is not the honest report's")
	}
	// Those set aside in the case, and the one waiting for a handover.
	if cv.Problems != len(want)-2+1 {
		t.Errorf("%d problems, want %d", cv.Problems, len(want)-2+1)
	}
	var sound []string
	for _, m := range cv.Messages {
		if m.Problem == "" {
			sound = append(sound, string(m.Kind)+": "+m.envelope.Field("message"))
		}
	}
	if strings.Join(sound, "|") != "report: the honest report" {
		t.Errorf("the case shows %q as sound, want only the honest report", sound)
	}
}
